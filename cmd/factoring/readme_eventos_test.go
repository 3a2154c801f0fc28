package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/webhooks"
)

// bloquesDelREADME returns the body of every fenced block of README.md
// whose info string is lang, with the line it opens on.
func bloquesDelREADME(t *testing.T, lang string) map[int]string {
	t.Helper()
	src, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	out := map[int]string{}
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```"+lang {
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		out[start+1] = strings.Join(body, "\n") + "\n"
	}
	return out
}

// bloqueDelREADME is the one block of lang that contains marker.
func bloqueDelREADME(t *testing.T, lang, marker string) string {
	t.Helper()
	var found []string
	for _, b := range bloquesDelREADME(t, lang) {
		if strings.Contains(b, marker) {
			found = append(found, b)
		}
	}
	require.Len(t, found, 1, "README.md: one ```%s block with %q", lang, marker)
	return found[0]
}

// eventosReales commits, through the domain services, at least one event
// of every type of the catalogue and returns the latest envelope of each.
func eventosReales(t *testing.T) map[eventos.Tipo]eventos.Sobre {
	t.Helper()
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	ctx := env.Ctx
	must := func(_ any, err error) { t.Helper(); require.NoError(t, err) }

	c := env.MustCrearClienteActivo(t, "5000000") // creado, activado
	must(env.Svc.Clientes.Actualizar(ctx, c.ID, clientes.ActualizarInput{Email: testkit.Ptr("tesoreria@empresa.cl")}))
	must(env.Svc.Clientes.AjustarLineaCredito(ctx, c.ID, testkit.Dec("6000000")))
	op, ids := env.MustOperacionDesembolsada(t, c.ID, "300000", "150000") // registrada, creada, aprobada, desembolsada
	env.MustPagarTodas(t, ids...)                                         // pagada
	must(env.Svc.Operaciones.Finalizar(ctx, op.ID))
	pend, _ := env.MustOperacionPendiente(t, c.ID, "200000")
	must(env.Svc.Operaciones.Rechazar(ctx, pend.ID, "Deudor con protestos vigentes"))
	f := env.MustRegistrarFactura(t, c.ID, "80000", testkit.Vence(45))
	must(env.Svc.Facturas.Anular(ctx, f.ID, testkit.Ptr("Emitida por error")))
	env.MustRegistrarFactura(t, c.ID, "120000", testkit.Vence(10))
	env.Clock.Advance(15 * 24 * time.Hour)
	must(env.Svc.Facturas.MarcarVencidas(ctx, testkit.Santiago)) // vencida
	must(env.Svc.Clientes.Suspender(ctx, c.ID, testkit.Ptr("Mora en la cartera")))
	otro := env.MustCrearCliente(t, "1000000")
	must(env.Svc.Clientes.Bloquear(ctx, otro.ID, "Fraude documental"))
	tercero := env.MustCrearClienteActivo(t, "2000000")
	must(env.Svc.Clientes.FijarConcentracionMaxima(ctx, tercero.ID, testkit.Dec("30"))) // concentracion_fijada
	g := env.MustRegistrarFactura(t, tercero.ID, "95000", testkit.Vence(60))
	must(env.Svc.Facturas.RegistrarAcuse(ctx, g.ID, estado.AcuseAceptada, testkit.Ptr("Conforme")))
	d := env.DeudorDe(t, g.ID) // deudor.creado with its first factura
	must(env.Svc.Deudores.Actualizar(ctx, d.ID, deudores.ActualizarInput{RazonSocial: testkit.Ptr("Supermercados del Pacífico S.A.")}))
	must(env.Svc.Deudores.FijarLineaExposicion(ctx, d.ID, testkit.Ptr(testkit.Dec("5000000"))))
	must(env.Svc.Deudores.Bloquear(ctx, d.ID, "Quiebra"))
	must(env.Svc.Deudores.Activar(ctx, d.ID))

	rows, err := db.Client.OutboxEvento.Query().Order(outboxevento.ByID()).All(ctx)
	require.NoError(t, err)
	out := map[eventos.Tipo]eventos.Sobre{}
	for _, r := range rows {
		var s eventos.Sobre
		require.NoError(t, json.Unmarshal([]byte(r.Cuerpo), &s))
		out[s.Type] = s
	}
	require.Len(t, out, len(eventos.Todos), "one event of every type")
	return out
}

