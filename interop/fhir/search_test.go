package fhir_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// searchIDs runs a search and returns the sorted ids of the matches.
func (s *testServer) searchIDs(query string) []string {
	s.t.Helper()
	resp := s.do(http.MethodGet, "/"+query, "")
	require.Equal(s.t, http.StatusOK, resp.status, "%s: %s", query, resp.body)
	ids := entryIDs(s.t, resp.json(s.t))
	sort.Strings(ids)
	return ids
}

func TestSearchBundle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	s.create("Patient", `{"resourceType":"Patient","name":[{"family":"Otherperson"}]}`)

	resp := s.do(http.MethodGet, "/Patient?family=testperson&_total=accurate", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	b := resp.json(t)
	assert.Equal(t, "Bundle", b["resourceType"])
	assert.Equal(t, "searchset", b["type"])
	assert.Equal(t, float64(1), b["total"])
	list := entries(t, b)
	require.Len(t, list, 1)
	assert.Equal(t, s.base+"/Patient/"+id, list[0]["fullUrl"])
	assert.Equal(t, "match", at(list[0], "search", "mode"))
	assert.Equal(t, id, at(list[0], "resource", "id"))
	self := link(b, "self")
	assert.True(t, strings.HasPrefix(self, s.base+"/Patient?"), self)
	assert.Contains(t, self, "family=testperson")
	assert.Empty(t, link(b, "next"))

	uncounted := s.do(http.MethodGet, "/Patient?family=testperson", "").json(t)
	_, hasTotal := uncounted["total"]
	assert.False(t, hasTotal, "total is left out when not counted")
}

func TestSearchTotal(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for range 3 {
		s.create("Patient", patientBody)
	}
	tests := []struct {
		name     string
		query    string
		hasTotal bool
	}{
		{name: "accurate", query: "_total=accurate", hasTotal: true},
		{name: "estimate", query: "_total=estimate", hasTotal: true},
		{name: "accurate on a short page", query: "_total=accurate&_count=1", hasTotal: true},
		{name: "none", query: "_total=none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, "/Patient?family=testperson&"+tt.query, "")
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			b := resp.json(t)
			total, hasTotal := b["total"]
			require.Equal(t, tt.hasTotal, hasTotal, "%s", resp.body)
			if tt.hasTotal {
				assert.Equal(t, float64(3), total)
			}
		})
	}
}

