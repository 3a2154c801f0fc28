package despacho_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/webhooks"
)

// TestRollbackSinEvento: an event enqueued in a transaction that rolls
// back never exists, so nothing is ever delivered.
func TestRollbackSinEvento(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		r := nuevoReceptor(t)
		suscribir(t, db, r)
		boom := errors.New("la mutación falla después de encolar")
		err := db.WithTx(ctx, func(tx *ent.Tx) error {
			require.NoError(t, eventos.Enqueue(ctx, tx, eventos.Event{Tipo: eventos.ClienteCreado, Sujeto: "c1"}))
			return boom
		})
		require.ErrorIs(t, err, boom)
		n, err := db.Client.OutboxEvento.Query().Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		d := nuevo(t, db)
		worked, err := d.Ciclo(ctx)
		require.NoError(t, err)
		assert.False(t, worked)
		distintos, _ := r.resumen()
		assert.Zero(t, distintos)
	})
}

// TestEntregaFirmadaEnOrden: every subscribed webhook gets each event
// once, signed, in commit order per subject; a webhook subscribed to one
// type gets only that type; the outbox drains.
func TestEntregaFirmadaEnOrden(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		todos, solo := nuevoReceptor(t), nuevoReceptor(t)
		suscribir(t, db, todos)
		suscribir(t, db, solo, string(eventos.ClienteCreado))
		for s := range 3 {
			encolar(t, db, fmt.Sprintf("op-%d", s), 0, 20)
		}
		require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error {
			return eventos.Enqueue(ctx, tx, eventos.Event{Tipo: eventos.ClienteCreado, Sujeto: "cli-1", Datos: map[string]any{"n": 1}})
		}))
		pend, _, err := despacho.Pendientes(ctx, db)
		require.NoError(t, err)
		assert.Equal(t, 61, pend, "61 events not fanned out yet")

		correr(t, nuevo(t, db))
		esperar(t, 30*time.Second, "61 entregas a todos", func() bool { n, _ := todos.resumen(); return n == 61 })
		esperar(t, 10*time.Second, "1 entrega al suscrito a cliente.creado", func() bool { n, _ := solo.resumen(); return n == 1 })
		esperar(t, 10*time.Second, "62 entregas ENTREGADA", func() bool { return contarEntregas(t, db, entrega.EstadoENTREGADA) == 62 })
		_, dups := todos.resumen()
		assert.Zero(t, dups)
		assert.Empty(t, todos.desordenados())
		assert.Zero(t, todos.malFirma)
		pend, _, err = despacho.Pendientes(ctx, db)
		require.NoError(t, err)
		assert.Zero(t, pend)
		e := db.Client.Entrega.Query().FirstX(ctx)
		assert.Equal(t, 1, e.Intento)
		assert.Equal(t, 200, *e.StatusHTTP)
		assert.Nil(t, e.ProximoIntento)
	})
}

// TestCaidaEntreCommitYEntrega: events committed while no dispatcher runs
// wait in the outbox; a dispatcher stopped and started again delivers
// them; a replica that dies while sending (it holds its claim and never
// finishes) loses the delivery to another replica when its lease runs
// out, and its late outcome does not overwrite the other's.
func TestCaidaEntreCommitYEntrega(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		r := nuevoReceptor(t)
		suscribir(t, db, r)

		stop := correr(t, nuevo(t, db))
		stop() // the worker is down
		encolar(t, db, "op-a", 0, 5)
		time.Sleep(50 * time.Millisecond)
		n, _ := r.resumen()
		require.Zero(t, n, "nobody delivers while the worker is down")
		stopSana := correr(t, nuevo(t, db)) // restarted
		esperar(t, 20*time.Second, "las 5 tras reiniciar", func() bool { n, _ := r.resumen(); return n == 5 })

		stopSana()

		// A replica that hangs mid-send, holding a 300 ms lease.
		colgado := &canalColgado{liberar: make(chan struct{}), tomadas: make(chan string, 10)}
		stopMuerta := correr(t, nuevo(t, db, func(o *despacho.Opciones) {
			o.Canales = map[entrega.Canal]despacho.Canal{entrega.CanalWEBHOOK: colgado}
			o.Arriendo = 300 * time.Millisecond
			o.Replica = "muerta"
		}))
		encolar(t, db, "op-b", 0, 1)
		select {
		case <-colgado.tomadas:
		case <-time.After(20 * time.Second):
			t.Fatal("la réplica colgada no tomó la entrega")
		}
		correr(t, nuevo(t, db)) // a healthy replica takes over once the lease ends
		esperar(t, 20*time.Second, "la entrega de op-b registrada ENTREGADA", func() bool {
			n, _ := db.Client.Entrega.Query().Where(entrega.Sujeto("op-b"), entrega.EstadoEQ(entrega.EstadoENTREGADA)).Count(ctx)
			return n == 1
		})
		close(colgado.liberar) // the hung one "wakes up" and reports a failure
		stopMuerta()
		e := db.Client.Entrega.Query().Where(entrega.Sujeto("op-b")).OnlyX(ctx)
		assert.Equal(t, entrega.EstadoENTREGADA, e.Estado, "the hung replica's late failure does not overwrite it")
		assert.Equal(t, 1, e.Intento)
		_, dups := r.resumen()
		assert.Zero(t, dups)
	})
}

