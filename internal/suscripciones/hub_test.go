package suscripciones_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/suscripciones"
	"github.com/banpro/factoring/internal/testkit"
)

// recibir takes n events from ch, failing after a few seconds without one.
func recibir(t *testing.T, ch <-chan *suscripciones.Evento, n int) []*suscripciones.Evento {
	t.Helper()
	var out []*suscripciones.Evento
	for len(out) < n {
		select {
		case e, ok := <-ch:
			require.True(t, ok, "closed after %d of %d events", len(out), n)
			out = append(out, e)
		case <-time.After(10 * time.Second):
			require.FailNow(t, "no event", "got %d of %d", len(out), n)
		}
	}
	return out
}

// nada requires that nothing arrives on ch for a while.
func nada(t *testing.T, ch <-chan *suscripciones.Evento) {
	t.Helper()
	select {
	case e := <-ch:
		require.Nil(t, e, "unexpected event %+v", e)
	case <-time.After(300 * time.Millisecond):
	}
}

func tipos(evs []*suscripciones.Evento) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Tipo
	}
	return out
}

// medidor counts like factoring_subscriptions_active.
type medidor struct{ n atomic.Int64 }

func (m *medidor) Inc() { m.n.Add(1) }
func (m *medidor) Dec() { m.n.Add(-1) }

// Ensure that a subscriber receives the events of the mutations that commit
// after it subscribed, as the outbox has them, in order, and only those its
// filter accepts; that an event of a transaction that rolled back never
// reaches it; and that leaving closes its channel and gives its slot back.
func TestHubEntregaLoConfirmado(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		antes := env.MustCrearClienteActivo(t, "10000000")
		activas := &medidor{}
		hub := suscripciones.New(db, suscripciones.Config{Activas: activas})
		t.Cleanup(hub.Cerrar)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()

		todos, err := hub.Suscribir(ctx, suscripciones.Filtro{})
		require.NoError(t, err)
		soloAprobadas, err := hub.Suscribir(ctx, suscripciones.Filtro{Tipos: []string{"operacion.aprobada", "cliente.activado"}})
		require.NoError(t, err)
		// A subscription gets what commits once it is in place; what
		// committed just before may reach it too, unless the feed has
		// handed it out already: each subscription below waits for that.
		c := env.MustCrearClienteActivo(t, "10000000")
		got := recibir(t, todos, 2)
		deCliente, err := hub.Suscribir(ctx, suscripciones.Filtro{ClienteID: &c.ID})
		require.NoError(t, err)
		assert.EqualValues(t, 3, activas.n.Load())

		// creado, activado (before deCliente subscribed), then an approved
		// operation (its factura's deudor, seen for the first time, factura
		// registrada, operacion creada, aprobada), paid and finalized.
		op, facturaIDs := env.MustOperacionAprobada(t, c.ID, "300000")
		got = append(got, recibir(t, todos, 4)...)
		deOperacion, err := hub.Suscribir(ctx, suscripciones.Filtro{OperacionID: &op.ID})
		require.NoError(t, err)
		env.MustPagarTodas(t, facturaIDs...)
		_, err = env.Svc.Operaciones.Finalizar(env.Ctx, op.ID)
		require.NoError(t, err)

		// A mutation whose transaction enqueues its event and then rolls
		// back: the hook runs inside the transaction, after the service
		// wrote, enqueued and notified, before it commits.
		boom := errors.New("revertida a propósito")
		rbCtx := database.BeforeCommit(env.Ctx, func(context.Context, *ent.Tx) error { return boom })
		_, err = env.Svc.Clientes.AjustarLineaCredito(rbCtx, antes.ID, testkit.Dec("20000000"))
		require.ErrorIs(t, err, boom)

		got = append(got, recibir(t, todos, 2)...)
		assert.Equal(t, []string{"cliente.creado", "cliente.activado", "deudor.creado", "factura.registrada", "operacion.creada",
			"operacion.aprobada", "factura.pagada", "operacion.finalizada"}, tipos(got), "in the order they committed")
		for i := 1; i < len(got); i++ {
			assert.Greater(t, got[i].Seq, got[i-1].Seq, "outbox order")
		}
		assert.Equal(t, gid.Encode(op.ID), got[7].Sujeto)
		assert.Equal(t, gid.Encode(op.ID), got[7].Datos["operacion_id"])
		assert.Equal(t, "FINALIZADA", got[7].Datos["estado"])
		assert.NotEmpty(t, got[7].ID)
		assert.NotEmpty(t, got[7].RequestID)
		assert.False(t, got[7].Fecha.IsZero())
		nada(t, todos)
		for _, e := range got {
			assert.NotEqual(t, "cliente.linea_ajustada", e.Tipo, "a rolled-back mutation is never seen")
		}
		n, err := db.Client.OutboxEvento.Query().Count(env.Ctx)
		require.NoError(t, err)
		assert.Equal(t, 2+len(got), n, "exactly the committed events (antes: creado, activado)")

		assert.Equal(t, []string{"cliente.activado", "operacion.aprobada"}, tipos(recibir(t, soloAprobadas, 2)))
		nada(t, soloAprobadas)
		delCliente := recibir(t, deCliente, 5)
		for _, e := range delCliente {
			assert.Equal(t, gid.Encode(c.ID), e.Datos["cliente_id"], e.Tipo)
		}
		nada(t, deCliente)
		assert.Equal(t, []string{"operacion.finalizada"}, tipos(recibir(t, deOperacion, 1)))
		nada(t, deOperacion)

		cancel()
		for _, ch := range []<-chan *suscripciones.Evento{todos, soloAprobadas, deCliente, deOperacion} {
			select {
			case _, ok := <-ch:
				assert.False(t, ok, "closed when its context ends")
			case <-time.After(5 * time.Second):
				t.Fatal("not closed")
			}
		}
		assert.Eventually(t, func() bool { return activas.n.Load() == 0 }, 5*time.Second, 10*time.Millisecond)
	})
}

