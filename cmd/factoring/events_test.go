package main

// Events out end to end: the binary's own serve and worker, over a real
// database, delivering to real HTTP receivers that verify every signature,
// and to NATS JetStream. The dispatcher's own tests (internal/despacho)
// drive it piece by piece; these run it as an operator does.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/natspub/natstest"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/webhooks"
)

// eventosCLI is a cli over a migrated database of dialect ("sqlite" or
// "postgres") whose serve and worker may send webhooks to the tests'
// loopback http receivers, with a fast retry schedule: 10 ms doubling,
// given up after 1 s.
func eventosCLI(t *testing.T, dialect string) *cli {
	t.Helper()
	var c *cli
	if dialect == "postgres" {
		c = newCLI(t, testkit.PostgresURL(t))
	} else {
		c = sqliteCLI(t)
		c.mustRun("migrate")
	}
	c.env["FACTORING_WEBHOOK_ALLOW_INSECURE"] = "true"
	c.env["FACTORING_WEBHOOK_RETRY_BASE"] = "10ms"
	c.env["FACTORING_WEBHOOK_RETRY_WINDOW"] = "1s"
	c.env["FACTORING_WEBHOOK_TIMEOUT"] = "2s"
	c.env["FACTORING_WORKER_POLL_INTERVAL"] = "50ms"
	return c
}

// worker starts `factoring worker` and returns its log and a stop function
// that cancels it and returns Run's error.
func (c *cli) worker() (*syncBuffer, func() error) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var out, errOut syncBuffer
	m := c.main(&out, &errOut)
	m.Ready = ready
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"worker"}) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("worker did not stop within 30 s of the cancellation")
			}
		})
		return stopErr
	}
	c.t.Cleanup(func() { _ = stop() })
	select {
	case <-ready:
		return &errOut, stop
	case err := <-done:
		c.t.Fatalf("worker ended before starting: %v\nstderr: %s", err, errOut.String())
	case <-time.After(30 * time.Second):
		c.t.Fatalf("worker did not start within 30 s\nstderr: %s", errOut.String())
	}
	return nil, nil
}

// receptor is an integrator's webhook receiver: it verifies the Standard
// Webhooks signature and timestamp (401 otherwise), answers 500 while
// falla is set and takes lento before answering, and records what it
// accepted.
type receptor struct {
	srv     *httptest.Server
	secreto atomic.Value // string
	falla   atomic.Bool
	lento   atomic.Int64 // nanoseconds
	// enCurso is signalled (without blocking) when a request arrives.
	enCurso chan string

	mu        sync.Mutex
	veces     map[string]int      // event id → times accepted
	porSujeto map[string][]string // subject → data.razon_social (or type) in arrival order
	sobres    map[string]eventos.Sobre
	cabeceras map[string]http.Header
	lags      []time.Duration // receipt - the event's time
	intentos  int
	malFirma  int
}

func nuevoReceptor(t *testing.T) *receptor {
	r := &receptor{veces: map[string]int{}, porSujeto: map[string][]string{}, sobres: map[string]eventos.Sobre{},
		cabeceras: map[string]http.Header{}, enCurso: make(chan string, 1)}
	r.secreto.Store("")
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receptor) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	llegada := time.Now()
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get(webhooks.HeaderID)
	ts, err := strconv.ParseInt(req.Header.Get(webhooks.HeaderTimestamp), 10, 64)
	r.mu.Lock()
	r.intentos++
	r.mu.Unlock()
	select {
	case r.enCurso <- id:
	default:
	}
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute ||
		!webhooks.Verificar(r.secreto.Load().(string), req.Header.Get(webhooks.HeaderSignature), id, ts, body) {
		r.mu.Lock()
		r.malFirma++
		r.mu.Unlock()
		http.Error(w, "firma inválida", http.StatusUnauthorized)
		return
	}
	if d := time.Duration(r.lento.Load()); d > 0 {
		time.Sleep(d)
	}
	if r.falla.Load() {
		http.Error(w, "caído a propósito", http.StatusInternalServerError)
		return
	}
	var s eventos.Sobre
	if json.Unmarshal(body, &s) != nil || s.ID != id {
		http.Error(w, "sobre inválido", http.StatusBadRequest)
		return
	}
	var d struct {
		RazonSocial string `json:"razon_social"`
	}
	_ = json.Unmarshal(s.Data, &d)
	clave := d.RazonSocial
	if clave == "" { // an operación's events: their order in the catalogue is their lifecycle's
		clave = fmt.Sprintf("%02d", slices.Index(eventos.Todos, s.Type))
	}
	r.mu.Lock()
	r.veces[id]++
	r.porSujeto[s.Subject] = append(r.porSujeto[s.Subject], clave)
	r.sobres[id] = s
	r.cabeceras[id] = req.Header.Clone()
	r.lags = append(r.lags, llegada.Sub(s.Time))
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// resumen is how many distinct events were accepted and how many extra
// copies arrived.
func (r *receptor) resumen() (distintos, duplicados int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.veces {
		distintos++
		duplicados += n - 1
	}
	return
}

