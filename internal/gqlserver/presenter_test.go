package gqlserver_test

import (
	"log/slog"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

func TestErroresInternosNoSeFiltran(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		cliente := fx.Cliente()
		var logs testkit.SyncBuffer
		logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{Logger: logger})

		if db.Dialect == dialect.Postgres {
			t.Run("un_error_del_driver_no_llega_al_cliente", func(t *testing.T) {
				// PostgreSQL refuses a NUL byte in text; whatever code the
				// API gives it, the driver's words stay in the log.
				res := c.Do(`query($q: String) { clientes(where: {razonSocialContains: $q}) { totalCount } }`,
					map[string]any{"q": "a\u0000b"})
				require.Len(t, res.Errors, 1, res.Raw)
				testkit.RequireNoLeaks(t, res)
				assert.NotEmpty(t, res.Errors[0].Extensions.RequestID)
			})
		}

		// Close the database under the running server: every query now
		// fails inside the driver.
		require.NoError(t, db.SQL.Close())
		c.Header.Set("X-Request-ID", "fallo-interno-1")

		for name, q := range map[string]string{
			"conexion":          `{ clientes { totalCount edges { node { id } } } }`,
			"entidad":           `query($id: ID!) { cliente(id: $id) { id facturas { totalCount } } }`,
			"node":              `query($id: ID!) { node(id: $id) { id } }`,
			"cliente_por_rut":   `{ clientePorRut(rut: "12.345.678-5") { id } }`,
			"conexion_anidada":  `{ facturas { edges { node { operaciones { totalCount } } } } }`,
			"nodes_con_un_id":   `query($id: ID!) { nodes(ids: [$id]) { id } }`,
			"nodes_con_dos_ids": `query($id: ID!) { nodes(ids: [$id, $id]) { id } }`,
		} {
			t.Run("base_cerrada_"+name, func(t *testing.T) {
				res := c.Do(q, map[string]any{"id": testkit.IDOf(cliente)[0]})
				require.NotEmpty(t, res.Errors, res.Raw)
				for _, e := range res.Errors {
					assert.Equal(t, "INTERNAL_ERROR", e.Extensions.Code)
					assert.Equal(t, apperror.GenericMessage(), e.Message, "a generic message only")
					assert.Equal(t, res.Header.Get("X-Request-ID"), e.Extensions.RequestID)
					assert.Empty(t, e.Extensions.Fields)
				}
				testkit.RequireNoLeaks(t, res)
			})
		}

		t.Run("la_causa_va_al_log_con_el_id_de_la_solicitud", func(t *testing.T) {
			c.Header.Set("X-Request-ID", "fallo-interno-2")
			res := c.Do(`{ clientes { totalCount } }`, nil)
			testkit.RequireGQLError(t, res, "INTERNAL_ERROR")
			id := res.Header.Get("X-Request-ID")
			var line string
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, `"request_id":"`+id+`"`) && strings.Contains(l, `"correlation_id":"fallo-interno-2"`) &&
					strings.Contains(l, "database is closed") {
					line = l
				}
			}
			require.NotEmpty(t, line, "the log has the cause with the request id:\n%s", logs.String())
			assert.Contains(t, line, `"level":"ERROR"`)
		})
	})
}
