package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// openAPIYAML is the API's contract. Tests check that it is a valid OpenAPI
// document, that its paths and operations are exactly the router's, and that
// every response the handlers give matches it.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIJSON converts the document once, on first request.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load embedded openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
})

func serveOpenAPIYAML(w http.ResponseWriter, _ *http.Request) error {
	writeBody(w, http.StatusOK, "application/yaml", openAPIYAML)
	return nil
}

func serveOpenAPIJSON(w http.ResponseWriter, _ *http.Request) error {
	body, err := openAPIJSON()
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, "application/json", body)
	return nil
}