// comunes are the data fields every event carries, shown once in the
// README's envelope rather than in each example of the catalogue.
var comunes = []string{"event_id", "type", "request_id"}

// Ensure that the README's catalogue of events has one example of each
// type, and that each example's data has exactly the fields, of the same
// JSON kinds, that a real event of that type carries; and that the
// envelope example is a real envelope's shape. FACTORING_README_EVENTOS=1
// prints real examples to paste.
func TestCatalogoDeEventosDelREADME(t *testing.T) {
	reales := eventosReales(t)
	if os.Getenv("FACTORING_README_EVENTOS") == "1" {
		for _, tipo := range eventos.Todos {
			b, _ := json.Marshal(reales[tipo])
			fmt.Printf("%s\n", b)
		}
	}

	var catalogo map[string]map[string]any
	require.NoError(t, json.Unmarshal([]byte(bloqueDelREADME(t, "json", `"operacion.finalizada"`)), &catalogo))
	var nombres []string
	for _, tipo := range eventos.Todos {
		nombres = append(nombres, string(tipo))
	}
	assert.Equal(t, slices.Sorted(slices.Values(nombres)), slices.Sorted(maps.Keys(catalogo)), "one example per type, no other")
	for _, tipo := range eventos.Todos {
		t.Run(string(tipo), func(t *testing.T) {
			var real map[string]any
			require.NoError(t, json.Unmarshal(reales[tipo].Data, &real))
			for _, k := range comunes {
				require.Contains(t, real, k)
				delete(real, k)
			}
			ejemplo := catalogo[string(tipo)]
			assert.Equal(t, slices.Sorted(maps.Keys(real)), slices.Sorted(maps.Keys(ejemplo)), "the example's fields")
			for k, v := range real {
				assert.IsType(t, v, ejemplo[k], "%s: the example's kind of value", k)
			}
		})
	}

	var sobre map[string]any
	require.NoError(t, json.Unmarshal([]byte(bloqueDelREADME(t, "json", `"specversion": "1.0"`)), &sobre))
	var real map[string]any
	b, _ := json.Marshal(reales[eventos.OperacionAprobada])
	require.NoError(t, json.Unmarshal(b, &real))
	assert.Equal(t, slices.Sorted(maps.Keys(real)), slices.Sorted(maps.Keys(sobre)), "the envelope's fields")
	assert.Equal(t, "operacion.aprobada", sobre["type"])
	data := sobre["data"].(map[string]any)
	var realData map[string]any
	require.NoError(t, json.Unmarshal(reales[eventos.OperacionAprobada].Data, &realData))
	assert.Equal(t, slices.Sorted(maps.Keys(realData)), slices.Sorted(maps.Keys(data)), "the envelope's data")
	assert.Equal(t, sobre["id"], data["event_id"])
	assert.Equal(t, sobre["requestid"], data["request_id"])
}

// receptorDelREADME is one of the README's receivers running on port.
type receptorDelREADME struct {
	stdout *syncBuffer
	port   int
}