// Ensure that a filter naming an unknown type, no type, or an id of the
// wrong kind is a VALIDATION_ERROR naming its argument, and subscribes
// nothing.
func TestHubFiltroInvalido(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000")
	f := env.MustRegistrarFactura(t, c.ID, "1000", testkit.Vence(30))
	activas := &medidor{}
	hub := suscripciones.New(db, suscripciones.Config{Activas: activas})
	t.Cleanup(hub.Cerrar)
	for _, tc := range []struct {
		name  string
		f     suscripciones.Filtro
		field string
	}{
		{"tipo_desconocido", suscripciones.Filtro{Tipos: []string{"operacion.aprobada", "operacion.inventada"}}, "tipos"},
		{"ningun_tipo", suscripciones.Filtro{Tipos: []string{}}, "tipos"},
		{"cliente_que_es_factura", suscripciones.Filtro{ClienteID: &f.ID}, "clienteId"},
		{"operacion_que_es_cliente", suscripciones.Filtro{OperacionID: &c.ID}, "operacionId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hub.Suscribir(context.Background(), tc.f)
			testkit.RequireCode(t, err, apperror.Validation, tc.field)
		})
	}
	_, err := hub.Suscribir(context.Background(), suscripciones.Filtro{Tipos: []string{"x"}})
	e, _ := apperror.As(err)
	assert.Contains(t, e.Fields["tipos"], `"x"`)
	assert.Contains(t, e.Fields["tipos"], "operacion.aprobada", "the message lists the catalogue")
	assert.Zero(t, activas.n.Load())
}

// sesion records how the hub ended it.
type sesion struct {
	mu      sync.Mutex
	cierres []suscripciones.Cierre
	max     int
	usadas  int
}

func (s *sesion) Reservar() (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usadas >= s.max {
		return nil, apperror.Errorf(apperror.SubscriptionLimit, "lleno")
	}
	s.usadas++
	return func() { s.mu.Lock(); s.usadas--; s.mu.Unlock() }, nil
}