// canalColgado takes deliveries and never finishes them until released,
// like a process that died mid-send; then it reports a failure.
type canalColgado struct {
	liberar chan struct{}
	tomadas chan string
}

func (c *canalColgado) Entregar(_ context.Context, e *ent.Entrega) despacho.Intento {
	c.tomadas <- e.EventoID
	<-c.liberar
	return despacho.Intento{Err: errors.New("murió")}
}

// TestDosReplicas: two replicas on one database deliver 1,000 events about
// 50 subjects; each event arrives, the duplicates are counted (none are
// expected without a crash) and every subject's events arrive in order.
func TestDosReplicas(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		const total, sujetos = 1000, 50
		r := nuevoReceptor(t)
		suscribir(t, db, r)
		var porReplica [2]atomic.Int64
		for i := range 2 {
			d := nuevo(t, db, func(o *despacho.Opciones) {
				o.Replica = fmt.Sprintf("replica-%d", i)
				inner := o.Canales[entrega.CanalWEBHOOK]
				o.Canales = map[entrega.Canal]despacho.Canal{entrega.CanalWEBHOOK: contador{inner, &porReplica[i]}}
				o.Reintentos.Ventana = time.Hour
			})
			correr(t, d)
		}
		start := time.Now()
		var wg sync.WaitGroup
		per := total / sujetos
		for s := range sujetos {
			wg.Go(func() { encolar(t, db, fmt.Sprintf("op-%03d", s), 0, per) })
		}
		wg.Wait()
		esperar(t, 3*time.Minute, fmt.Sprintf("%d eventos entregados", total), func() bool { n, _ := r.resumen(); return n == total })
		distintos, dups := r.resumen()
		t.Logf("%s: %d eventos, %d entregados, %d duplicados, réplica 0 envió %d, réplica 1 envió %d, en %v",
			db.Dialect, total, distintos, dups, porReplica[0].Load(), porReplica[1].Load(), time.Since(start).Round(time.Millisecond))
		assert.Equal(t, total, distintos)
		assert.Zero(t, dups, "no crash, so no redelivery")
		assert.Empty(t, r.desordenados(), "order per subject")
		assert.Equal(t, int64(total), porReplica[0].Load()+porReplica[1].Load())
	})
}

type contador struct {
	despacho.Canal
	n *atomic.Int64
}

func (c contador) Entregar(ctx context.Context, e *ent.Entrega) despacho.Intento {
	c.n.Add(1)
	return c.Canal.Entregar(ctx, e)
}

// TestReceptorQueSiempreFalla: a receiver answering 500 is retried with
// backoff until the retry window is spent, then the delivery is FALLIDA;
// the next event of the same subject waits behind it (order per subject)
// and fails the same way. Once the receiver is fixed, re-sending delivers
// each exactly once.
func TestReceptorQueSiempreFalla(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		r := nuevoReceptor(t)
		suscribir(t, db, r)
		r.modo.Store("500")
		encolar(t, db, "op-x", 0, 2)
		stop := correr(t, nuevo(t, db))
		esperar(t, 30*time.Second, "dos entregas FALLIDA", func() bool { return contarEntregas(t, db, entrega.EstadoFALLIDA) == 2 })
		stop()
		es := db.Client.Entrega.Query().Order(entrega.ByEventoSeq()).AllX(ctx)
		for _, e := range es {
			assert.Greater(t, e.Intento, 2, "retried before giving up")
			assert.Equal(t, 500, *e.StatusHTTP)
			assert.Contains(t, *e.Error, "HTTP 500")
			assert.Nil(t, e.ProximoIntento)
		}
		require.NotNil(t, es[1].IntentadoEn)
		// The second was first tried only after the first ended FALLIDA.
		r.mu.Lock()
		primeros := r.intentos[es[0].EventoID]
		r.mu.Unlock()
		assert.Equal(t, es[0].Intento, primeros)

		r.modo.Store("ok")
		svc := webhooks.NewService(db, webhooks.Config{})
		for _, e := range es {
			_, err := svc.ReenviarEntrega(ctx, e.ID)
			require.NoError(t, err)
		}
		correr(t, nuevo(t, db))
		esperar(t, 20*time.Second, "reenviadas entregadas", func() bool { return contarEntregas(t, db, entrega.EstadoENTREGADA) == 2 })
		distintos, dups := r.resumen()
		assert.Equal(t, 2, distintos)
		assert.Zero(t, dups)
		assert.Empty(t, r.desordenados())
	})
}

