package graph

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/vektah/gqlparser/v2/validator/rules"

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
	// Authorization checks each root field against the caller's roles.
	// Off only when authentication is disabled (the embedded demo).
	Authorization bool
	// Limits bound what one query may ask for; zero values take
	// DefaultLimits.
	Limits Limits
}

// queryCacheSize bounds the parsed-query cache (documents, not results).
const queryCacheSize = 1000

// NewHandler builds the /graphql endpoint: gqlgen's server assembled
// explicitly (never NewDefaultServer) with the GET and POST transports of
// GraphQL over HTTP, a parsed-query cache, and the checks every operation
// passes before anything runs, in order: page sizes, limits (depth, cost,
// aliases, tokens), authorization. Then the error presenter and the panic
// recovery.
func NewHandler(cfg HandlerConfig) http.Handler {
	limits := cfg.Limits.orDefaults()
	srv := handler.New(NewExecutableSchema(NewSchemaConfig(cfg)))
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost}})
	srv.AddTransport(getTransport{})
	srv.AddTransport(postTransport{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.SetParserTokenLimit(limits.MaxTokens)
	rulesFn := validationRules
	if !cfg.Introspection {
		rulesFn = func() *rules.Rules { return withoutSuggestions(validationRules()) }
	}
	srv.SetValidationRulesFn(rulesFn)
	srv.SetErrorPresenter(errorPresenter(cfg.Logger))
	srv.SetRecoverFunc(recoverFunc(cfg.Logger))
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
	}
	srv.Use(selectionGuard{maxTokens: limits.MaxTokens})
	srv.Use(pageSizeGuard{})
	srv.Use(&queryLimits{limits: limits, introspection: cfg.Introspection})
	srv.Use(authorization{enabled: cfg.Authorization})
	srv.AroundOperations(recordOperationName)
	return &endpoint{graphql: srv, log: cfg.Logger}
}

func (l Limits) orDefaults() Limits {
	if l.MaxDepth == 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxComplexity == 0 {
		l.MaxComplexity = DefaultLimits.MaxComplexity
	}
	if l.MaxAliases == 0 {
		l.MaxAliases = DefaultLimits.MaxAliases
	}
	if l.MaxTokens == 0 {
		l.MaxTokens = DefaultLimits.MaxTokens
	}
	return l
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

// endpoint answers what gqlgen's server would answer without the API's
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
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		e.reject(w, r, http.StatusMethodNotAllowed,
			apperror.Validationf("Método HTTP no admitido en /graphql: use POST (o GET para consultas)."))
		return
	}
	e.graphql.ServeHTTP(w, r)
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

// requestErrorStatus is the status of a request refused before execution:
// 401 and 403 for authentication and authorization, and for a query that
// does not validate 400 under application/graphql-response+json and, under
// application/json, the 422 gqlgen's transports use.
func requestErrorStatus(contentType string, errs gqlerror.List) int {
	for _, e := range errs {
		var appErr *apperror.Error
		if errors.As(e, &appErr) {
			switch appErr.Code {
			case apperror.Unauthenticated:
				return http.StatusUnauthorized
			case apperror.Forbidden:
				return http.StatusForbidden
			}
		}
	}
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == mediaGraphQLJSON {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// writeResponse writes resp as JSON. The data is already JSON (gqlgen wrote
// it); encoding/json would compact and re-validate it byte by byte, which
// took 6 % of the server's CPU on a page of results, so it is written as is
// and only errors and extensions go through encoding/json. Requests do not
// use incremental delivery, so Label, Path and HasNext are always empty.
func writeResponse(w http.ResponseWriter, contentType string, status int, resp *graphql.Response) {
	w.Header().Set(contentTypeHeader, contentType)
	w.WriteHeader(status)
	buf := make([]byte, 0, len(resp.Data)+256)
	buf = append(buf, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err == nil {
			buf = append(append(buf, `"errors":`...), errs...)
			buf = append(buf, ',')
		}
	}
	buf = append(buf, `"data":`...)
	if len(resp.Data) == 0 {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, resp.Data...)
	}
	if len(resp.Extensions) > 0 {
		if ext, err := json.Marshal(resp.Extensions); err == nil {
			buf = append(append(buf, `,"extensions":`...), ext...)
		}
	}
	buf = append(buf, '}', '\n')
	_, _ = w.Write(buf)
}
