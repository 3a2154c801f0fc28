// Package gqlserver is the GraphQL endpoint's request policy, apart from
// the schema it serves: it is handed a graphql.ExecutableSchema (graph's
// NewSchema) and returns the http.Handler for /graphql.
//
// The policy is, in the order a request meets it: the transports of
// GraphQL over HTTP (transport.go) and of the subscription streams,
// WebSocket (ws.go) and SSE (sse.go), with their caps, the token's expiry
// and their close codes (streams.go); the way each kind of operation must
// take (subscriptions on streams only, the rest off them); the
// selection-width guard
// (selections.go), the depth and size of the raw variables (inputs.go),
// parsing with a token limit and a query cache, the default page size
// written into the document (pagesize.go), gqlparser's coercion of the
// variables, the input limits on every argument (inputs.go), the
// page-size guard, the cost limits (limits.go), authorization by role
// (authz.go), the database's availability (availability.go); then
// execution, and the one error presenter (presenter.go) for every error on
// the way out. Codes and their HTTP statuses come from internal/apperror.
//
// It imports gqlgen, the ent client's types and the shared packages, never
// package graph: which schema runs is the caller's choice.
package gqlserver

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/idempotencia"
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
	// Health is the database's: while requests find it unreachable, the
	// next ones are refused before they run (SERVICE_UNAVAILABLE). Nil
	// never refuses.
	Health *database.Health
	// Idempotency keeps the responses of mutations sent with an
	// Idempotency-Key; nil ignores the header.
	Idempotency *idempotencia.Store
	// TrustedDocuments, when not nil, are the only operations the server
	// runs (LoadTrustedDocuments); nil runs any, with automatic persisted
	// queries.
	TrustedDocuments TrustedDocuments
	// Extensions run around everything else (internal/telemetry's span and
	// metrics per operation): the first is the outermost.
	Extensions []graphql.HandlerExtension
	// Verifier checks the token of a WebSocket connection (its
	// connection_init, or the upgrade request's header); nil when
	// authentication is disabled. Every other request's token is checked
	// by the HTTP shell before it arrives here.
	Verifier TokenVerifier
	// CORSOrigins are the browser origins, besides the server's own, that
	// may open a WebSocket (the CORS allow-list).
	CORSOrigins []string
	// Streams bound the subscription streams; zero values take
	// DefaultStreamLimits.
	Streams StreamLimits
}

// queryCacheSize bounds the parsed-query cache (documents, not results).
const queryCacheSize = 1000

// New builds the /graphql endpoint: gqlgen's server assembled explicitly
// (never NewDefaultServer) with the GET and POST transports of GraphQL over
// HTTP and the subscription streams (WebSocket, SSE), a parsed-query
// cache, and the checks every operation passes before anything runs, in
// order: the transport each kind of operation takes, inputs, page sizes,
// limits (depth, cost, aliases, tokens), authorization, the database's
// availability. Then the error presenter and the panic recovery.
func New(cfg Config) *Endpoint { return newHandler(cfg, true) }

// newHandler is New, with the input limits (inputGuard) left out when
// inputLimits is false: only the benchmark that measures their cost does.
func newHandler(cfg Config, inputLimits bool) *Endpoint {
	limits := cfg.Limits.orDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := newPresenter(cfg.Logger, cfg.Health)
	streams := newStreams(cfg.Streams, cfg.Logger)
	srv := handler.New(cfg.Schema)
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodGet, http.MethodPost}})
	srv.AddTransport(newWSTransport(streams, cfg.Verifier, cfg.CORSOrigins, cfg.Logger))
	srv.AddTransport(sseTransport{streams: streams, presenter: p})
	srv.AddTransport(getTransport{})
	post := postTransport{}
	if cfg.Idempotency != nil {
		post.idempotency = &idempotency{store: cfg.Idempotency, log: cfg.Logger}
	}
	srv.AddTransport(post)
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
	srv.SetErrorPresenter(p.errorPresenter())
	srv.SetRecoverFunc(p.recoverFunc())
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
	}
	srv.Use(newPersistedQueries(persistedQueryCacheSize, cfg.TrustedDocuments)) // first: a query sent by hash meets every check below
	srv.Use(operationName{})
	srv.Use(streamPolicy{})
	srv.Use(selectionGuard{maxTokens: limits.MaxTokens})
	if inputLimits {
		srv.Use(&inputGuard{maxTokens: limits.MaxTokens})
	}
	srv.Use(pageSizeGuard{})
	srv.Use(&queryLimits{limits: limits, introspection: cfg.Introspection})
	srv.Use(authorization{enabled: cfg.Authorization})
	srv.Use(availability{health: cfg.Health})
	srv.AroundResponses(recordOperation)
	return &Endpoint{graphql: srv, presenter: p, streams: streams}
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

// operationName puts the operation's name in the request's access log
// before any check runs, so that an operation refused for its size or the
// caller's roles is logged under its name too.
type operationName struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationName{}

func (operationName) ExtensionName() string                   { return "OperationName" }
func (operationName) Validate(graphql.ExecutableSchema) error { return nil }
func (operationName) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	name := oc.OperationName
	if name == "" && oc.Operation != nil {
		name = oc.Operation.Name
	}
	reqlog.SetOperation(ctx, name)
	return nil
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

// Endpoint is the /graphql handler. It answers itself what gqlgen's server
// would answer without the API's error format: a method other than GET and
// POST, or a body that is not JSON.
type Endpoint struct {
	graphql   http.Handler
	presenter *presenter
	streams   *streams
}

// CloseStreams ends every subscription stream (WebSocket connections with
// 1001, SSE responses with an error event) and refuses new ones, then
// waits up to wait for them to close: the server is shutting down, and
// the HTTP server's graceful shutdown neither ends streams nor waits for
// upgraded connections.
func (e *Endpoint) CloseStreams(wait time.Duration) {
	e.streams.terminarTodas(apagando(), wait)
}

func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

func (e *Endpoint) reject(w http.ResponseWriter, r *http.Request, status int, appErr *apperror.Error) {
	writeResponse(w, responseContentType(r), status,
		&graphql.Response{Errors: gqlerror.List{e.presenter.present(r.Context(), appErr)}})
}
