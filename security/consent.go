package security

import (
	"strconv"
	"strings"
	"time"
)

// interactionVerbs are the plain words of the SMART v2 letters, in
// "cruds" order.
var interactionVerbs = []struct {
	letter byte
	verb   string
}{{'c', "create"}, {'r', "read"}, {'u', "update"}, {'d', "delete"}, {'s', "search"}}

// launchDescriptions are the plain words of the non-resource scopes the
// consent page can show.
var launchDescriptions = map[string]string{
	"launch/patient": "Pick the patient the app works on.",
	"launch":         "Start in the context of this server.",
	"openid":         "Learn who you are.",
	"fhirUser":       "Learn which practitioner or patient record describes you.",
	"online_access":  "Keep access while you are signed in.",
	"offline_access": "Keep access after you sign out.",
}

// breakGlassConsent returns the consent sentence of ScopeBreakGlass,
// which names maxLifetime as the maximum grant duration.
func breakGlassConsent(maxLifetime time.Duration) string {
	limit := strconv.FormatInt(int64(maxLifetime/time.Minute), 10) + " minutes"
	if maxLifetime%time.Hour == 0 {
		limit = strconv.FormatInt(int64(maxLifetime/time.Hour), 10) + " hours"
	}
	return "Break the glass: open the record of a patient outside your care for up to " + limit +
		", after you state a reason. Every such access is recorded in the audit log."
}

// consentScopes returns one plain sentence per scope that Authorize would
// grant client for the requested scope string, so the page shows what the
// app gets and not what it requested.
func (s *Service) consentScopes(client Client, requested string) []string {
	parsed := ParseScopes(requested)
	var resource []Scope
	for _, sc := range parsed.Resource {
		if sc.Context != ContextSystem {
			resource = append(resource, sc)
		}
	}
	var out []string
	for _, sc := range NarrowScopes(resource, ParseScopes(client.Scopes).Resource) {
		out = append(out, describeScope(sc))
	}
	for _, name := range grantedLaunch(parsed.Launch, client) {
		text, ok := launchDescriptions[name]
		if name == ScopeBreakGlass {
			text, ok = breakGlassConsent(s.cfg.MaxBreakGlassLifetime), true
		}
		if ok {
			out = append(out, text+" ("+name+")")
		}
	}
	return out
}

// describeScope returns the consent sentence of a resource scope, such as "Read and search
// Observation records of the selected patient (patient/Observation.rs)".
func describeScope(sc Scope) string {
	var verbs []string
	for _, v := range interactionVerbs {
		if strings.IndexByte(sc.Interactions, v.letter) >= 0 {
			verbs = append(verbs, v.verb)
		}
	}
	text := joinWords(verbs)
	text = strings.ToUpper(text[:1]) + text[1:]
	records := sc.Type + " records"
	if sc.Type == "*" {
		records = "all records"
	}
	reach := "of the selected patient"
	if sc.Context == ContextUser {
		reach = "that you may see"
	}
	return text + " " + records + " " + reach + " (" + sc.String() + ")"
}

// joinWords joins words as "a, b and c".
func joinWords(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