// desordenados lists the subjects whose events arrived out of order
// (their keys are written to sort in commit order).
func (r *receptor) desordenados() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for s, claves := range r.porSujeto {
		if !slices.IsSorted(claves) {
			out = append(out, s)
		}
	}
	return out
}

// gqlResult is a GraphQL answer.
type gqlResult struct {
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
	requestID string
}

// gqlPost posts query to base (authentication is off in these tests).
func gqlPost(base, query string, vars map[string]any) (gqlResult, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return gqlResult{}, err
	}
	res, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return gqlResult{}, err
	}
	defer res.Body.Close()
	var out gqlResult
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return out, err
	}
	out.requestID = res.Header.Get("X-Request-ID")
	if len(out.Errors) > 0 {
		return out, fmt.Errorf("GraphQL: %s (%v)", out.Errors[0].Message, out.Errors[0].Extensions)
	}
	return out, nil
}

// gql posts query and requires it succeeded, decoding its data into out
// (when not nil).
func gql(t testing.TB, base, query string, vars map[string]any, out any) gqlResult {
	t.Helper()
	res, err := gqlPost(base, query, vars)
	require.NoError(t, err)
	if out != nil {
		require.NoError(t, json.Unmarshal(res.Data, out))
	}
	return res
}

// suscribir subscribes r to tipos (all when none) through crearWebhook and
// keeps the secret it shows once.
func suscribir(t testing.TB, base string, r *receptor, tipos ...string) string {
	t.Helper()
	if len(tipos) == 0 {
		tipos = []string{"*"}
	}
	var out struct {
		CrearWebhook struct {
			Secreto string
			Webhook struct{ ID string }
		}
	}
	gql(t, base, `mutation($in: CrearWebhookInput!) { crearWebhook(input: $in) { secreto webhook { id } } }`,
		map[string]any{"in": map[string]any{"url": r.srv.URL + "/hooks", "tipos": tipos, "descripcion": "pruebas"}}, &out)
	r.secreto.Store(out.CrearWebhook.Secreto)
	return out.CrearWebhook.Webhook.ID
}