func puertoLibre(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// arrancar runs cmd (the receiver, with WEBHOOK_SECRET) until the test
// ends, and waits until it listens on port.
func arrancar(t *testing.T, cmd *exec.Cmd, port int, secreto string) *receptorDelREADME {
	t.Helper()
	r := &receptorDelREADME{stdout: &syncBuffer{}, port: port}
	var stderr syncBuffer
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secreto)
	cmd.Stdout, cmd.Stderr = r.stdout, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	esperar(t, 60*time.Second, "el receptor escucha en "+strconv.Itoa(port), func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return r
}

// forjar posts body to the receiver signed with secreto at ts, and returns
// the HTTP status.
func (r *receptorDelREADME) forjar(t *testing.T, secreto, id string, ts int64, body string) int {
	t.Helper()
	sig, err := webhooks.Firmar([]string{secreto}, id, ts, []byte(body))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/webhooks", r.port), strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// Ensure that the README's receivers, in Go and in JavaScript, verify real
// signed deliveries from serve (accepting them, so they end ENTREGADA),
// keep verifying through a secret's rotation, and refuse a wrong signature
// and a stale timestamp. Each runs as pasted, its port aside.
func TestReceptoresDelREADME(t *testing.T) {
	lenguajes := map[string]func(t *testing.T, dir string, port int) *exec.Cmd{
		"go": func(t *testing.T, dir string, port int) *exec.Cmd {
			src := bloqueDelREADME(t, "go", "webhook-signature")
			src = strings.Replace(src, `":4000"`, fmt.Sprintf(`":%d"`, port), 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module receptor\n\ngo 1.22\n"), 0o644))
			build := exec.Command("go", "build", "-o", "receptor", ".")
			build.Dir = dir
			out, err := build.CombinedOutput()
			require.NoError(t, err, "the README's Go receiver compiles: %s", out)
			return exec.Command(filepath.Join(dir, "receptor"))
		},
		"javascript": func(t *testing.T, dir string, port int) *exec.Cmd {
			node, err := exec.LookPath("node")
			if err != nil {
				t.Skip("no hay node en el PATH: el receptor en JavaScript del README no se prueba")
			}
			src := bloqueDelREADME(t, "js", "webhook-signature")
			src = strings.Replace(src, `listen(4000)`, fmt.Sprintf(`listen(%d)`, port), 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "receptor.js"), []byte(src), 0o644))
			return exec.Command(node, filepath.Join(dir, "receptor.js"))
		},
	}
	for lang, comando := range lenguajes {
		t.Run(lang, func(t *testing.T) {
			c := eventosCLI(t, "sqlite")
			base, _, _ := c.serveCapturando()
			port := puertoLibre(t)
			var creado struct {
				CrearWebhook struct {
					Secreto string
					Webhook struct{ ID string }
				}
			}
			gql(t, base, `mutation($url: String!) { crearWebhook(input: {url: $url, tipos: ["*"]}) { secreto webhook { id } } }`,
				map[string]any{"url": fmt.Sprintf("http://127.0.0.1:%d/webhooks", port)}, &creado)
			secreto := creado.CrearWebhook.Secreto
			r := arrancar(t, comando(t, t.TempDir(), port), port, secreto)

			entregadas := func() int {
				var out entregasGQL
				gql(t, base, consultaEntregas, map[string]any{"estado": "ENTREGADA"}, &out)
				return out.Webhooks.Edges[0].Node.Entregas.TotalCount
			}
			_, _, err := crearCliente(base, "Receptor del README SpA")
			require.NoError(t, err)
			esperar(t, 30*time.Second, "la entrega aceptada por el receptor", func() bool { return entregadas() == 1 })
			var ev entregasGQL
			gql(t, base, consultaEntregas, map[string]any{"estado": "ENTREGADA"}, &ev)
			eventoID := ev.Webhooks.Edges[0].Node.Entregas.Edges[0].Node.EventoID
			esperar(t, 5*time.Second, "el receptor imprime el evento", func() bool { return strings.Contains(r.stdout.String(), eventoID) })
			assert.Contains(t, r.stdout.String(), "cliente.creado")

			// Rotated: both secrets sign for a while, so the receiver,
			// still on the old one, keeps accepting.
			var rot struct{ RotarSecretoWebhook struct{ Secreto string } }
			gql(t, base, `mutation($id: ID!) { rotarSecretoWebhook(id: $id) { secreto } }`,
				map[string]any{"id": creado.CrearWebhook.Webhook.ID}, &rot)
			_, _, err = crearCliente(base, "Rotación SpA")
			require.NoError(t, err)
			esperar(t, 30*time.Second, "aceptada tras la rotación", func() bool { return entregadas() == 2 })

			now := time.Now().Unix()
			body := `{"type":"cliente.creado"}`
			assert.Equal(t, http.StatusUnauthorized, r.forjar(t, rot.RotarSecretoWebhook.Secreto, "forjado", now, body),
				"signed with another secret")
			assert.Equal(t, http.StatusUnauthorized, r.forjar(t, secreto, "viejo", now-3600, body), "an hour-old timestamp")
			assert.Less(t, r.forjar(t, secreto, "bueno", now, body), 300, "the same request, well signed and fresh")
			// Its output arrives through a pipe: once the last one shows,
			// the refused ones would have too.
			esperar(t, 5*time.Second, "el receptor imprime la buena", func() bool { return strings.Contains(r.stdout.String(), "bueno") })
			assert.NotContains(t, r.stdout.String(), "forjado")
			assert.NotContains(t, r.stdout.String(), "viejo")
		})
	}
}
