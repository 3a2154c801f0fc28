// Package app wires the API from its parts: the domain services over an open
// database, the GraphQL schema over them (graph), the GraphQL endpoint's
// request policy around the schema (gqlserver) and the HTTP server around
// the endpoint (httpserver). The command and the end-to-end tests build the
// server the same way, through here.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/graph"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/httpserver"
	"github.com/banpro/factoring/internal/idempotencia"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/suscripciones"
	"github.com/banpro/factoring/internal/telemetry"
	"github.com/banpro/factoring/internal/webhooks"
)

// Options are the parts the API is built from.
type Options struct {
	DB     *database.DB
	Config config.Config
	Clock  clock.Clock
	Logger *slog.Logger
	// Ready backs /readyz; nil means always ready.
	Ready func(ctx context.Context) error
	// Idempotency keeps the Idempotency-Keys of mutations; nil builds one
	// over DB (IdempotencyStore). serve passes its own, to purge it.
	Idempotency *idempotencia.Store
	// Telemetry, when set, traces and counts every request, and adds the
	// trace id to the server's log lines; nil leaves both out.
	Telemetry *telemetry.Telemetry
	// Eventos is the configuration of events out (FACTORING_WEBHOOK_*,
	// FACTORING_NATS_URL, …): the webhook mutations check URLs and keep
	// secrets by it. nil means the defaults (https only, secrets stored as
	// given). The dispatcher is not part of the server: serve and worker
	// start it (despacho.Desde).
	Eventos *despacho.Config
}

// ServiceSet is the set of domain services (graph.Services).
type ServiceSet = graph.Services

// Services builds the domain services.
func Services(db *database.DB, cfg config.Config, c clock.Clock) graph.Services {
	return graph.Services{
		Clientes: clientes.NewService(db, c, clientes.ConConcentracionMaxima(cfg.ConcentracionMaxima)),
		Facturas: facturas.NewService(db, facturas.Config{
			Clock:        c,
			TimeZone:     cfg.TimeZone,
			DiasRecompra: cfg.DiasRecompra,
			FechaNegocio: cfg.FechaNegocio,
		}),
		Operaciones: operaciones.NewService(db, operaciones.Config{
			Clock:               c,
			TimeZone:            cfg.TimeZone,
			TasaDescuento:       cfg.TasaDescuento,
			Anticipo:            cfg.Anticipo,
			Comision:            cfg.Comision,
			TasaMora:            cfg.TasaMora,
			ConcentracionMaxima: cfg.ConcentracionMaxima,
			ExigirAcuse:         cfg.ExigirAcuse,
		}),
		Deudores: deudores.NewService(db, c),
	}
}

// WebhooksService builds the webhook management service cfg describes: its
// URL policy (FACTORING_WEBHOOK_ALLOW_INSECURE) and the key that encrypts
// signing secrets at rest (FACTORING_WEBHOOK_SECRET_KEY). Webhooks run on
// the system clock, as the dispatcher does, whatever the business clock:
// a re-sent delivery is due now, and a rotated secret's grace period
// counts in real time.
func WebhooksService(db *database.DB, cfg despacho.Config, log *slog.Logger) (*webhooks.Service, error) {
	boveda, err := webhooks.NuevaBoveda(cfg.WebhookSecretKey)
	if err != nil {
		return nil, err
	}
	return webhooks.NewService(db, webhooks.Config{
		Clock:    clock.System{},
		Politica: webhooks.Politica{PermitirInseguro: cfg.WebhookInseguro},
		Boveda:   boveda,
		Logger:   log,
	}), nil
}

// IdempotencyStore builds the store of Idempotency-Keys: remembered for
// FACTORING_IDEMPOTENCY_TTL, each run holding its key for longer than a
// request may last.
func IdempotencyStore(db *database.DB, cfg config.Config, c clock.Clock, log *slog.Logger) *idempotencia.Store {
	return idempotencia.New(db, idempotencia.Config{
		Clock:  c,
		Logger: log,
		TTL:    cfg.IdempotencyTTL,
		Lease:  cfg.RequestTimeout + 30*time.Second,
	})
}

