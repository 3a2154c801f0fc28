package operaciones_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/testkit"
)

// TestEventosQuienYDesdeQueSolicitud ensures that every event records the
// request it was written under and who acted, both read from the context.
func TestEventosQuienYDesdeQueSolicitud(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
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

// TestUnInstantePorTransaccion ensures that every mutation of an operación
// reads the clock once: its event's fecha is the very instant it stamped
// the rows it describes with (the operación's dates and actualizadoEn, its
// invoices', the cliente's when the line moved). The services here run on
// a clock that moves a second on every read, so a second reading shows.
func TestUnInstantePorTransaccion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := app.Services(db, testkit.Config(t), clock.NewStepping(testkit.Hoy, time.Second)).Operaciones
		c := env.MustCrearClienteActivo(t, "1000000.00")

		// evento checks the last event of op: its kind, and that its fecha
		// is each of stamps.
		evento := func(t *testing.T, op *ent.Operacion, tipo estado.TipoEvento, stamps map[string]time.Time) {
			t.Helper()
			evs := env.Eventos(t, op.ID)
			ev := evs[len(evs)-1]
			require.Equal(t, tipo, ev.Tipo)
			for name, at := range stamps {
				assert.True(t, ev.Fecha.Equal(at), "evento %s: fecha %s, %s %s", tipo, ev.Fecha, name, at)
			}
		}
		// stamps adds to rows the actualizadoEn of every factura of ids.
		stamps := func(ids []int, rows map[string]time.Time) map[string]time.Time {
			for _, id := range ids {
				rows["actualizadoEn de la factura "+gid.Encode(id)] = env.Factura(t, id).ActualizadoEn
			}
			return rows
		}

		_, ids := env.MustRegistrarFacturas(t, c.ID, "1000.00", "2000.00")
		op, err := svc.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
		require.NoError(t, err)
		op = env.Operacion(t, op.ID)
		evento(t, op, estado.EventoCreada, stamps(ids, map[string]time.Time{
			"fechaSolicitud": op.FechaSolicitud, "creadoEn": op.CreadoEn, "actualizadoEn": op.ActualizadoEn,
		}))

		_, err = svc.Aprobar(ctx, op.ID)
		require.NoError(t, err)
		op = env.Operacion(t, op.ID)
		evento(t, op, estado.EventoAprobada, stamps(ids, map[string]time.Time{
			"fechaAprobacion": *op.FechaAprobacion, "actualizadoEn": op.ActualizadoEn,
			"actualizadoEn del cliente": env.Cliente(t, c.ID).ActualizadoEn,
		}))

		_, err = svc.Desembolsar(ctx, op.ID)
		require.NoError(t, err)
		op = env.Operacion(t, op.ID)
		evento(t, op, estado.EventoDesembolsada, map[string]time.Time{
			"fechaDesembolso": *op.FechaDesembolso, "actualizadoEn": op.ActualizadoEn,
		})

		env.MustPagarTodas(t, ids...)
		_, err = svc.Finalizar(ctx, op.ID)
		require.NoError(t, err)
		op = env.Operacion(t, op.ID)
		evento(t, op, estado.EventoFinalizada, map[string]time.Time{
			"fechaFinalizacion": *op.FechaFinalizacion, "actualizadoEn": op.ActualizadoEn,
			"actualizadoEn del cliente": env.Cliente(t, c.ID).ActualizadoEn,
		})

		rechazada, ids := env.MustOperacionPendiente(t, c.ID, "500.00")
		_, err = svc.Rechazar(ctx, rechazada.ID, "Sin respaldo")
		require.NoError(t, err)
		rechazada = env.Operacion(t, rechazada.ID)
		evento(t, rechazada, estado.EventoRechazada, stamps(ids, map[string]time.Time{
			"actualizadoEn": rechazada.ActualizadoEn,
		}))
	})
}
