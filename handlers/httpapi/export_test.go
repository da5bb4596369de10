package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"
)

// RouterOf returns the router inside a handler from NewHandler, for the test
// that compares its routes with the OpenAPI document.
func RouterOf(h http.Handler) *mux.Router { return h.(handler).router }