// crearCliente creates a cliente named razon and returns its id and the
// request id of the mutation.
func crearCliente(base, razon string) (string, string, error) {
	res, err := gqlPost(base, `mutation($in: CrearClienteInput!) { crearCliente(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"rut": testkit.NewRUT(), "razonSocial": razon, "email": "pagos@ejemplo.cl", "lineaCredito": "1000000"}})
	if err != nil {
		return "", "", err
	}
	var out struct{ CrearCliente struct{ ID string } }
	err = json.Unmarshal(res.Data, &out)
	return out.CrearCliente.ID, res.requestID, err
}

func renombrar(base, id, razon string) error {
	_, err := gqlPost(base, `mutation($id: ID!, $r: String!) { actualizarCliente(id: $id, input: {razonSocial: $r}) { id } }`,
		map[string]any{"id": id, "r": razon})
	return err
}

// historia commits n events about one new cliente through GraphQL: its
// creation and n-1 renames, named so that they sort in commit order.
func historia(base, nombre string, n int) (string, error) {
	id, _, err := crearCliente(base, fmt.Sprintf("%s v%03d", nombre, 0))
	if err != nil {
		return "", err
	}
	for i := 1; i < n; i++ {
		if err := renombrar(base, id, fmt.Sprintf("%s v%03d", nombre, i)); err != nil {
			return "", err
		}
	}
	return id, nil
}

// esperar polls cond until it holds, failing the test after limit.
func esperar(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no se cumplió en %s: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// entregasGQL are a webhook's deliveries as GraphQL lists them, newest
// first.
type entregasGQL struct {
	Webhooks struct {
		Edges []struct {
			Node struct {
				ID       string
				Entregas struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							ID         string
							EventoID   string
							Tipo       string
							Intento    int
							Estado     string
							StatusHTTP *int `json:"statusHttp"`
							Error      *string
						}
					}
				}
			}
		}
	}
}

const consultaEntregas = `query($estado: EstadoEntrega) { webhooks(first: 5) { edges { node { id
	entregas(first: 100, where: {estado: $estado}) { totalCount edges { node { id eventoId tipo intento estado statusHttp error } } } } } } }`

// TestEventosWebhookDeExtremoAExtremo: serve delivers each committed
// mutation's event to a subscribed webhook, signed, on the embedded
// default (SQLite, no NATS) as on PostgreSQL; a receiver that always fails
// ends FALLIDA after the (fast) schedule, and once fixed reenviarEntrega
// delivers each event once, in order. The secret never reaches the log.
func TestEventosWebhookDeExtremoAExtremo(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			c := eventosCLI(t, dialect)
			c.env["FACTORING_LOG_LEVEL"] = "debug"
			base, logs, stop := c.serveCapturando()
			r := nuevoReceptor(t)
			suscribir(t, base, r)

			id, reqID, err := crearCliente(base, "Comercial Andes SpA")
			require.NoError(t, err)
			esperar(t, 20*time.Second, "el evento cliente.creado recibido", func() bool { n, _ := r.resumen(); return n == 1 })
			r.mu.Lock()
			var s eventos.Sobre
			var h http.Header
			for evID := range r.sobres {
				s, h = r.sobres[evID], r.cabeceras[evID]
			}
			r.mu.Unlock()
			assert.Equal(t, "1.0", s.SpecVersion)
			assert.Equal(t, "factoring", s.Source)
			assert.Equal(t, eventos.ClienteCreado, s.Type)
			assert.Equal(t, id, s.Subject)
			assert.Equal(t, "application/json", s.DataContentType)
			assert.Equal(t, reqID, s.RequestID, "the mutation's request id")
			assert.Equal(t, s.ID, h.Get("webhook-id"))
			assert.Equal(t, "application/json", h.Get("Content-Type"))
			var d map[string]any
			require.NoError(t, json.Unmarshal(s.Data, &d))
			assert.Equal(t, id, d["cliente_id"])
			assert.Equal(t, s.ID, d["event_id"])
			assert.Equal(t, "cliente.creado", d["type"])
			assert.Equal(t, reqID, d["request_id"])
			assert.Equal(t, "1000000.00", d["linea_credito"])

			// A receiver that always fails: retried, then FALLIDA.
			r.falla.Store(true)
			require.NoError(t, renombrar(base, id, "Comercial Andes SpA v001"))
			require.NoError(t, renombrar(base, id, "Comercial Andes SpA v002"))
			var fallidas entregasGQL
			esperar(t, 30*time.Second, "dos entregas FALLIDA", func() bool {
				fallidas = entregasGQL{}
				gql(t, base, consultaEntregas, map[string]any{"estado": "FALLIDA"}, &fallidas)
				return fallidas.Webhooks.Edges[0].Node.Entregas.TotalCount == 2
			})
			es := fallidas.Webhooks.Edges[0].Node.Entregas.Edges
			for _, e := range es {
				assert.Equal(t, "cliente.actualizado", e.Node.Tipo)
				assert.Greater(t, e.Node.Intento, 2, "retried before giving up")
				require.NotNil(t, e.Node.StatusHTTP)
				assert.Equal(t, 500, *e.Node.StatusHTTP)
				assert.Contains(t, *e.Node.Error, "caído a propósito")
			}
			n, _ := r.resumen()
			assert.Equal(t, 1, n, "nothing accepted while it failed")

			// Fixed: each dead delivery re-sent, oldest first, arrives once.
			r.falla.Store(false)
			for i := len(es) - 1; i >= 0; i-- {
				var re struct{ ReenviarEntrega struct{ Estado string } }
				gql(t, base, `mutation($id: ID!) { reenviarEntrega(id: $id) { estado } }`, map[string]any{"id": es[i].Node.ID}, &re)
				assert.Equal(t, "PENDIENTE", re.ReenviarEntrega.Estado)
			}
			esperar(t, 20*time.Second, "las reenviadas recibidas", func() bool { n, _ := r.resumen(); return n == 3 })
			var entregadas entregasGQL
			esperar(t, 10*time.Second, "tres ENTREGADA", func() bool {
				entregadas = entregasGQL{}
				gql(t, base, consultaEntregas, map[string]any{"estado": "ENTREGADA"}, &entregadas)
				return entregadas.Webhooks.Edges[0].Node.Entregas.TotalCount == 3
			})
			_, dups := r.resumen()
			assert.Zero(t, dups)
			assert.Empty(t, r.desordenados())
			assert.Equal(t, []string{"Comercial Andes SpA", "Comercial Andes SpA v001", "Comercial Andes SpA v002"},
				r.porSujeto[id])
			assert.Zero(t, r.malFirma)

			require.NoError(t, stop())
			assert.NotContains(t, logs.String(), r.secreto.Load().(string))
			assert.Contains(t, logs.String(), "despachador de eventos iniciado")
		})
	}
}

// TestEventosCaidaDelDespachador: with serve not dispatching
// (FACTORING_WORKER=external) and no worker running, committed events wait
// in the outbox; a worker started later delivers them; stopped and started
// again, it delivers what was committed meanwhile, none twice, in order. A
// worker stopped while a delivery is in flight waits for it and records
// it, rather than leaving it to another replica.
func TestEventosCaidaDelDespachador(t *testing.T) {
	c := eventosCLI(t, "postgres")
	c.env["FACTORING_WORKER"] = "external"
	c.env["FACTORING_LOG_LEVEL"] = "info"
	base, logs, _ := c.serveCapturando()
	db := c.open()
	r := nuevoReceptor(t)
	suscribir(t, base, r)
	pendientes := func() int {
		n, err := db.Client.OutboxEvento.Query().Where(outboxevento.DespachadoEnIsNil()).Count(t.Context())
		require.NoError(t, err)
		return n
	}

	a, err := historia(base, "Sujeto A", 3)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	n, _ := r.resumen()
	assert.Zero(t, n, "serve with FACTORING_WORKER=external does not dispatch")
	assert.Equal(t, 3, pendientes(), "the events wait in the outbox")
	assert.Contains(t, logs.String(), "los despacha factoring worker", "serve says who dispatches")

	_, stopWorker := c.worker()
	esperar(t, 20*time.Second, "las 3 entregadas por el worker", func() bool { n, _ := r.resumen(); return n == 3 })
	require.NoError(t, stopWorker())

	b, err := historia(base, "Sujeto B", 2)
	require.NoError(t, err)
	require.NoError(t, renombrar(base, a, "Sujeto A v003"))
	time.Sleep(300 * time.Millisecond)
	n, _ = r.resumen()
	assert.Equal(t, 3, n, "nothing goes out while the worker is down")
	assert.Equal(t, 3, pendientes())

	workerLog, stopWorker := c.worker()
	esperar(t, 20*time.Second, "las 6 tras reiniciar el worker", func() bool { n, _ := r.resumen(); return n == 6 })
	_, dups := r.resumen()
	assert.Zero(t, dups)
	assert.Empty(t, r.desordenados())
	assert.Len(t, r.porSujeto[a], 4)
	assert.Len(t, r.porSujeto[b], 2)

	// Stopped mid-delivery: the stop waits for the attempt and records it.
	r.lento.Store(int64(700 * time.Millisecond))
	for len(r.enCurso) > 0 {
		<-r.enCurso
	}
	require.NoError(t, renombrar(base, b, "Sujeto B v002"))
	select {
	case <-r.enCurso:
	case <-time.After(20 * time.Second):
		t.Fatal("the delivery did not start")
	}
	start := time.Now()
	require.NoError(t, stopWorker())
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "it waited for the delivery in flight")
	e, err := db.Client.Entrega.Query().Order(entrega.ByID()).All(t.Context())
	require.NoError(t, err)
	require.Len(t, e, 7)
	last := e[len(e)-1]
	assert.Equal(t, entrega.EstadoENTREGADA, last.Estado, "recorded before the worker stopped")
	assert.Nil(t, last.ReclamadaPor, "its claim released")
	n, dups = r.resumen()
	assert.Equal(t, 7, n)
	assert.Zero(t, dups)
	assert.Contains(t, workerLog.String(), "despachador de eventos detenido")
}

// streamNATS names a stream and subject prefix unique to this test on the
// shared NATS server, for serve and worker, deleting the stream at the
// end; it returns a JetStream handle and the stream's name.
func streamNATS(t *testing.T, c *cli, url string) (jetstream.JetStream, string, string) {
	t.Helper()
	stream, prefijo := natstest.Nombre("FACTORING_TEST_"), natstest.Nombre("factoringtest")
	c.env["FACTORING_NATS_URL"] = url
	c.env["FACTORING_NATS_STREAM"] = stream
	c.env["FACTORING_NATS_SUBJECT_PREFIX"] = prefijo
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream)
		nc.Close()
	})
	return js, stream, prefijo
}

// leerStream reads every message of stream, and returns the event ids in
// stream order and the subjects' razón social in stream order.
func leerStream(t *testing.T, js jetstream.JetStream, stream, prefijo string, want int) ([]string, map[string][]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	var ids []string
	porSujeto := map[string][]string{}
	for len(ids) < want {
		batch, err := cons.Fetch(want-len(ids), jetstream.FetchMaxWait(5*time.Second))
		require.NoError(t, err)
		got := 0
		for m := range batch.Messages() {
			got++
			var sobre eventos.Sobre
			require.NoError(t, json.Unmarshal(m.Data(), &sobre))
			assert.Equal(t, prefijo+"."+string(sobre.Type), m.Subject())
			assert.Equal(t, sobre.ID, m.Headers().Get(jetstream.MsgIDHeader))
			var d struct {
				RazonSocial string `json:"razon_social"`
			}
			require.NoError(t, json.Unmarshal(sobre.Data, &d))
			ids = append(ids, sobre.ID)
			porSujeto[sobre.Subject] = append(porSujeto[sobre.Subject], d.RazonSocial)
		}
		require.NotZero(t, got, "the stream has %d messages, %d expected", len(ids), want)
	}
	return ids, porSujeto
}

// TestEventosDosReplicasMilEventos: two workers on one PostgreSQL deliver
// the 1,000 events of 1,000 mutations (50 clientes, 20 each, committed by
// 10 concurrent callers through serve) to a webhook and to NATS JetStream:
// each once, in commit order per cliente, shared between the replicas.
func TestEventosDosReplicasMilEventos(t *testing.T) {
	const sujetos, porSujeto = 50, 20
	const total = sujetos * porSujeto
	c := eventosCLI(t, "postgres")
	c.env["FACTORING_WORKER"] = "external"
	js, stream, prefijo := streamNATS(t, c, natstest.URL(t))
	base, _, _ := c.serveCapturando()
	r := nuevoReceptor(t)
	suscribir(t, base, r)

	c.env["FACTORING_LOG_LEVEL"] = "debug" // each attempt logged, to tell the replicas apart
	var logs [2]*syncBuffer
	for i := range logs {
		logs[i], _ = c.worker()
	}

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, sujetos)
	for g := range 10 {
		wg.Go(func() {
			for s := g; s < sujetos; s += 10 {
				if _, err := historia(base, fmt.Sprintf("Cliente %02d", s), porSujeto); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	committed := time.Since(start)
	esperar(t, 3*time.Minute, fmt.Sprintf("%d eventos recibidos por el webhook", total), func() bool { n, _ := r.resumen(); return n == total })
	delivered := time.Since(start)
	db := c.open()
	esperar(t, time.Minute, "todas las entregas ENTREGADA (webhook y NATS)", func() bool {
		n, err := db.Client.Entrega.Query().Where(entrega.EstadoEQ(entrega.EstadoENTREGADA)).Count(t.Context())
		return err == nil && n == 2*total
	})

	distintos, dups := r.resumen()
	assert.Equal(t, total, distintos)
	assert.Zero(t, dups, "no replica crashed, so no redelivery")
	assert.Empty(t, r.desordenados(), "order per cliente at the webhook")
	assert.Zero(t, r.malFirma)

	ids, porSujetoNATS := leerStream(t, js, stream, prefijo, total)
	info, err := func() (*jetstream.StreamInfo, error) {
		s, err := js.Stream(t.Context(), stream)
		if err != nil {
			return nil, err
		}
		return s.Info(t.Context())
	}()
	require.NoError(t, err)
	assert.Equal(t, uint64(total), info.State.Msgs, "each event once in the stream")
	distintosNATS := map[string]bool{}
	for _, id := range ids {
		distintosNATS[id] = true
	}
	assert.Len(t, distintosNATS, total)
	for s, claves := range porSujetoNATS {
		assert.True(t, sort.StringsAreSorted(claves), "order per cliente in NATS: %s %v", s, claves)
	}

	var porReplica [2]int
	for i, l := range logs {
		porReplica[i] = strings.Count(l.String(), `"resultado":"entregada"`)
	}
	assert.Equal(t, 2*total, porReplica[0]+porReplica[1], "every delivery recorded by one replica")
	assert.NotZero(t, porReplica[0], "both replicas delivered")
	assert.NotZero(t, porReplica[1], "both replicas delivered")
	t.Logf("dos réplicas: %d mutaciones confirmadas en %v; %d/%d eventos recibidos por el webhook y %d en NATS en %v; "+
		"duplicados: %d (webhook), %d (NATS); entregas por réplica: %d y %d",
		total, committed.Round(time.Millisecond), distintos, total, len(distintosNATS), delivered.Round(time.Millisecond),
		dups, len(ids)-len(distintosNATS), porReplica[0], porReplica[1])
}

// TestEventosNATSCaido: serve publishes every event to NATS JetStream; with
// the server down (a dead port) the events wait in the outbox, retried,
// none given up; when it is back they all go out, once each, in order per
// cliente. Re-sending a delivered event (at-least-once redelivery) leaves
// one copy in the stream: JetStream drops it by its Nats-Msg-Id.
func TestEventosNATSCaido(t *testing.T) {
	srv := natstest.Privado(t)
	c := eventosCLI(t, "postgres")
	js, stream, prefijo := streamNATS(t, c, srv.URL())
	base, _, _ := c.serveCapturando()
	db := c.open()
	contar := func(st entrega.Estado) int {
		n, err := db.Client.Entrega.Query().Where(entrega.EstadoEQ(st)).Count(t.Context())
		require.NoError(t, err)
		return n
	}

	a, err := historia(base, "Antes", 3)
	require.NoError(t, err)
	esperar(t, 20*time.Second, "3 publicados", func() bool { return contar(entrega.EstadoENTREGADA) == 3 })

	srv.Stop()
	caida := time.Now()
	b, err := historia(base, "Durante", 3)
	require.NoError(t, err)
	require.NoError(t, renombrar(base, a, "Antes v003"))
	esperar(t, 30*time.Second, "reintentos durante la caída", func() bool {
		n, err := db.Client.Entrega.Query().Where(entrega.EstadoEQ(entrega.EstadoPENDIENTE), entrega.IntentoGTE(2)).Count(t.Context())
		return err == nil && n > 0
	})
	time.Sleep(time.Second) // down for a while
	assert.Equal(t, 3, contar(entrega.EstadoENTREGADA), "nothing goes out while NATS is down")
	assert.Zero(t, contar(entrega.EstadoFALLIDA), "NATS deliveries never give up")
	fallidos := 0
	for _, e := range db.Client.Entrega.Query().Where(entrega.EstadoEQ(entrega.EstadoPENDIENTE)).AllX(t.Context()) {
		fallidos += e.Intento
	}

	srv.Start()
	vuelta := time.Now()
	esperar(t, 90*time.Second, "los 7 publicados tras volver NATS", func() bool { return contar(entrega.EstadoENTREGADA) == 7 })
	t.Logf("NATS caído %v: %d intentos fallidos, 0 perdidos; al volver, 7/7 eventos publicados en %v",
		vuelta.Sub(caida).Round(time.Millisecond), fallidos, time.Since(vuelta).Round(time.Millisecond))

	ids, porSujeto := leerStream(t, js, stream, prefijo, 7)
	assert.Len(t, ids, 7)
	assert.Equal(t, []string{"Antes v000", "Antes v001", "Antes v002", "Antes v003"}, porSujeto[a])
	assert.Equal(t, []string{"Durante v000", "Durante v001", "Durante v002"}, porSujeto[b])

	// Redelivery: the same event again, dropped by JetStream.
	primera := db.Client.Entrega.Query().Order(entrega.ByID()).FirstX(t.Context())
	gql(t, base, `mutation($id: ID!) { reenviarEntrega(id: $id) { id } }`, map[string]any{"id": gid.Encode(primera.ID)}, nil)
	esperar(t, 20*time.Second, "el reenvío publicado", func() bool {
		e := db.Client.Entrega.GetX(t.Context(), primera.ID)
		return e.Estado == entrega.EstadoENTREGADA && e.Intento == primera.Intento+1
	})
	s, err := js.Stream(t.Context(), stream)
	require.NoError(t, err)
	info, err := s.Info(t.Context())
	require.NoError(t, err)
	assert.Equal(t, uint64(7), info.State.Msgs, "the re-sent copy deduplicated by Nats-Msg-Id")
}

// TestEventosVencidasEnUnaReplica: three replicas (two serve, one worker)
// scheduling the overdue job every minute on one PostgreSQL: at start each
// catches up on the last scheduled minute, and exactly one runs it, under
// the business clock, as "sistema"; the other replicas skip it.
func TestEventosVencidasEnUnaReplica(t *testing.T) {
	c := eventosCLI(t, "postgres")
	c.mustRun("seed", "--solo-disponibles") // due 15 to 120 days after ahora
	c.now = ahora.Add(30 * 24 * time.Hour)  // three are overdue by then
	c.env["FACTORING_VENCIDAS_CRON"] = "* * * * *"
	c.env["FACTORING_LOG_LEVEL"] = "info"
	_, logA, _ := c.serveCapturando()
	_, logB, _ := c.serveCapturando()
	logW, _ := c.worker()
	db := c.open()
	esperar(t, 30*time.Second, "la tarea programada terminada", func() bool {
		rows, err := db.Client.TareaEjecucion.Query().All(t.Context())
		if err != nil || len(rows) == 0 {
			return false
		}
		for _, r := range rows {
			if r.TerminadaEn == nil {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond) // the slower replicas had their chance too
	rows, err := db.Client.TareaEjecucion.Query().All(t.Context())
	require.NoError(t, err)
	porMinuto := map[time.Time]int{}
	for _, r := range rows {
		assert.Equal(t, "marcar-vencidas", r.Tarea)
		assert.Nil(t, r.Error)
		porMinuto[r.ProgramadaPara]++
	}
	for at, n := range porMinuto {
		assert.Equal(t, 1, n, "the run of %v ran once", at)
	}
	vencidas := db.Client.EventoAuditoria.Query().AllX(t.Context())
	n := 0
	for _, e := range vencidas {
		if e.Tipo == "FACTURA_VENCIDA" && e.Actor == "sistema" && e.Fecha.After(ahora.Add(24*time.Hour)) {
			n++
		}
	}
	assert.Equal(t, 3, n, "three facturas marked VENCIDA once each, by the business clock")
	corridas := 0
	for _, l := range []*syncBuffer{logA, logB, logW} {
		corridas += strings.Count(l.String(), "tarea programada ejecutada")
	}
	assert.Equal(t, len(rows), corridas, "one replica ran each scheduled run")
}

// carteraM1 is one caller's cliente and the cedible facturas it may use.
type carteraM1 struct {
	cliente  string
	facturas []string
}

// prepararM1 lays out, straight through ent, one ACTIVO cliente per caller
// with a line that never runs out and n DISPONIBLE facturas each, due in
// mid-2027: no mutation, so no event.
func prepararM1(t *testing.T, c *cli, callers, n int) []carteraM1 {
	t.Helper()
	db := c.open()
	fx := testkit.NewFixture(t, db.Client)
	out := make([]carteraM1, callers)
	for w := range out {
		cl := fx.Cliente(func(cc *ent.ClienteCreate) {
			cc.SetLineaCredito(testkit.Dec("9000000000000.00")).SetLineaDisponible(testkit.Dec("9000000000000.00"))
		})
		d := fx.Deudor(testkit.NewRUT(), "Deudor SpA")
		rows := make([]*ent.FacturaCreate, n)
		for i := range rows {
			rows[i] = db.Client.Factura.Create().SetClienteID(cl.ID).SetNumeroFactura(fmt.Sprintf("M1-%02d-%05d", w, i)).
				SetDeudorID(d.ID).SetRutDeudor(d.Rut).SetRazonSocialDeudor("Deudor SpA").SetMontoTotal(testkit.Dec("1000.00")).
				SetFechaEmision(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)).SetFechaRecepcion(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)).
				SetFechaVencimiento(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)).
				SetEstado(estado.FacturaDisponible).SetCreadoEn(fx.Now).SetActualizadoEn(fx.Now)
		}
		fs, err := db.Client.Factura.CreateBulk(rows...).Save(t.Context())
		require.NoError(t, err)
		out[w].cliente = gid.Encode(cl.ID)
		for _, f := range fs {
			out[w].facturas = append(out[w].facturas, gid.Encode(f.ID))
		}
	}
	return out
}

// cargaM1 is an M1-like load (cmd/benchmark's M1: crearOperacion over 1 to
// 3 facturas of the caller's own cliente, then aprobarOperacion), one
// caller per cartera, for d against base. It returns the latency of each
// pair done.
func cargaM1(t *testing.T, base string, carteras []carteraM1, d time.Duration) []time.Duration {
	t.Helper()
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * len(carteras)}}
	defer httpc.CloseIdleConnections()
	post := func(query string, vars map[string]any, out any) error {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		res, err := httpc.Post(base+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var r struct {
			Data   json.RawMessage
			Errors []struct{ Message string }
		}
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
			return err
		}
		if len(r.Errors) > 0 {
			return errors.New(r.Errors[0].Message)
		}
		return json.Unmarshal(r.Data, out)
	}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, len(carteras))
	for _, cart := range carteras {
		wg.Go(func() {
			libres := cart.facturas
			for i := 0; time.Now().Before(deadline) && len(libres) > 0; i++ {
				k := min(1+i%3, len(libres))
				ids := libres[:k]
				libres = libres[k:]
				start := time.Now()
				var op struct{ CrearOperacion struct{ ID string } }
				if err := post(`mutation M1Crear($in: CrearOperacionInput!) { crearOperacion(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"clienteId": cart.cliente, "facturaIds": ids}}, &op); err != nil {
					errs <- err
					return
				}
				var ap struct{ AprobarOperacion struct{ Estado string } }
				if err := post(`mutation M1Aprobar($id: ID!) { aprobarOperacion(id: $id) { estado } }`,
					map[string]any{"id": op.CrearOperacion.ID}, &ap); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return lat
}