// TestFallasDeTransporte: a receiver too slow for the timeout and an
// address where nobody listens are failed attempts with a reason, retried
// later; a deactivated webhook's delivery ends FALLIDA at once.
func TestFallasDeTransporte(t *testing.T) {
	db := testkit.SQLite(t)
	lento := nuevoReceptor(t)
	lento.modo.Store("lento")
	suscribir(t, db, lento)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cerrado := "http://" + ln.Addr().String() + "/hook"
	require.NoError(t, ln.Close()) // connection refused from now on
	svc := webhooks.NewService(db, webhooks.Config{Politica: webhooks.Politica{PermitirInseguro: true}})
	_, err = svc.Crear(ctx, webhooks.CrearInput{URL: cerrado, Tipos: []string{"*"}})
	require.NoError(t, err)
	apagado := nuevoReceptor(t)
	w := suscribir(t, db, apagado)
	_, err = svc.Actualizar(ctx, w.ID, webhooks.ActualizarInput{Activo: ptr(false)})
	require.NoError(t, err)

	encolar(t, db, "op-t", 0, 1)
	d := nuevo(t, db, func(o *despacho.Opciones) { o.Reintentos.Ventana = time.Hour })
	// The deactivated webhook gets no delivery at fan-out.
	_, err = d.Distribuir(ctx)
	require.NoError(t, err)
	n, err := d.Entregar(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the slow and the refused one")

	es := db.Client.Entrega.Query().WithWebhook().AllX(ctx)
	require.Len(t, es, 2)
	for _, e := range es {
		assert.Equal(t, entrega.EstadoPENDIENTE, e.Estado)
		assert.Equal(t, 1, e.Intento)
		assert.Nil(t, e.StatusHTTP)
		require.NotNil(t, e.ProximoIntento)
		require.NotNil(t, e.Error)
		if e.Edges.Webhook.URL == cerrado {
			assert.Contains(t, *e.Error, "refused")
		} else {
			assert.Contains(t, *e.Error, "tiempo de espera")
		}
	}

	// A delivery whose webhook was deactivated after fan-out: FALLIDA.
	_, err = svc.Actualizar(ctx, w.ID, webhooks.ActualizarInput{Activo: ptr(true)})
	require.NoError(t, err)
	encolar(t, db, "op-u", 0, 1)
	_, err = d.Distribuir(ctx)
	require.NoError(t, err)
	_, err = svc.Actualizar(ctx, w.ID, webhooks.ActualizarInput{Activo: ptr(false)})
	require.NoError(t, err)
	_, err = d.Entregar(ctx)
	require.NoError(t, err)
	e := db.Client.Entrega.Query().Where(entrega.WebhookID(w.ID)).OnlyX(ctx)
	assert.Equal(t, entrega.EstadoFALLIDA, e.Estado)
	assert.Contains(t, *e.Error, "desactivado")
}

func ptr[T any](v T) *T { return &v }

// TestReintentosEspera: the schedule doubles from the base, stays within
// its jitter band and cap, and honours a receiver's Retry-After.
func TestReintentosEspera(t *testing.T) {
	r := despacho.Reintentos{Base: 5 * time.Second, Ventana: 24 * time.Hour}
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 5: 80 * time.Second, 30: 6 * time.Hour} {
		for range 20 {
			got := r.Espera(entrega.CanalWEBHOOK, n, 0)
			assert.GreaterOrEqual(t, got, want/2, "n=%d", n)
			assert.LessOrEqual(t, got, want, "n=%d", n)
		}
	}
	assert.LessOrEqual(t, r.Espera(entrega.CanalNATS, 30, 0), time.Minute, "NATS retries stay frequent")
	assert.Equal(t, 2*time.Minute, r.Espera(entrega.CanalWEBHOOK, 1, 2*time.Minute))
}