func (s *sesion) Terminar(c suscripciones.Cierre) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cierres = append(s.cierres, c)
}

// Ensure that a subscriber that does not read is dropped once it leaves
// more than half its buffer unread for the grace period, its stream ended
// as a slow consumer, and that the others keep receiving everything; and
// that the session's slots bound the subscriptions.
func TestHubConsumidorLento(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000")
	activas := &medidor{}
	hub := suscripciones.New(db, suscripciones.Config{Activas: activas, Buffer: 4, Gracia: 200 * time.Millisecond})
	t.Cleanup(hub.Cerrar)
	lento := &sesion{max: 1}
	ctx := suscripciones.ConSesion(context.Background(), lento)
	chLento, err := hub.Suscribir(ctx, suscripciones.Filtro{})
	require.NoError(t, err)
	_, err = hub.Suscribir(ctx, suscripciones.Filtro{})
	testkit.RequireCode(t, err, apperror.SubscriptionLimit)

	var recibidos atomic.Int64
	ctxRapido, cancel := context.WithCancel(context.Background())
	defer cancel()
	chRapido, err := hub.Suscribir(ctxRapido, suscripciones.Filtro{})
	require.NoError(t, err)
	hecho := make(chan struct{})
	go func() {
		defer close(hecho)
		for range chRapido {
			if recibidos.Add(1) == 5 {
				return
			}
		}
	}()
	for i := range 5 {
		_, err := env.Svc.Clientes.AjustarLineaCredito(env.Ctx, c.ID, testkit.Dec("1000000").Add(decimal.NewFromInt(int64(1000*(i+1)))))
		require.NoError(t, err)
	}
	select {
	case <-hecho:
	case <-time.After(10 * time.Second):
		t.Fatal("the reader that reads got everything")
	}
	require.Eventually(t, func() bool {
		lento.mu.Lock()
		defer lento.mu.Unlock()
		return len(lento.cierres) == 1
	}, 5*time.Second, 10*time.Millisecond)
	cierre := lento.cierres[0]
	assert.Equal(t, suscripciones.CodigoConsumidorLento, cierre.Codigo)
	assert.Equal(t, apperror.SubscriptionLimit, cierre.Err.Code)
	assert.Contains(t, cierre.Err.Message, "Consumidor lento")
	n := 0
	for range chLento { // what it had buffered, then closed
		n++
	}
	assert.LessOrEqual(t, n, 4, "the buffer, never more")
	assert.GreaterOrEqual(t, n, 3, "dropped once more than half of it waited")
	assert.Zero(t, lento.usadas, "its slot is given back")
	cancel()
	assert.Eventually(t, func() bool { return activas.n.Load() == 0 }, 5*time.Second, 10*time.Millisecond)
}

// Ensure, on PostgreSQL, that an event whose transaction took its outbox id
// before another's and committed after it is delivered all the same (after
// the other: each in its commit order).
func TestHubIdConfirmadoDespues(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	a := env.MustCrearClienteActivo(t, "1000000")
	b := env.MustCrearClienteActivo(t, "1000000")
	hub := suscripciones.New(db, suscripciones.Config{})
	t.Cleanup(hub.Cerrar)
	ch, err := hub.Suscribir(context.Background(), suscripciones.Filtro{})
	require.NoError(t, err)

	enqueued := make(chan struct{})
	commit := make(chan struct{})
	primero := make(chan error, 1)
	go func() {
		primero <- db.WithTx(env.Ctx, func(tx *ent.Tx) error {
			if err := eventos.Enqueue(env.Ctx, tx, eventos.Cliente(eventos.ClienteActualizado, a, nil, time.Now())); err != nil {
				return err
			}
			close(enqueued)
			<-commit
			return nil
		})
	}()
	<-enqueued
	require.NoError(t, db.WithTx(env.Ctx, func(tx *ent.Tx) error {
		return eventos.Enqueue(env.Ctx, tx, eventos.Cliente(eventos.ClienteActualizado, b, nil, time.Now()))
	}))
	segundo := recibir(t, ch, 1)[0]
	assert.Equal(t, gid.Encode(b.ID), segundo.Sujeto)
	close(commit)
	require.NoError(t, <-primero)
	primerID := recibir(t, ch, 1)[0]
	assert.Equal(t, gid.Encode(a.ID), primerID.Sujeto)
	assert.Less(t, primerID.Seq, segundo.Seq, "a lower id, committed later, still delivered")
	nada(t, ch)
}