// percentil is the p-th percentile (0 < p ≤ 100) of ds, nearest rank.
func percentil(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// TestEventosLatenciaBajoCargaM1: under an M1-like load (16 callers, each
// pair of mutations one operación created and approved), serve delivers
// every event to a webhook, once, in order, within a bounded lag of the
// mutation; and the same load without dispatching (FACTORING_WORKER=
// external) shows what dispatching in-process costs the mutations. The
// figures are logged; FACTORING_TEST_CARGA_M1 sets each phase's length
// (default 3s). The lag counts from the event's time, the mutation's one
// clock reading inside its transaction, so it includes the rest of the
// transaction: an upper bound of commit-to-receipt.
func TestEventosLatenciaBajoCargaM1(t *testing.T) {
	const callers = 16
	d := 3 * time.Second
	if v, err := time.ParseDuration(os.Getenv("FACTORING_TEST_CARGA_M1")); err == nil && v > 0 {
		d = v
	}
	facturasPorCaller := max(60, int(d.Seconds()*120))

	fase := func(t *testing.T, despachar bool) ([]time.Duration, *receptor) {
		c := eventosCLI(t, "postgres")
		c.relojReal = true
		delete(c.env, "FACTORING_WORKER_POLL_INTERVAL") // the default, 1 s: a commit must wake it
		carteras := prepararM1(t, c, callers, facturasPorCaller)
		if !despachar {
			c.env["FACTORING_WORKER"] = "external"
		}
		base, _, stop := c.serveCapturando()
		var r *receptor
		if despachar {
			r = nuevoReceptor(t)
			suscribir(t, base, r, "operacion.creada", "operacion.aprobada")
		}
		lat := cargaM1(t, base, carteras, d)
		if despachar {
			esperar(t, 2*time.Minute, "todos los eventos entregados", func() bool { n, _ := r.resumen(); return n == 2*len(lat) })
		}
		require.NoError(t, stop())
		return lat, r
	}

	sin, _ := fase(t, false)
	con, r := fase(t, true)
	distintos, dups := r.resumen()
	assert.Equal(t, 2*len(con), distintos)
	assert.Zero(t, dups)
	assert.Empty(t, r.desordenados(), "creada before aprobada, per operación")
	r.mu.Lock()
	lags := slices.Clone(r.lags)
	r.mu.Unlock()
	p50, p99 := percentil(lags, 50), percentil(lags, 99)
	// A commit wakes the dispatcher at once; one that waited for its next
	// poll (every second here) would lag half a second more on average. On
	// a loaded machine everything is slower: the bound grows with the
	// mutations' own latency.
	assert.Less(t, p50, max(time.Second, 10*percentil(con, 50)), "the event-to-receipt lag")
	ritmo := func(lat []time.Duration) float64 { return float64(len(lat)) / d.Seconds() }
	t.Logf("carga M1 (%d llamadores, %v por fase, PostgreSQL, máquina compartida): sin despachar %.0f pares/s (p50 %v, p99 %v por par); "+
		"despachando a un webhook %.0f pares/s (p50 %v, p99 %v), %.0f %% del ritmo sin despachar; "+
		"%d eventos entregados, %d duplicados; retraso evento→recepción p50 %v, p99 %v, máx %v",
		callers, d, ritmo(sin), percentil(sin, 50).Round(time.Microsecond*100), percentil(sin, 99).Round(time.Microsecond*100),
		ritmo(con), percentil(con, 50).Round(time.Microsecond*100), percentil(con, 99).Round(time.Microsecond*100),
		100*ritmo(con)/ritmo(sin), distintos, dups, p50.Round(time.Microsecond*100), p99.Round(time.Microsecond*100),
		percentil(lags, 100).Round(time.Microsecond*100))
}
