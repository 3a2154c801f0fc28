package despacho_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/webhooks"
)

var ctx = context.Background()

// receptor is a webhook receiver as an integrator would write one: it
// verifies the signature (401 otherwise) and records each event it
// accepts. modo makes it fail on purpose.
type receptor struct {
	srv     *httptest.Server
	secreto atomic.Value // string
	modo    atomic.Value // "ok", "500", "lento"
	lento   time.Duration

	mu        sync.Mutex
	aceptados map[string]int   // event id → times accepted
	porSujeto map[string][]int // subject → data.n in arrival order
	intentos  map[string]int   // event id → requests seen, any outcome
	malFirma  int
}

func nuevoReceptor(t *testing.T) *receptor {
	r := &receptor{aceptados: map[string]int{}, porSujeto: map[string][]int{}, intentos: map[string]int{}, lento: time.Second}
	r.modo.Store("ok")
	r.secreto.Store("")
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receptor) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get(webhooks.HeaderID)
	ts, _ := strconv.ParseInt(req.Header.Get(webhooks.HeaderTimestamp), 10, 64)
	r.mu.Lock()
	r.intentos[id]++
	r.mu.Unlock()
	if !webhooks.Verificar(r.secreto.Load().(string), req.Header.Get(webhooks.HeaderSignature), id, ts, body) {
		r.mu.Lock()
		r.malFirma++
		r.mu.Unlock()
		http.Error(w, "firma inválida", http.StatusUnauthorized)
		return
	}
	switch r.modo.Load().(string) {
	case "500":
		http.Error(w, "falla a propósito", http.StatusInternalServerError)
		return
	case "lento":
		select {
		case <-time.After(r.lento):
		case <-req.Context().Done():
		}
		return
	}
	var s eventos.Sobre
	if err := json.Unmarshal(body, &s); err != nil || s.ID != id {
		http.Error(w, "sobre inválido", http.StatusBadRequest)
		return
	}
	var d struct {
		N int `json:"n"`
	}
	_ = json.Unmarshal(s.Data, &d)
	r.mu.Lock()
	r.aceptados[id]++
	r.porSujeto[s.Subject] = append(r.porSujeto[s.Subject], d.N)
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// resumen returns how many distinct events were accepted and how many
// extra copies arrived.
func (r *receptor) resumen() (distintos, duplicados int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.aceptados {
		distintos++
		duplicados += n - 1
	}
	return
}

// desordenados lists the subjects whose events arrived out of order.
func (r *receptor) desordenados() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for s, ns := range r.porSujeto {
		for i := 1; i < len(ns); i++ {
			if ns[i] <= ns[i-1] {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// suscribir registers r as a webhook for tipos and keeps its secret.
func suscribir(t *testing.T, db *database.DB, r *receptor, tipos ...string) *ent.Webhook {
	svc := webhooks.NewService(db, webhooks.Config{Politica: webhooks.Politica{PermitirInseguro: true}})
	if len(tipos) == 0 {
		tipos = []string{"*"}
	}
	c, err := svc.Crear(ctx, webhooks.CrearInput{URL: r.srv.URL, Tipos: tipos})
	require.NoError(t, err)
	r.secreto.Store(c.Secreto)
	return c.Webhook
}

type opt func(*despacho.Opciones)

// nuevo returns a dispatcher with a fast schedule: retries from 5 ms,
// given up after 400 ms, attempts cut at 300 ms.
func nuevo(t *testing.T, db *database.DB, opts ...opt) *despacho.Despachador {
	o := despacho.Opciones{
		Canales: map[entrega.Canal]despacho.Canal{
			entrega.CanalWEBHOOK: &despacho.CanalWebhook{
				Emisor: webhooks.NuevoEmisor(webhooks.OpcionesEmisor{PermitirInseguro: true, Timeout: 300 * time.Millisecond}),
			},
		},
		Reintentos: despacho.Reintentos{Base: 5 * time.Millisecond, Ventana: 400 * time.Millisecond},
		Intervalo:  20 * time.Millisecond,
	}
	for _, f := range opts {
		f(&o)
	}
	d, err := despacho.New(db, o)
	require.NoError(t, err)
	return d
}

// correr runs d in the background until the returned stop is called (or
// the test ends).
func correr(t *testing.T, d *despacho.Despachador) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// encolar commits n events about sujeto, data.n = from..from+n-1, one
// transaction each (as n mutations would).
func encolar(t *testing.T, db *database.DB, sujeto string, from, n int) {
	for i := range n {
		require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error {
			return eventos.Enqueue(ctx, tx, eventos.Event{
				Tipo: eventos.OperacionAprobada, Sujeto: sujeto, Datos: map[string]any{"n": from + i},
			})
		}))
	}
}

// esperar polls cond until it holds, failing the test after limit.
func esperar(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no se cumplió a tiempo: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func contarEntregas(t *testing.T, db *database.DB, st entrega.Estado) int {
	n, err := db.Client.Entrega.Query().Where(entrega.EstadoEQ(st)).Count(ctx)
	require.NoError(t, err)
	return n
}
