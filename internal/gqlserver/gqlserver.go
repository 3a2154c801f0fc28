// Package gqlserver is the GraphQL endpoint's request policy, apart from
// the schema it serves: it is handed a graphql.ExecutableSchema (graph's
// NewSchema) and returns the http.Handler for /graphql.
//
// The policy is, in the order a request meets it: the transports of
// GraphQL over HTTP (transport.go), the selection-width guard
// (selections.go), parsing with a token limit and a query cache, the
// default page size written into the document (pagesize.go), the page-size
// guard, the cost limits (limits.go), authorization by role (authz.go);
// then execution, and the one error presenter (presenter.go) for every
// error on the way out. Codes and their HTTP statuses come from
// internal/apperror.
//
// It imports gqlgen, the ent client's types and the shared packages, never
// package graph: which schema runs is the caller's choice.
package gqlserver

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/reqlog"
)

// Config holds what the GraphQL endpoint needs.
type Config struct {
	// Schema is the executable schema to serve (graph.NewSchema).
	Schema graphql.ExecutableSchema
	Logger *slog.Logger
	// Introspection allows __schema and __type queries (the playground
	// needs them). When off, field suggestions ("Did you mean") are off too.
	Introspection bool
	// Authorization checks each root field against the caller's roles.
	// Off only when authentication is disabled (the embedded demo).
	Authorization bool
	// Limits bound what one query may ask for; zero values take
	// DefaultLimits.
	Limits Limits
	// Extensions run around everything else (internal/telemetry's span and
	// metrics per operation): the first is the outermost.
	Extensions []graphql.HandlerExtension
}

// queryCacheSize bounds the parsed-query cache (documents, not results).
const queryCacheSize = 1000

// New builds the /graphql endpoint: gqlgen's server assembled explicitly
// (never NewDefaultServer) with the GET and POST transports of GraphQL over
// HTTP, a parsed-query cache, and the checks every operation passes before
// anything runs, in order: page sizes, limits (depth, cost, aliases,
// tokens), authorization. Then the error presenter and the panic recovery.
func New(cfg Config) http.Handler {
	limits := cfg.Limits.orDefaults()
	srv := handler.New(cfg.Schema)
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost}})
	srv.AddTransport(getTransport{})
	srv.AddTransport(postTransport{})
	for _, ext := range cfg.Extensions {
		srv.Use(ext)
	}
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
	srv.AroundResponses(recordOperation)
	return &endpoint{graphql: srv, log: cfg.Logger}
}

// SDL renders schema as SDL, for /schema.graphql: what introspection would
// tell, for codegen and review.
func SDL(schema graphql.ExecutableSchema) string {
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(schema.Schema())
	return b.String()
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

// recordOperation puts the operation's name and type in the request's
// access log. It runs around every response, those of operations refused
// before they ran (a role that may not, a bad variable) included.
func recordOperation(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		name := oc.OperationName
		if oc.Operation != nil {
			if name == "" {
				name = oc.Operation.Name
			}
			reqlog.SetOperationType(ctx, string(oc.Operation.Operation))
		}
		reqlog.SetOperation(ctx, name)
	}
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
			// The status names the HTTP rule broken; the code stays
			// VALIDATION_ERROR.
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