// Ensure, on PostgreSQL, that the feed survives the loss of its LISTEN
// connection (a backend terminated): it reconnects and delivers what
// committed meanwhile.
func TestHubReconectaLaEscucha(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000")
	hub := suscripciones.New(db, suscripciones.Config{})
	t.Cleanup(hub.Cerrar)
	ch, err := hub.Suscribir(context.Background(), suscripciones.Filtro{Tipos: []string{"cliente.linea_ajustada"}})
	require.NoError(t, err)

	var terminados int
	require.NoError(t, db.SQL.QueryRowContext(env.Ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+eventos.CanalNotificacion+`'`).Scan(&terminados))
	require.Equal(t, 1, terminados, "the feed's own connection")
	_, err = env.Svc.Clientes.AjustarLineaCredito(env.Ctx, c.ID, testkit.Dec("2000000"))
	require.NoError(t, err)
	e := recibir(t, ch, 1)[0]
	assert.Equal(t, "cliente.linea_ajustada", e.Tipo)
	require.Eventually(t, func() bool {
		var n int
		_ = db.SQL.QueryRowContext(env.Ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN `+eventos.CanalNotificacion+`'`).Scan(&n)
		return n == 1
	}, 10*time.Second, 50*time.Millisecond, "listening again")
	_, err = env.Svc.Clientes.AjustarLineaCredito(env.Ctx, c.ID, testkit.Dec("3000000"))
	require.NoError(t, err)
	recibir(t, ch, 1)
}

// Ensure that Cerrar closes every subscription and refuses new ones.
func TestHubCerrar(t *testing.T) {
	db := testkit.SQLite(t)
	activas := &medidor{}
	hub := suscripciones.New(db, suscripciones.Config{Activas: activas})
	ch, err := hub.Suscribir(context.Background(), suscripciones.Filtro{})
	require.NoError(t, err)
	hub.Cerrar()
	_, ok := <-ch
	assert.False(t, ok)
	assert.Zero(t, activas.n.Load())
	_, err = hub.Suscribir(context.Background(), suscripciones.Filtro{})
	testkit.RequireCode(t, err, apperror.Unavailable)
}

// Ensure that a burst far larger than the buffer reaches a subscriber that
// reads, at its own pace: the feed waits for it instead of dropping it.
func TestHubRafagaSinPerderAlQueLee(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000")
	hub := suscripciones.New(db, suscripciones.Config{Buffer: 8, Gracia: time.Second})
	t.Cleanup(hub.Cerrar)
	ch, err := hub.Suscribir(context.Background(), suscripciones.Filtro{})
	require.NoError(t, err)
	const n = 300
	evs := make([]eventos.Event, n)
	for i := range evs {
		evs[i] = eventos.Cliente(eventos.ClienteActualizado, c, nil, time.Now())
	}
	require.NoError(t, db.WithTx(env.Ctx, func(tx *ent.Tx) error { return eventos.Enqueue(env.Ctx, tx, evs...) }))
	got := 0
	for e := range ch {
		time.Sleep(100 * time.Microsecond) // a consumer slower than the feed
		require.NotNil(t, e)
		if got++; got == n {
			break
		}
	}
	assert.Equal(t, n, got)
	assert.Equal(t, 1, hub.Activas(), "still subscribed")
}