func TestSearchCountZeroSelfLink(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.create("Patient", patientBody)
	resp := s.do(http.MethodGet, "/Patient?_count=0", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	b := resp.json(t)
	assert.Empty(t, entries(t, b))
	self := link(b, "self")
	u, err := url.Parse(self)
	require.NoError(t, err)
	assert.Equal(t, "0", u.Query().Get("_count"), "self link: %s", self)
}

func TestSearchPost(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	s.create("Patient", `{"resourceType":"Patient","name":[{"family":"Testperson"}],"birthDate":"1990-01-01"}`)

	resp := s.do(http.MethodPost, "/Patient/_search?family=testperson", "birthdate=1980-02-03",
		"Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	assert.Equal(t, []string{id}, entryIDs(t, resp.json(t)))

	xml := s.do(http.MethodPost, "/Patient/_search", "<Parameters/>", "Content-Type", "application/fhir+xml")
	assert.Equal(t, http.StatusUnsupportedMediaType, xml.status)
	get := s.do(http.MethodGet, "/Patient/_search", "")
	assert.Equal(t, http.StatusMethodNotAllowed, get.status)
	assert.Equal(t, "POST", get.header.Get("Allow"))
}

func TestSearchSummaryCount(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for range 3 {
		s.create("Patient", patientBody)
	}
	resp := s.do(http.MethodGet, "/Patient?_summary=count", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	b := resp.json(t)
	assert.Equal(t, float64(3), b["total"])
	assert.Empty(t, entries(t, b))
}

func TestSearchPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	want := map[string]bool{}
	for i := range 7 {
		id := s.create("Patient", fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Pager","given":["N%d"]}]}`, i))
		want[id] = true
	}
	s.create("Patient", `{"resourceType":"Patient","name":[{"family":"Elsewhere"}]}`)

	tests := []struct {
		name string
		// follow turns a next link into the request to send.
		follow func(next string) string
	}{
		{name: "full next link", follow: func(next string) string { return next }},
		{name: "query string only", follow: func(next string) string {
			u, err := url.Parse(next)
			require.NoError(t, err)
			return "/Patient?" + u.RawQuery
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			pages := 0
			target := "/Patient?family=pager&_count=3"
			for target != "" {
				resp := s.do(http.MethodGet, target, "")
				require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
				b := resp.json(t)
				pages++
				require.LessOrEqual(t, pages, 5, "paging does not end")
				for _, id := range entryIDs(t, b) {
					assert.False(t, seen[id], "id %s on two pages", id)
					seen[id] = true
				}
				next := link(b, "next")
				if next == "" {
					break
				}
				assert.True(t, strings.HasPrefix(next, s.base+"/Patient?"), next)
				assert.Contains(t, next, "_cursor=")
				assert.Contains(t, next, "family=pager")
				assert.Contains(t, next, "_count=3")
				target = tt.follow(next)
			}
			assert.Equal(t, 3, pages)
			assert.Equal(t, want, seen)
		})
	}
}

func TestSearchErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{name: "unknown parameter", query: "/Patient?shoe-size=9", status: http.StatusBadRequest, code: "not-supported"},
		{name: "invalid date", query: "/Patient?birthdate=soon", status: http.StatusBadRequest, code: "value"},
		{name: "invalid count", query: "/Patient?_count=many", status: http.StatusBadRequest, code: "value"},
		{name: "unsupported modifier", query: "/Patient?birthdate:exact=2000", status: http.StatusBadRequest, code: "not-supported"},
		{name: "unsupported summary", query: "/Patient?_summary=true", status: http.StatusBadRequest, code: "not-supported"},
		{name: "special parameter without support", query: "/Observation?_content=x", status: http.StatusBadRequest, code: "not-supported"},
		{name: "bad escape", query: "/Patient?family=%zz", status: http.StatusBadRequest, code: "invalid"},
		{name: "unknown type", query: "/Patients?family=x", status: http.StatusNotFound, code: "not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, tt.query, "")
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, "error", first["severity"])
			assert.Equal(t, tt.code, first["code"])
			assert.NotEmpty(t, first["diagnostics"])
		})
	}
}

func TestSearchBirthdate(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ids := map[string]string{}
	for _, date := range []string{"2073", "1973-06", "1973-06-03", "1973-06-04"} {
		ids[date] = s.create("Patient", `{"resourceType":"Patient","birthDate":"`+date+`"}`)
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "after a year", query: "birthdate=gt2072-01-01", want: []string{"2073"}},
		{name: "month", query: "birthdate=1973-06", want: []string{"1973-06", "1973-06-03", "1973-06-04"}},
		{name: "day", query: "birthdate=1973-06-03", want: []string{"1973-06-03"}},
		// FHIR R4 ge and le match a target whose range overlaps the range
		// above or below the value, so June 1973 (1 to 30 June) satisfies
		// both ge1973-06-03 and le1973-06-03.
		{name: "closed range", query: "birthdate=ge1973-06-03&birthdate=le1973-06-03", want: []string{"1973-06", "1973-06-03"}},
		{name: "before a day", query: "birthdate=lt1973-06-04", want: []string{"1973-06", "1973-06-03"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, d := range tt.want {
				want = append(want, ids[d])
			}
			sort.Strings(want)
			assert.Equal(t, want, s.searchIDs("Patient?"+tt.query))
		})
	}
}

func TestSearchQuantityPrecision(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ids := map[string]string{}
	for _, value := range []string{"140.0", "1.50", "0.700"} {
		body := `{"resourceType":"Observation","status":"final","code":{"text":"test"},` +
			`"valueQuantity":{"value":` + value + `,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`
		id := s.create("Observation", body)
		ids[value] = id
		read := s.do(http.MethodGet, "/Observation/"+id, "")
		require.Equal(t, http.StatusOK, read.status)
		assert.Regexp(t, `"value":`+regexp.QuoteMeta(value)+`[,}]`, string(read.body), "decimal %s keeps its lexical form", value)
	}

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "value with unit", query: "value-quantity=" + url.QueryEscape("140.0|http://unitsofmeasure.org|mm[Hg]"), want: []string{"140.0"}},
		{name: "value without unit", query: "value-quantity=1.5", want: []string{"1.50"}},
		{name: "integer", query: "value-quantity=140", want: []string{"140.0"}},
		{name: "small decimal", query: "value-quantity=0.7", want: []string{"0.700"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, v := range tt.want {
				want = append(want, ids[v])
			}
			sort.Strings(want)
			assert.Equal(t, want, s.searchIDs("Observation?"+tt.query))
		})
	}
}

