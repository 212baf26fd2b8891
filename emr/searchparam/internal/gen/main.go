// Command gen trims the SearchParameter bundle published with the FHIR R4
// specification to the fields the searchparam package reads, and writes it
// as the package's embedded data file.
//
// Run it by hand from the repository root when the source bundle changes:
//
//	go run ./emr/searchparam/internal/gen path/to/search-parameters.json
//
// It writes emr/searchparam/data/r4-search-parameters.json, one parameter a
// line, sorted by URL.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
)

const outputPath = "emr/searchparam/data/r4-search-parameters.json"

type bundle struct {
	ResourceType string `json:"resourceType"`
	Entry        []struct {
		Resource searchParameter `json:"resource"`
	} `json:"entry"`
}

// searchParameter lists the SearchParameter elements that are kept. The
// JSON names are those of FHIR R4.
type searchParameter struct {
	ResourceType string      `json:"resourceType,omitempty"`
	URL          string      `json:"url"`
	Code         string      `json:"code"`
	Base         []string    `json:"base"`
	Type         string      `json:"type"`
	Expression   string      `json:"expression,omitempty"`
	Target       []string    `json:"target,omitempty"`
	Component    []component `json:"component,omitempty"`
}

type component struct {
	Definition string `json:"definition"`
	Expression string `json:"expression"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./emr/searchparam/internal/gen SEARCH-PARAMETERS.json")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(sourcePath string) error {
	raw, err := os.ReadFile(sourcePath)
	if err != nil {
		return err
	}
	var b bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return fmt.Errorf("decode %s: %w", sourcePath, err)
	}
	if b.ResourceType != "Bundle" {
		return fmt.Errorf("%s: resourceType is %q, expected Bundle", sourcePath, b.ResourceType)
	}
	params := make([]searchParameter, 0, len(b.Entry))
	for i, e := range b.Entry {
		p := e.Resource
		if p.ResourceType != "SearchParameter" {
			return fmt.Errorf("entry %d: resourceType is %q, expected SearchParameter", i, p.ResourceType)
		}
		if p.URL == "" || p.Code == "" || p.Type == "" || len(p.Base) == 0 {
			return fmt.Errorf("entry %d (%s): url, code, type or base is missing", i, p.URL)
		}
		p.ResourceType = ""
		params = append(params, p)
	}
	if len(params) == 0 {
		return errors.New("the bundle has no SearchParameter entries")
	}
	sort.Slice(params, func(i, j int) bool { return params[i].URL < params[j].URL })

	var out bytes.Buffer
	out.WriteString("[\n")
	for i, p := range params {
		line, err := json.Marshal(p)
		if err != nil {
			return err
		}
		out.Write(line)
		if i < len(params)-1 {
			out.WriteByte(',')
		}
		out.WriteByte('\n')
	}
	out.WriteString("]\n")
	if err := os.WriteFile(outputPath, out.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %d search parameters to %s\n", len(params), outputPath)
	return nil
}