// NewServer builds the HTTP server of the API. Authentication follows the
// configuration: required (the default) needs a key to verify tokens with.
func NewServer(o Options) (*httpserver.Server, error) {
	verifier, err := Verifier(o.Config)
	if err != nil {
		return nil, err
	}
	if o.Eventos == nil {
		def, err := despacho.Load(func(string) (string, bool) { return "", false })
		if err != nil {
			return nil, err
		}
		o.Eventos = &def
	}
	var extensions []graphql.HandlerExtension
	hubCfg := suscripciones.Config{Buffer: o.Config.SubscriptionBuffer}
	if o.Telemetry != nil {
		o.Logger = telemetry.Logger(o.Logger)
		extensions = append(extensions, o.Telemetry.GraphQLExtension())
		hubCfg.Activas = o.Telemetry.SubscriptionsActive()
	}
	hubCfg.Logger = o.Logger
	hub := suscripciones.New(o.DB, hubCfg)
	services := Services(o.DB, o.Config, o.Clock)
	services.Suscripciones = hub
	if services.Webhooks, err = WebhooksService(o.DB, *o.Eventos, o.Logger); err != nil {
		return nil, err
	}
	schema := graph.NewSchema(o.DB.Client, services)
	if o.Idempotency == nil {
		o.Idempotency = IdempotencyStore(o.DB, o.Config, o.Clock, o.Logger)
	}
	var trusted gqlserver.TrustedDocuments
	if o.Config.TrustedDocuments != "" {
		trusted, err = gqlserver.LoadTrustedDocuments(o.Config.TrustedDocuments, schema)
		if err != nil {
			return nil, fmt.Errorf("FACTORING_TRUSTED_DOCUMENTS: %w", err)
		}
		o.Logger.Info("solo se ejecutan las operaciones de la lista de confianza",
			"archivo", o.Config.TrustedDocuments, "operaciones", len(trusted))
		if o.Config.Playground {
			o.Logger.Warn("FACTORING_TRUSTED_DOCUMENTS con el playground encendido: su introspección no está en la lista, " +
				"así que no verá el esquema; apáguelo con FACTORING_PLAYGROUND=false")
		}
	}
	gqlCfg := gqlserver.Config{
		Schema:        schema,
		Logger:        o.Logger,
		Introspection: o.Config.Introspection,
		Authorization: verifier != nil,
		Limits: gqlserver.Limits{
			MaxDepth:      o.Config.MaxDepth,
			MaxComplexity: o.Config.MaxComplexity,
			MaxAliases:    o.Config.MaxAliases,
			MaxTokens:     o.Config.MaxTokens,
		},
		Health:           o.DB.Health,
		Idempotency:      o.Idempotency,
		TrustedDocuments: trusted,
		Extensions:       extensions,
		CORSOrigins:      o.Config.CORSOrigins,
		Streams: gqlserver.StreamLimits{
			SubscriptionsPerConnection: o.Config.SubscriptionsPerConnection,
			ConnectionsPerSubject:      o.Config.SubscriptionConnectionsPerSubject,
		},
	}
	if verifier != nil {
		gqlCfg.Verifier = verifier
	}
	endpoint := gqlserver.New(gqlCfg)
	cfg := httpserver.Config{
		Addr:    o.Config.HTTPAddr,
		GraphQL: endpoint,
		// Streams end first (1001, or an SSE error event), then the hub's
		// feed stops.
		BeforeShutdown: func() {
			endpoint.CloseStreams(3 * time.Second)
			hub.Cerrar()
		},
		Logger:         o.Logger,
		Playground:     o.Config.Playground,
		RequestTimeout: o.Config.RequestTimeout,
		CORSOrigins:    o.Config.CORSOrigins,
		Ready:          o.Ready,
	}
	if o.Config.Introspection {
		cfg.SDL = gqlserver.SDL(schema)
	}
	if o.Telemetry != nil {
		cfg.Trace = o.Telemetry.HTTPMiddleware
		cfg.Observe = o.Telemetry.ObserveRequest
	}
	if verifier != nil {
		cfg.Verifier = verifier
	}
	return httpserver.New(cfg)
}

// SDL is the API's public schema as SDL, what /schema.graphql serves,
// without a database: for `factoring schema` and client codegen.
func SDL() string {
	return gqlserver.SDL(graph.NewSchema(nil, graph.Services{}))
}
