package match

// The encodeX methods below follow the letter rules of Double Metaphone. Each
// takes the position of its letter and returns the position of the next
// letter to encode. Example words name the spelling each rule is for.

func (m *metaphoner) encodeC(cur int) int {
	// Germanic "ach", as in Bacher and Macher, but not in Bach.
	if cur > 1 && !m.vowel(cur-2) && m.has(cur-1, "ACH") &&
		m.at(cur+2) != 'I' && (m.at(cur+2) != 'E' || m.has(cur-2, "BACHER", "MACHER")) {
		m.add("K")
		return cur + 2
	}

	if cur == 0 && m.has(cur, "CAESAR") {
		m.add("S")
		return cur + 2
	}

	// Italian "chianti".
	if m.has(cur, "CHIA") {
		m.add("K")
		return cur + 2
	}

	if m.has(cur, "CH") {
		return m.encodeCH(cur)
	}

	// Polish "cz", as in Czerny, but not Wicz.
	if m.has(cur, "CZ") && !m.has(cur-2, "WICZ") {
		m.add2("S", "X")
		return cur + 2
	}

	// Italian "focaccia".
	if m.has(cur+1, "CIA") {
		m.add("X")
		return cur + 3
	}

	// Double C, but not as in McClellan.
	if m.has(cur, "CC") && !(cur == 1 && m.at(0) == 'M') {
		if m.has(cur+2, "I", "E", "H") && !m.has(cur+2, "HU") {
			// Accident and accede sound KS, and Bellocchio sounds X. Bacchus,
			// with "hu" after the CC, falls through to K.
			if (cur == 1 && m.at(0) == 'A') || m.has(cur-1, "UCCEE", "UCCES") {
				m.add("KS")
			} else {
				m.add("X")
			}
			return cur + 3
		}
		m.add("K")
		return cur + 2
	}

	if m.has(cur, "CK", "CG", "CQ") {
		m.add("K")
		return cur + 2
	}

	if m.has(cur, "CI", "CE", "CY") {
		// Italian "cio", "cie" and "cia", as in Ciotti.
		if m.has(cur, "CIO", "CIE", "CIA") {
			m.add2("S", "X")
		} else {
			m.add("S")
		}
		return cur + 2
	}

	m.add("K")
	switch {
	case m.has(cur+1, " C", " Q", " G"):
		return cur + 3
	case m.has(cur+1, "C", "K", "Q") && !m.has(cur+1, "CE", "CI"):
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeCH(cur int) int {
	// Michael.
	if cur > 0 && m.has(cur, "CHAE") {
		m.add2("K", "X")
		return cur + 2
	}

	// Greek roots at the start, as in Chemistry and Chorus, but not Chore.
	if cur == 0 && (m.has(cur+1, "HARAC", "HARIS") || m.has(cur+1, "HOR", "HYM", "HIA", "HEM")) &&
		!m.has(0, "CHORE") {
		m.add("K")
		return cur + 2
	}

	// Germanic and Greek "ch" sounding K, as in Orchestra, Architect and
	// Schmidt, or before a consonant, as in Christ and Achtung.
	if m.has(0, "VAN ", "VON ", "SCH") || m.has(cur-2, "ORCHES", "ARCHIT", "ORCHID") ||
		m.has(cur+2, "T", "S") ||
		((cur == 0 || m.has(cur-1, "A", "O", "U", "E")) &&
			(m.has(cur+2, "L", "R", "N", "M", "B", "H", "F", "V", "W", " ") || cur+1 == m.last)) {
		m.add("K")
		return cur + 2
	}

	switch {
	case cur == 0:
		m.add("X")
	case m.has(0, "MC"):
		// McHugh.
		m.add("K")
	default:
		m.add2("X", "K")
	}
	return cur + 2
}

func (m *metaphoner) encodeD(cur int) int {
	if m.has(cur, "DG") {
		// Edge.
		if m.has(cur+2, "I", "E", "Y") {
			m.add("J")
			return cur + 3
		}
		// Edgar.
		m.add("TK")
		return cur + 2
	}

	m.add("T")
	if m.has(cur, "DT", "DD") {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeG(cur int) int {
	if m.at(cur+1) == 'H' {
		return m.encodeGH(cur)
	}

	if m.at(cur+1) == 'N' {
		switch {
		case cur == 1 && m.vowel(0) && !m.slavoGermanic:
			m.add2("KN", "N")
		case !m.has(cur+2, "EY") && !m.slavoGermanic:
			// Not as in Cagney.
			m.add2("N", "KN")
		default:
			m.add("KN")
		}
		return cur + 2
	}

	// Tagliaro.
	if m.has(cur+1, "LI") && !m.slavoGermanic {
		m.add2("KL", "L")
		return cur + 2
	}

	// Initial G before e, i or y, as in Gerber and Gilbert.
	if cur == 0 && (m.at(cur+1) == 'Y' ||
		m.has(cur+1, "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER")) {
		m.add2("K", "J")
		return cur + 2
	}

	// "ger" and "gy", but not as in Danger, Ranger, Manger, Rogier or Rogy.
	if (m.has(cur+1, "ER") || m.at(cur+1) == 'Y') && !m.has(0, "DANGER", "RANGER", "MANGER") &&
		!m.has(cur-1, "E", "I") && !m.has(cur-1, "RGY", "OGY") {
		m.add2("K", "J")
		return cur + 2
	}

	// Italian "biaggi".
	if m.has(cur+1, "E", "I", "Y") || m.has(cur-1, "AGGI", "OGGI") {
		switch {
		case m.has(0, "VAN ", "VON ", "SCH") || m.has(cur+1, "ET"):
			m.add("K")
		case m.has(cur+1, "IER "):
			m.add("J")
		default:
			m.add2("J", "K")
		}
		return cur + 2
	}

	m.add("K")
	if m.at(cur+1) == 'G' {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeGH(cur int) int {
	if cur > 0 && !m.vowel(cur-1) {
		m.add("K")
		return cur + 2
	}

	// Ghislane and Ghiradelli.
	if cur == 0 {
		if m.at(cur+2) == 'I' {
			m.add("J")
		} else {
			m.add("K")
		}
		return cur + 2
	}

	// Parker's rule for a silent "gh", as in Hugh, Bough and Broughton.
	if (cur > 1 && m.has(cur-2, "B", "H", "D")) || (cur > 2 && m.has(cur-3, "B", "H", "D")) ||
		(cur > 3 && m.has(cur-4, "B", "H")) {
		return cur + 2
	}

	// Laugh, McLaughlin, Cough, Gough, Rough and Tough sound F.
	if cur > 2 && m.at(cur-1) == 'U' && m.has(cur-3, "C", "G", "L", "R", "T") {
		m.add("F")
	} else if m.at(cur-1) != 'I' {
		m.add("K")
	}
	return cur + 2
}

func (m *metaphoner) encodeH(cur int) int {
	// Only an H between vowels or at the start before a vowel is spoken.
	if (cur == 0 || m.vowel(cur-1)) && m.vowel(cur+1) {
		m.add("H")
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeJ(cur int) int {
	// Spanish Jose and San Jacinto.
	if m.has(cur, "JOSE") || m.has(0, "SAN ") {
		if (cur == 0 && m.at(cur+4) == ' ') || m.has(0, "SAN ") {
			m.add("H")
		} else {
			m.add2("J", "H")
		}
		return cur + 1
	}

	switch {
	case cur == 0:
		// Yankelovich and Jankelowicz.
		m.add2("J", "A")
	case m.vowel(cur-1) && !m.slavoGermanic && (m.at(cur+1) == 'A' || m.at(cur+1) == 'O'):
		// Spanish pronunciation, as in Bajador.
		m.add2("J", "H")
	case cur == m.last:
		m.add2("J", "")
	case !m.has(cur+1, "L", "T", "K", "S", "N", "M", "B", "Z") && !m.has(cur-1, "S", "K", "L"):
		m.add("J")
	}

	if m.at(cur+1) == 'J' {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeL(cur int) int {
	if m.at(cur+1) != 'L' {
		m.add("L")
		return cur + 1
	}

	// Spanish "ll", as in Cabrillo and Gallegos, where the alternate drops L.
	if (cur == m.n-3 && m.has(cur-1, "ILLO", "ILLA", "ALLE")) ||
		((m.has(m.last-1, "AS", "OS") || m.has(m.last, "A", "O")) && m.has(cur-1, "ALLE")) {
		m.add2("L", "")
		return cur + 2
	}

	m.add("L")
	return cur + 2
}

func (m *metaphoner) encodeM(cur int) int {
	m.add("M")
	// Dumb and Thumb, where the B is silent.
	if (m.has(cur-1, "UMB") && (cur+1 == m.last || m.has(cur+2, "ER"))) || m.at(cur+1) == 'M' {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeP(cur int) int {
	if m.at(cur+1) == 'H' {
		m.add("F")
		return cur + 2
	}

	// Campbell and Raspberry.
	m.add("P")
	if m.has(cur+1, "P", "B") {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeR(cur int) int {
	// French final "ier", as in Rogier, but not Meier or Maier.
	if cur == m.last && !m.slavoGermanic && m.has(cur-2, "IE") && !m.has(cur-4, "ME", "MA") {
		m.add2("", "R")
	} else {
		m.add("R")
	}

	if m.at(cur+1) == 'R' {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeS(cur int) int {
	// Silent S, as in Island, Isle and Carlysle.
	if m.has(cur-1, "ISL", "YSL") {
		return cur + 1
	}

	if cur == 0 && m.has(cur, "SUGAR") {
		m.add2("X", "S")
		return cur + 1
	}

	if m.has(cur, "SH") {
		// Germanic Holm, Holz, Heim and Hoek sound S.
		if m.has(cur+1, "HEIM", "HOEK", "HOLM", "HOLZ") {
			m.add("S")
		} else {
			m.add("X")
		}
		return cur + 2
	}

	// Italian and Armenian "sio" and "sia".
	if m.has(cur, "SIO", "SIA") || m.has(cur, "SIAN") {
		if m.slavoGermanic {
			m.add("S")
		} else {
			m.add2("S", "X")
		}
		return cur + 3
	}

	// German and anglicized forms, as in Smith and Schmidt or Snider and
	// Schneider, and "sz" as in Szell.
	if (cur == 0 && m.has(cur+1, "M", "N", "L", "W")) || m.has(cur+1, "Z") {
		m.add2("S", "X")
		if m.has(cur+1, "Z") {
			return cur + 2
		}
		return cur + 1
	}

	if m.has(cur, "SC") {
		return m.encodeSC(cur)
	}

	// French final S, as in Resnais and Artois.
	if cur == m.last && m.has(cur-2, "AI", "OI") {
		m.add2("", "S")
	} else {
		m.add("S")
	}

	if m.has(cur+1, "S", "Z") {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeSC(cur int) int {
	if m.at(cur+2) == 'H' {
		// Dutch Schooner and Schermerhorn.
		if m.has(cur+3, "OO", "ER", "EN", "UY", "ED", "EM") {
			if m.has(cur+3, "ER", "EN") {
				m.add2("X", "SK")
			} else {
				m.add("SK")
			}
			return cur + 3
		}
		if cur == 0 && !m.vowel(3) && m.at(3) != 'W' {
			m.add2("X", "S")
		} else {
			m.add("X")
		}
		return cur + 3
	}

	if m.has(cur+2, "I", "E", "Y") {
		m.add("S")
		return cur + 3
	}

	m.add("SK")
	return cur + 3
}

func (m *metaphoner) encodeT(cur int) int {
	if m.has(cur, "TION") {
		m.add("X")
		return cur + 3
	}

	if m.has(cur, "TIA", "TCH") {
		m.add("X")
		return cur + 3
	}

	if m.has(cur, "TH", "TTH") {
		// Thomas and Thames, or Germanic names, sound T.
		if m.has(cur+2, "OM", "AM") || m.has(0, "VAN ", "VON ", "SCH") {
			m.add("T")
		} else {
			m.add2("0", "T")
		}
		return cur + 2
	}

	m.add("T")
	if m.has(cur+1, "T", "D") {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeW(cur int) int {
	if m.has(cur, "WR") {
		m.add("R")
		return cur + 2
	}

	// Initial W before a vowel, as in Wasserman, or "wh", as in Whumpf.
	if cur == 0 && (m.vowel(cur+1) || m.has(cur, "WH")) {
		if m.vowel(cur + 1) {
			m.add2("A", "F")
		} else {
			m.add("A")
		}
	}

	// Polish final W, as in Filipowicz and Tsjechowsky.
	if (cur == m.last && m.vowel(cur-1)) || m.has(cur-1, "EWSKI", "EWSKY", "OWSKI", "OWSKY") ||
		m.has(0, "SCH") {
		m.add2("", "F")
		return cur + 1
	}

	if m.has(cur, "WICZ", "WITZ") {
		m.add2("TS", "FX")
		return cur + 4
	}
	return cur + 1
}

func (m *metaphoner) encodeX(cur int) int {
	// French final X is silent, as in Breaux.
	if !(cur == m.last && (m.has(cur-3, "IAU", "EAU") || m.has(cur-2, "AU", "OU"))) {
		m.add("KS")
	}

	if m.has(cur+1, "C", "X") {
		return cur + 2
	}
	return cur + 1
}

func (m *metaphoner) encodeZ(cur int) int {
	// Chinese pinyin, as in Zhao.
	if m.at(cur+1) == 'H' {
		m.add("J")
		return cur + 2
	}

	if m.has(cur+1, "ZO", "ZI", "ZA") || (m.slavoGermanic && cur > 0 && m.at(cur-1) != 'T') {
		m.add2("S", "TS")
	} else {
		m.add("S")
	}

	if m.at(cur+1) == 'Z' {
		return cur + 2
	}
	return cur + 1
}
