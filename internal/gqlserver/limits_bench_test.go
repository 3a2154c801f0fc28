package gqlserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/banpro/factoring/graph"
	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/testkit"
)

// BenchmarkLimitesConsultasDelREADME measures what the input limits cost on
// the README's queries: each one served by the whole /graphql endpoint over
// SQLite, with the input limits (con_limites, as in production) and
// without them (sin_limites), and the limits alone (solo_limites). The
// filters are also sent as variables, the path the raw-variable checks
// read.
//
//	go test -run '^$' -bench LimitesConsultasDelREADME -benchtime 2s -count 5 ./internal/gqlserver/
func BenchmarkLimitesConsultasDelREADME(b *testing.B) {
	db := testkit.SQLite(b)
	env := testkit.NewEnv(b, db)
	in := testkit.ClienteInput("5000000")
	in.Rut = "12.345.678-5"
	c, err := env.Svc.Clientes.Crear(env.Ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := env.Svc.Clientes.Activar(env.Ctx, c.ID); err != nil {
		b.Fatal(err)
	}
	op, _ := env.MustOperacionPendiente(b, c.ID, "300000.00", "200000.00")
	for range 18 {
		env.MustCrearClienteActivo(b, "1000000")
	}

	cfg := testkit.Config(b)
	schema := graph.NewSchema(db.Client, app.Services(db, cfg, env.Clock))
	gcfg := gqlserver.Config{Schema: schema, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Introspection: true}
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"con_limites", gqlserver.New(gcfg)},
		{"sin_limites", gqlserver.NewWithoutInputLimits(gcfg)},
	}
	filtro := map[string]any{
		"estado": "ACTIVO", "lineaCreditoGTE": "1000000", "lineaCreditoLTE": "20000000",
		"or": []any{map[string]any{"razonSocialContainsFold": "alpha"}, map[string]any{"rutContains": "345"}},
	}
	queries := []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"Cartera", readmeCartera, nil},
		{"Operacion", readmeOperacion, map[string]any{"id": gid.Encode(op.ID)}},
		{"filtros", readmeFiltros, nil},
		{"filtro_en_variables", `query($w: ClienteWhereInput) { clientes(where: $w) { edges { node { rut razonSocial } } } }`,
			map[string]any{"w": filtro}},
		{"curl", readmeCurl, nil},
	}
	for _, q := range queries {
		body, err := json.Marshal(map[string]any{"query": q.query, "variables": q.vars})
		if err != nil {
			b.Fatal(err)
		}
		// The limits alone, on the operation as the server prepared it.
		limits, err := gqlserver.InputLimitsOn(schema, q.query, q.vars)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q.name+"/solo_limites", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := limits(); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, h := range handlers {
			b.Run(q.name+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}