func TestSearchUnicodeNames(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	greek := s.create("Patient", `{"resourceType":"Patient","name":[{"family":"ΠΑΠΑΔΟΠΟΎΛΟΥ"}]}`)
	german := s.create("Patient", `{"resourceType":"Patient","name":[{"family":"Müller","given":["Zoë"]}],`+
		`"identifier":[{"system":"http://hosp.example/mrn","value":"ÜBER-20"}]}`)

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "greek lower case", query: "family=" + url.QueryEscape("παπαδοπουλου"), want: []string{greek}},
		{name: "greek contains", query: "family:contains=" + url.QueryEscape("ΔΟΠΟΎ"), want: []string{greek}},
		{name: "umlaut folded", query: "family=muller", want: []string{german}},
		{name: "decomposed given", query: "name=" + url.QueryEscape("Zoe\u0308"), want: []string{german}},
		{name: "token exact", query: "identifier=" + url.QueryEscape("http://hosp.example/mrn|ÜBER-20"), want: []string{german}},
		{name: "token case differs", query: "identifier=" + url.QueryEscape("http://hosp.example/mrn|uber-20"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, s.searchIDs("Patient?"+tt.query))
		})
	}
}

func TestSearchUnindexedParameters(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name  string
		query string
	}{
		{name: "text", query: "/Patient?_text=hello"},
		{name: "content", query: "/Patient?_content=hello"},
		{name: "query", query: "/Patient?_query=named"},
		{name: "summary true", query: "/Patient?_summary=true"},
		{name: "summary value not echoed", query: "/Patient?_summary=" + secretFamily},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, tt.query, "")
			require.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
			assert.Equal(t, "not-supported", issue(t, resp.json(t))["code"])
			assert.NotContains(t, string(resp.body), secretFamily)
		})
	}
}

func TestSearchLenientHandling(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.create("Patient", `{"resourceType":"Patient","gender":"female"}`)
	strict := s.do(http.MethodGet, "/Patient?gender=female&colour=blue", "")
	assert.Equal(t, http.StatusBadRequest, strict.status, "unknown parameters are errors by default")

	lenient := s.do(http.MethodGet, "/Patient?gender=female&colour=blue", "", "Prefer", "handling=lenient")
	require.Equal(t, http.StatusOK, lenient.status, "%s", lenient.body)
	list := entries(t, lenient.json(t))
	require.Len(t, list, 2, "the match and a warning")
	assert.Equal(t, "OperationOutcome", at(list[0], "resource", "resourceType"))
	assert.Contains(t, at(list[0], "resource", "issue", 0, "diagnostics"), "colour")
	assert.Equal(t, "Patient", at(list[1], "resource", "resourceType"))
}

func TestSearchElementsAndSummaryData(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i := 0; i < 3; i++ {
		s.create("Patient", `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"gender":"female","birthDate":"1980-01-0`+fmt.Sprint(i+1)+`","name":[{"family":"Cut"}]}`)
	}
	elems := s.do(http.MethodGet, "/Patient?_elements=gender&_count=2", "")
	require.Equal(t, http.StatusOK, elems.status, "%s", elems.body)
	b := elems.json(t)
	first := at(b, "entry", 0, "resource").(map[string]any)
	assert.Equal(t, "female", first["gender"])
	assert.Nil(t, first["birthDate"], "elements not asked for are left out")
	assert.Nil(t, first["text"])
	assert.NotNil(t, first["id"])
	assert.Equal(t, "SUBSETTED", at(first, "meta", "tag", 0, "code"))
	assert.Contains(t, link(b, "next"), "_elements=gender", "the next page keeps the subset")

	data := s.do(http.MethodGet, "/Patient?_summary=data", "")
	require.Equal(t, http.StatusOK, data.status, "%s", data.body)
	r := at(data.json(t), "entry", 0, "resource").(map[string]any)
	assert.Nil(t, r["text"], "_summary=data leaves out the narrative")
	assert.Equal(t, "1980-01-01", r["birthDate"])

	for _, q := range []string{"_elements=name.family", "_summary=true", "_summary=text&_elements=name", "_elements=gender&_summary=data"} {
		resp := s.do(http.MethodGet, "/Patient?"+q, "")
		assert.Equal(t, http.StatusBadRequest, resp.status, q)
	}
}
