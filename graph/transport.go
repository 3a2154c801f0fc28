package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
)

// postTransport serves POST /graphql with a JSON body. It replaces gqlgen's
// so that every answer, malformed requests included, goes through the
// error presenter (gqlgen's would echo a malformed body back), a JSON array
// (batching) is refused with its own code, and a request refused before
// execution gets the HTTP status of its code.
type postTransport struct{}

var _ graphql.Transport = postTransport{}

func (postTransport) Supports(r *http.Request) bool { return r.Method == http.MethodPost }

func (postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		resp := exec.DispatchError(ctx, gqlerror.List{requestError(
			apperror.Validationf("No se pudo leer el cuerpo de la solicitud."), nil)})
		writeResponse(w, contentType, http.StatusBadRequest, resp)
		return
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		resp := exec.DispatchError(ctx, gqlerror.List{requestError(apperror.Limitf(apperror.BatchingNotSupported,
			"No se admiten lotes de operaciones (un arreglo JSON): envíe una operación por solicitud."), nil)})
		writeResponse(w, contentType, http.StatusBadRequest, resp)
		return
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil || len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		resp := exec.DispatchError(ctx, gqlerror.List{requestError(apperror.Validationf(
			"El cuerpo de la solicitud no es un JSON válido de GraphQL: {\"query\": \"...\", \"variables\": {...}}."), nil)})
		writeResponse(w, contentType, http.StatusBadRequest, resp)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	respond(w, r, exec, opCtx, errs, contentType)
}

// respond runs a prepared operation, or reports why it could not be
// prepared, and writes the response: the shared tail of both transports.
func respond(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, opCtx *graphql.OperationContext, errs gqlerror.List, contentType string) {
	ctx := r.Context()
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, contentType, requestErrorStatus(contentType, errs), resp)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, contentType, http.StatusOK, responses(ctx))
}

// getTransport serves queries over GET (?query=…&variables=…). It replaces
// gqlgen's, which writes some errors (bad variables, a mutation over GET)
// without going through the error presenter.
type getTransport struct{}

var _ graphql.Transport = getTransport{}

func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	q := r.URL.Query()
	params := &graphql.RawParams{
		Query:         q.Get("query"),
		OperationName: q.Get("operationName"),
		Headers:       r.Header,
	}
	params.ReadTime.Start = graphql.Now()
	for name, dst := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(dst); err != nil {
				resp := exec.DispatchError(ctx, gqlerror.List{requestError(
					apperror.Invalid(name, "Debe ser un objeto JSON."), nil)})
				writeResponse(w, contentType, http.StatusBadRequest, resp)
				return
			}
		}
	}
	params.ReadTime.End = graphql.Now()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs == nil && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{requestError(
			apperror.Validationf("Las mutaciones solo se aceptan por POST."), nil)})
		writeResponse(w, contentType, http.StatusMethodNotAllowed, resp)
		return
	}
	respond(w, r, exec, opCtx, errs, contentType)
}
