package operaciones_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	dt "github.com/banpro/factoring/internal/domaintest"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/testdb"
)

// TestEventosQuienYDesdeQueSolicitud ensures that every event records the
// request it was written under and who acted, both read from the context.
func TestEventosQuienYDesdeQueSolicitud(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		env := dt.New(t, db)
		svc := env.Svc.Operaciones
		c := env.MustCrearClienteActivo(t, "1000000.00")

		t.Run("del_contexto", func(t *testing.T) {
			as := func(reqID, subject string) context.Context {
				return auth.NewContext(requestid.NewContext(context.Background(), reqID),
					auth.Principal{Subject: subject, Roles: []auth.Role{"operador"}})
			}
			_, ids := env.MustRegistrarFacturas(t, c.ID, "1000.00")
			op, err := svc.Crear(as("req-crear", "ana@banpro.cl"), operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
			require.NoError(t, err)
			_, err = svc.Aprobar(as("req-aprobar", "beto@banpro.cl"), op.ID)
			require.NoError(t, err)
			_, err = svc.Desembolsar(as("req-desembolsar", "carla@banpro.cl"), op.ID)
			require.NoError(t, err)
			env.MustPagarTodas(t, ids...)
			_, err = svc.Finalizar(as("req-finalizar", "dani@banpro.cl"), op.ID)
			require.NoError(t, err)

			evs := env.Eventos(t, op.ID)
			require.Len(t, evs, 4)
			want := []struct {
				tipo           estado.TipoEvento
				reqID, subject string
			}{
				{estado.EventoCreada, "req-crear", "ana@banpro.cl"},
				{estado.EventoAprobada, "req-aprobar", "beto@banpro.cl"},
				{estado.EventoDesembolsada, "req-desembolsar", "carla@banpro.cl"},
				{estado.EventoFinalizada, "req-finalizar", "dani@banpro.cl"},
			}
			for i, w := range want {
				assert.Equal(t, w.tipo, evs[i].Tipo)
				assert.Equal(t, w.reqID, evs[i].RequestID)
				assert.Equal(t, w.subject, evs[i].Actor)
			}
		})

		t.Run("sin_contexto_anonimo_y_uuid_nuevo", func(t *testing.T) {
			// Outside a request (a command, a job) the event is still
			// traceable: a fresh UUID per write, actor "anonimo".
			op, _ := env.MustOperacionPendiente(t, c.ID, "1000.00")
			_, err := svc.Rechazar(context.Background(), op.ID, "Sin respaldo")
			require.NoError(t, err)
			evs := env.Eventos(t, op.ID)
			require.Len(t, evs, 2)
			for _, e := range evs {
				assert.Equal(t, auth.Anonimo, e.Actor)
				_, err := uuid.Parse(e.RequestID)
				assert.NoError(t, err, "requestId %q is a UUID", e.RequestID)
			}
			assert.NotEqual(t, evs[0].RequestID, evs[1].RequestID, "each write gets its own id")
		})

		t.Run("principal_sin_sujeto_es_anonimo", func(t *testing.T) {
			op, _ := env.MustOperacionPendiente(t, c.ID, "1000.00")
			_, err := svc.Rechazar(auth.NewContext(context.Background(), auth.Principal{}), op.ID, "Sin respaldo")
			require.NoError(t, err)
			evs := env.Eventos(t, op.ID)
			assert.Equal(t, auth.Anonimo, evs[1].Actor)
		})
	})
}
