package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/reqlog"
)

// HandlerConfig holds what the GraphQL endpoint needs.
type HandlerConfig struct {
	Client   *ent.Client
	Services Services
	Logger   *slog.Logger
	// Introspection allows __schema and __type queries (the playground
	// needs them). When off, field suggestions ("Did you mean") are off too.
	Introspection bool
}

// queryCacheSize bounds the parsed-query cache (documents, not results).
const queryCacheSize = 1000

// NewHandler builds the /graphql endpoint: gqlgen's server assembled
// explicitly (never NewDefaultServer) with GET and POST transports following
// GraphQL over HTTP, a parsed-query cache, the page-size rules, the error
// presenter and the panic recovery.
func NewHandler(cfg HandlerConfig) http.Handler {
	srv := handler.New(NewExecutableSchema(NewSchemaConfig(cfg)))
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost}})
	srv.AddTransport(getTransport{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetValidationRulesFn(validationRules)
	srv.SetErrorPresenter(errorPresenter(cfg.Logger))
	srv.SetRecoverFunc(recoverFunc(cfg.Logger))
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
	}
	srv.Use(pageSizeGuard{})
	srv.AroundOperations(recordOperationName)
	return &endpoint{graphql: srv, log: cfg.Logger}
}

// NewSchemaConfig wires the resolvers; tests use it to build an executable
// schema of their own.
func NewSchemaConfig(cfg HandlerConfig) Config {
	return Config{Resolvers: &Resolver{client: cfg.Client, services: cfg.Services}}
}

// recordOperationName puts the operation's name in the request's access log.
func recordOperationName(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name := oc.OperationName
	if name == "" && oc.Operation != nil {
		name = oc.Operation.Name
	}
	reqlog.SetOperation(ctx, name)
	return next(ctx)
}

// endpoint answers what gqlgen's transports would answer without the API's
// error format: a method other than GET and POST, or a body that is not JSON.
type endpoint struct {
	graphql http.Handler
	log     *slog.Logger
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodOptions:
	case http.MethodPost:
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mediaType != "application/json" {
			e.reject(w, r, http.StatusUnsupportedMediaType,
				apperror.Validationf("Envíe la consulta como JSON con Content-Type: application/json."))
			return
		}
		if trailingJSON(r) {
			// gqlgen's POST transport decodes the first JSON value and
			// ignores the rest: `{...} {...}` would run the first one.
			e.reject(w, r, http.StatusBadRequest, apperror.Validationf(
				"El cuerpo de la solicitud debe ser un solo objeto JSON de GraphQL ({\"query\": ..., \"variables\": {...}})."))
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		e.reject(w, r, http.StatusMethodNotAllowed,
			apperror.Validationf("Método HTTP no admitido en /graphql: use POST (o GET para consultas)."))
		return
	}
	e.graphql.ServeHTTP(w, r)
}

// trailingJSON reports whether the request's body holds something after its
// first JSON value. The body is already in memory (the server's body limit
// read it), so it is read here and put back.
func trailingJSON(r *http.Request) bool {
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false // the transport reports the read error
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var first json.RawMessage
	return dec.Decode(&first) == nil && len(bytes.TrimSpace(body[dec.InputOffset():])) > 0
}

func (e *endpoint) reject(w http.ResponseWriter, r *http.Request, status int, appErr *apperror.Error) {
	writeResponse(w, responseContentType(r), status,
		&graphql.Response{Errors: gqlerror.List{present(r.Context(), e.log, appErr)}})
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
	raw := &graphql.RawParams{
		Query:         q.Get("query"),
		OperationName: q.Get("operationName"),
		Headers:       r.Header,
	}
	raw.ReadTime.Start = graphql.Now()
	for name, dst := range map[string]*map[string]any{"variables": &raw.Variables, "extensions": &raw.Extensions} {
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
	raw.ReadTime.End = graphql.Now()

	opCtx, errs := exec.CreateOperationContext(ctx, raw)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, contentType, requestErrorStatus(contentType, errs), resp)
		return
	}
	if opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{requestError(
			apperror.Validationf("Las mutaciones solo se aceptan por POST."), nil)})
		writeResponse(w, contentType, http.StatusMethodNotAllowed, resp)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, contentType, http.StatusOK, responses(ctx))
}

const (
	mediaJSON         = "application/json"
	mediaGraphQLJSON  = "application/graphql-response+json"
	contentTypeHeader = "Content-Type"
)

// responseContentType negotiates GraphQL over HTTP's media type:
// application/graphql-response+json when the client accepts it,
// application/json otherwise.
func responseContentType(r *http.Request) string {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case mediaGraphQLJSON:
			return mediaGraphQLJSON
		case mediaJSON, "*/*", "application/*":
			return mediaJSON
		}
	}
	return mediaJSON
}

// requestErrorStatus is the status of a request rejected before execution:
// 400 under application/graphql-response+json, and under application/json
// the 422 gqlgen's POST transport uses, so both transports agree.
func requestErrorStatus(contentType string, errs gqlerror.List) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == mediaGraphQLJSON {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

func writeResponse(w http.ResponseWriter, contentType string, status int, resp *graphql.Response) {
	w.Header().Set(contentTypeHeader, contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}
