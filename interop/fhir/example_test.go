package fhir_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/storage"
)

// Mount the handler at /fhir on a server, create a Patient and read it back.
func ExampleNewHandler() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "fhir-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "nexus.db"), storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		log.Fatal(err)
	}
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{
		NewID: func() string { return "example-1" },
	})
	if err != nil {
		log.Fatal(err)
	}

	h := http.StripPrefix("/fhir", fhir.NewHandler(fhir.Config{Service: svc}))
	mux := http.NewServeMux()
	mux.Handle("/fhir", h)
	mux.Handle("/fhir/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	patient := `{"resourceType":"Patient","name":[{"family":"Example","given":["Ada"]}]}`
	resp, err := http.Post(srv.URL+"/fhir/Patient", "application/fhir+json", strings.NewReader(patient))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	fmt.Println(strings.TrimPrefix(resp.Header.Get("Location"), srv.URL))
	fmt.Println(resp.Header.Get("ETag"))

	resp, err = http.Get(srv.URL + "/fhir/Patient/example-1")
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Println(strings.Contains(string(body), `"family":"Example"`))
	// Output:
	// 201 Created
	// /fhir/Patient/example-1/_history/1
	// W/"1"
	// 200 OK application/fhir+json; charset=utf-8
	// true
}
