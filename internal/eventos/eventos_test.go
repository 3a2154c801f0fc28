package eventos_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/testkit"
)

// TestEnqueueSobre: a committed event is stored as the CloudEvents
// envelope, with the request id, the subject's global id and the seed's
// payload for an operación; a rolled-back one is not stored at all.
func TestEnqueueSobre(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000")
		op, facturaIDs := env.MustOperacionAprobada(t, c.ID, "300000")
		ctx := requestid.NewContext(context.Background(), "req-42")
		fecha := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
		aviso := eventos.Aviso()
		// The setup's own mutations enqueued their events already.
		antes := db.Client.OutboxEvento.Query().CountX(ctx)

		boom := errors.New("falla")
		require.ErrorIs(t, db.WithTx(ctx, func(tx *ent.Tx) error {
			require.NoError(t, eventos.Enqueue(ctx, tx, eventos.Operacion(eventos.OperacionAprobada, op, facturaIDs, fecha)))
			return boom
		}), boom)
		assert.Equal(t, antes, db.Client.OutboxEvento.Query().CountX(ctx), "rolled back: no event")
		select {
		case <-aviso:
			t.Fatal("a rollback wakes nobody")
		default:
		}

		require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error {
			return eventos.Enqueue(ctx, tx, eventos.Operacion(eventos.OperacionAprobada, op, facturaIDs, fecha))
		}))
		select {
		case <-aviso:
		default:
			t.Fatal("a commit wakes the dispatchers")
		}
		row := db.Client.OutboxEvento.Query().Where(outboxevento.RequestID("req-42")).OnlyX(ctx)
		var s map[string]any
		require.NoError(t, json.Unmarshal([]byte(row.Cuerpo), &s))
		assert.Equal(t, "1.0", s["specversion"])
		assert.Equal(t, "factoring", s["source"])
		assert.Equal(t, "operacion.aprobada", s["type"])
		assert.Equal(t, gid.Encode(op.ID), s["subject"])
		assert.Equal(t, "2026-03-02T12:00:00Z", s["time"])
		assert.Equal(t, "application/json", s["datacontenttype"])
		assert.Equal(t, "req-42", s["requestid"])
		assert.Equal(t, row.EventoID, s["id"])
		data := s["data"].(map[string]any)
		assert.Equal(t, row.EventoID, data["event_id"])
		assert.Equal(t, "operacion.aprobada", data["type"])
		assert.Equal(t, "req-42", data["request_id"])
		assert.Equal(t, gid.Encode(op.ID), data["operacion_id"])
		assert.Equal(t, gid.Encode(c.ID), data["cliente_id"])
		assert.Equal(t, "APROBADA", data["estado"])
		assert.Equal(t, "300000.00", data["monto_total_facturas"])
		assert.Equal(t, "2.00", data["tasa_descuento"])
		assert.Equal(t, op.MontoADesembolsar.StringFixed(2), data["monto_a_desembolsar"])
		assert.Equal(t, []any{gid.Encode(facturaIDs[0])}, data["factura_ids"])
		assert.Equal(t, "req-42", row.RequestID)
		assert.Nil(t, row.DespachadoEn)
	})
}

func TestEnqueueRechazaTipoDesconocido(t *testing.T) {
	db := testkit.SQLite(t)
	ctx := context.Background()
	err := db.WithTx(ctx, func(tx *ent.Tx) error {
		return eventos.Enqueue(ctx, tx, eventos.Event{Tipo: "operacion.inventada", Sujeto: "x"})
	})
	assert.ErrorContains(t, err, "desconocido")
	err = db.WithTx(ctx, func(tx *ent.Tx) error {
		return eventos.Enqueue(ctx, tx, eventos.Event{Tipo: eventos.ClienteCreado})
	})
	assert.ErrorContains(t, err, "sin sujeto")
	assert.Len(t, eventos.Todos, 22)
	assert.True(t, eventos.Valido("cliente.linea_ajustada"))
}

// TestCatalogoDeLaAuditoria: the catalogue is exactly the types the audit
// tipos map to, one to one (every audited change has its event type, and
// there is no type no change announces).
func TestCatalogoDeLaAuditoria(t *testing.T) {
	var want []eventos.Tipo
	for _, v := range estado.TipoAuditoria("").Values() {
		want = append(want, eventos.Tipo(estado.TipoAuditoria(v).TipoIntegracion()))
	}
	assert.ElementsMatch(t, want, eventos.Todos)
	assert.True(t, eventos.Valido("deudor.linea_fijada"))
	assert.True(t, eventos.Valido("factura.acuse_registrado"))
}
