package gqlserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/mediatype"
)

// postTransport serves POST /graphql with a JSON body. It replaces gqlgen's
// so that every answer, malformed requests included, goes through the
// error presenter (gqlgen's would echo a malformed body back), a JSON array
// (batching) is refused with its own code, and a request refused before
// execution gets the HTTP status of its code.
type postTransport struct {
	// idempotency answers mutations sent with an Idempotency-Key
	// (idempotency.go); nil when the server keeps no keys.
	idempotency *idempotency
}

var _ graphql.Transport = postTransport{}

func (postTransport) Supports(r *http.Request) bool { return r.Method == http.MethodPost }

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	params, appErr := readPOST(r)
	if appErr != nil {
		refuse(ctx, w, exec, contentType, appErr)
		return
	}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs == nil && t.idempotency.serve(w, r, exec, params, opCtx, contentType) {
		return
	}
	respond(w, r, exec, opCtx, errs, contentType)
}

// readPOST reads a POST's JSON body as GraphQL request parameters, or
// says why it cannot: a body that cannot be read, a JSON array (batching),
// anything but one JSON object.
func readPOST(r *http.Request) (*graphql.RawParams, *apperror.Error) {
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, apperror.Validationf("No se pudo leer el cuerpo de la solicitud.")
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		return nil, apperror.Errorf(apperror.BatchingNotSupported,
			"No se admiten lotes de operaciones (un arreglo JSON): envíe una operación por solicitud.")
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil || len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return nil, apperror.Validationf(
			"El cuerpo de la solicitud no es un JSON válido de GraphQL: {\"query\": \"...\", \"variables\": {...}}.")
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	return params, nil
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
	params, appErr := readGET(r)
	if appErr != nil {
		refuse(ctx, w, exec, contentType, appErr)
		return
	}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs == nil && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		// The status names the HTTP rule broken; the code stays
		// VALIDATION_ERROR.
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{requestError(
			apperror.Validationf("Las mutaciones solo se aceptan por POST."), nil)})
		writeResponse(w, contentType, http.StatusMethodNotAllowed, resp)
		return
	}
	respond(w, r, exec, opCtx, errs, contentType)
}

// readGET reads a GET's query string (?query=…&variables=…) as GraphQL
// request parameters, or says which parameter is not a JSON object.
func readGET(r *http.Request) (*graphql.RawParams, *apperror.Error) {
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
				return nil, apperror.Invalid(name, "Debe ser un objeto JSON.")
			}
		}
	}
	params.ReadTime.End = graphql.Now()
	return params, nil
}

// refuse answers a request that could not even be read as GraphQL, with the
// status of appErr's code.
func refuse(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, contentType string, appErr *apperror.Error) {
	resp := exec.DispatchError(ctx, gqlerror.List{requestError(appErr, nil)})
	writeResponse(w, contentType, appErr.Code.HTTPStatus(), resp)
}

// respond runs a prepared operation, or reports why it could not be
// prepared, and writes the response: the shared tail of both transports.
//
// A request whose context ended is answered by how it ended. The client
// went away (context.Canceled: net/http cancels a request whose connection
// closed): nothing is written, as no one would read it; the access log
// records it. The request's deadline passed: TIMEOUT. gqlgen's executor
// hands back no response at all (nil) when the context ended before the
// operation started.
func respond(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, opCtx *graphql.OperationContext, errs gqlerror.List, contentType string) {
	ctx := r.Context()
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, contentType, refusedStatus(contentType, resp), resp)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if errors.Is(ctx.Err(), context.Canceled) {
		return
	}
	if resp == nil {
		appErr := apperror.New(apperror.Timeout)
		if ctx.Err() == nil {
			// Not expected with a live context; answer rather than crash.
			appErr = apperror.InternalError(errors.New("el ejecutor GraphQL no produjo respuesta"))
		}
		resp = exec.DispatchError(ctx, gqlerror.List{requestError(appErr, nil)})
	}
	writeResponse(w, contentType, executedStatus(resp), resp)
}

// executedStatus is the status of an operation that was dispatched: 200
// whatever its field errors, as GraphQL over HTTP asks, unless the
// database was unreachable or the deadline cut it short: then the status
// of SERVICE_UNAVAILABLE or TIMEOUT, so that proxies, load balancers and
// clients see an outage or a timeout without reading the body. An outage
// wins: it is what a retry waits for.
func executedStatus(resp *graphql.Response) int {
	status := http.StatusOK
	for _, e := range resp.Errors {
		switch code, _ := e.Extensions["code"].(string); apperror.Code(code) {
		case apperror.Unavailable:
			return apperror.Unavailable.HTTPStatus()
		case apperror.Timeout:
			status = apperror.Timeout.HTTPStatus()
		}
	}
	return status
}

// requestError is an error that stops an operation before execution (a
// rule the query breaks). It is marked as a GraphQL validation failure, so
// the transports answer it with a 4xx status as GraphQL over HTTP asks; the
// presenter shows appErr's code.
func requestError(appErr *apperror.Error, pos *ast.Position) *gqlerror.Error {
	err := &gqlerror.Error{Message: appErr.Message, Err: appErr}
	if pos != nil {
		err.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// refusedStatus is the status of a request refused before execution: the
// status of its first error's code, except that a 400 is a 422 under
// application/json, the status gqlgen's own transports give a document
// that does not validate, which clients of this API have seen from the
// start. Under application/graphql-response+json it stays 400, as GraphQL
// over HTTP asks.
func refusedStatus(contentType string, resp *graphql.Response) int {
	status := apperror.Validation.HTTPStatus()
	if len(resp.Errors) > 0 {
		if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
			status = apperror.Code(code).HTTPStatus()
		}
	}
	if status == http.StatusBadRequest && contentType != mediaGraphQLJSON {
		return http.StatusUnprocessableEntity
	}
	return status
}

const (
	mediaGraphQLJSON  = mediatype.GraphQLResponse
	contentTypeHeader = "Content-Type"
)

// responseContentType negotiates GraphQL over HTTP's media type:
// application/graphql-response+json when the client accepts it,
// application/json otherwise (internal/mediatype, shared with the HTTP
// shell's own errors).
func responseContentType(r *http.Request) string {
	return mediatype.Negotiate(r.Header.Get("Accept"))
}

// writeResponse writes resp as JSON. The data is already JSON (gqlgen wrote
// it); encoding/json would compact and re-validate it byte by byte, which
// took 6 % of the server's CPU on a page of results, so it is written as is
// and only errors and extensions go through encoding/json. Requests do not
// use incremental delivery, so Label, Path and HasNext are always empty.
//
// A response of an operation that executed has data (null where a
// non-null field failed: gqlgen writes it); one refused before execution
// (parse, validation, limits, roles, an unreachable database) has none,
// and no data key, as GraphQL over HTTP asks. A 503 tells when to retry
// (Retry-After).
func writeResponse(w http.ResponseWriter, contentType string, status int, resp *graphql.Response) {
	w.Header().Set(contentTypeHeader, contentType)
	if status == apperror.Unavailable.HTTPStatus() {
		w.Header().Set("Retry-After", strconv.Itoa(apperror.Unavailable.RetryAfterSeconds()))
	}
	w.WriteHeader(status)
	buf := make([]byte, 0, len(resp.Data)+256)
	buf = append(buf, '{')
	if len(resp.Errors) > 0 {
		if errs, err := json.Marshal(resp.Errors); err == nil {
			buf = append(append(buf, `"errors":`...), errs...)
		}
	}
	if len(resp.Data) > 0 {
		if len(buf) > 1 {
			buf = append(buf, ',')
		}
		buf = append(append(buf, `"data":`...), resp.Data...)
	}
	if len(resp.Extensions) > 0 {
		if ext, err := json.Marshal(resp.Extensions); err == nil {
			if len(buf) > 1 {
				buf = append(buf, ',')
			}
			buf = append(append(buf, `"extensions":`...), ext...)
		}
	}
	buf = append(buf, '}', '\n')
	_, _ = w.Write(buf)
}
