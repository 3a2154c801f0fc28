package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/testkit"
)

// ejemplo is one GraphQL example of the README: the operation of a
// ```graphql block and, when a ```json block follows it directly, its
// variables.
type ejemplo struct {
	linea int // of the block in README.md, for messages
	query string
	vars  map[string]any
}

// ejemplosDelREADME reads the README's ```graphql blocks, each with the
// ```json block right under it (only blank lines between) as its variables,
// the convention the README states.
func ejemplosDelREADME(t *testing.T) []ejemplo {
	t.Helper()
	src, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	// block returns the body of the fenced block opening at lines[i] and
	// the index of its closing fence.
	block := func(i int) (string, int) {
		var body []string
		for j := i + 1; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "```") {
				return strings.Join(body, "\n"), j
			}
			body = append(body, lines[j])
		}
		t.Fatalf("README.md:%d: unclosed block", i+1)
		return "", 0
	}
	var out []ejemplo
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```graphql" {
			continue
		}
		e := ejemplo{linea: i + 1}
		e.query, i = block(i)
		next := i + 1
		for next < len(lines) && strings.TrimSpace(lines[next]) == "" {
			next++
		}
		if next < len(lines) && lines[next] == "```json" {
			var raw string
			raw, i = block(next)
			require.NoError(t, json.Unmarshal([]byte(raw), &e.vars), "README.md:%d: variables are not JSON", next+1)
		}
		out = append(out, e)
	}
	return out
}

type respuesta struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []json.RawMessage          `json:"errors"`
}

// Ensure that every GraphQL example of the README runs as pasted, in
// order, against what `make run` serves: the demo data loaded by serve
// --seed on an empty SQLite database, authentication off, webhooks to
// loopback http allowed. Each answers
// without errors and with data, and the lifecycle reproduces the worked
// example's figures. It does so on the tests' usual date, today, and
// years from now: no example depends on a date that passes.
func TestEjemplosDelREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	// The worked example's figures, as the README states them.
	for _, s := range []string{"`montoDescuento = \"2000.00\"`", "`montoADesembolsar = \"298000.00\"`", "the latest due 120 days from today"} {
		require.Contains(t, string(readme), s)
	}
	ejemplos := ejemplosDelREADME(t)
	require.GreaterOrEqual(t, len(ejemplos), 13, "README.md: the examples were not found")

	dias := map[string]time.Time{
		"hoy_de_las_pruebas": ahora,
		"hoy":                time.Now().UTC().Truncate(time.Second),
		"en_cinco_anios":     time.Date(2031, 7, 1, 3, 30, 0, 0, time.UTC), // June 30 in Santiago
	}
	for nombre, dia := range dias {
		t.Run(nombre, func(t *testing.T) {
			c := sqliteCLI(t)
			c.now = dia
			// make run: FACTORING_AUTH=disabled FACTORING_WEBHOOK_ALLOW_INSECURE=true bin/factoring serve --seed
			c.env["FACTORING_WEBHOOK_ALLOW_INSECURE"] = "true"
			base, stop := c.serve("--seed")
			defer stop()

			// A subscription runs over SSE from where it stands in the
			// README to the end: the examples after it must show up in it.
			var suscripciones []*testkit.SSE
			var lineas []int
			for _, e := range ejemplos {
				if strings.HasPrefix(strings.TrimSpace(e.query), "subscription") {
					s := testkit.SubscribeSSE(t, base, "", e.query, e.vars)
					require.Equal(t, http.StatusOK, s.Res.StatusCode, "README.md:%d", e.linea)
					suscripciones, lineas = append(suscripciones, s), append(lineas, e.linea)
					time.Sleep(300 * time.Millisecond) // nothing says when it is in place
					continue
				}
				res := post(t, base, e)
				require.Empty(t, res.Errors, "README.md:%d answered with errors", e.linea)
				require.NotEmpty(t, res.Data, "README.md:%d", e.linea)
				for field, v := range res.Data {
					requireNoVacio(t, e.linea, field, v)
				}
				checkLifecycle(t, e, res)
			}
			for i, s := range suscripciones {
				ev, ok := s.Next(10 * time.Second)
				require.True(t, ok, "README.md:%d: the examples after it show up in it", lineas[i])
				require.Equal(t, "next", ev.Event, "README.md:%d: %s", lineas[i], ev.Data)
				var out respuesta
				require.NoError(t, json.Unmarshal([]byte(ev.Data), &out))
				require.Empty(t, out.Errors, "README.md:%d answered with errors", lineas[i])
				for field, v := range out.Data {
					requireNoVacio(t, lineas[i], field, v)
				}
				s.Close()
			}
			assert.Contains(t, c.mustRun("verificar"), "sin violaciones", "after every example")
		})
	}
}

func post(t *testing.T, base string, e ejemplo) respuesta {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": e.query, "variables": e.vars})
	require.NoError(t, err)
	res, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	var out respuesta
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	require.Equal(t, http.StatusOK, res.StatusCode, "README.md:%d: %v", e.linea, out.Errors)
	return out
}

// requireNoVacio fails when a root field came back empty: null, or a
// connection without edges.
func requireNoVacio(t *testing.T, linea int, field string, v json.RawMessage) {
	t.Helper()
	require.NotEqual(t, "null", string(v), "README.md:%d: %s is null", linea, field)
	var conn struct {
		Edges *[]json.RawMessage `json:"edges"`
	}
	if json.Unmarshal(v, &conn) == nil && conn.Edges != nil {
		require.NotEmpty(t, *conn.Edges, "README.md:%d: %s has no edges", linea, field)
	}
}

// checkLifecycle checks what the README says the lifecycle's steps give.
func checkLifecycle(t *testing.T, e ejemplo, res respuesta) {
	t.Helper()
	var op struct {
		ID, Estado                        string
		DiasDescuento                     int
		MontoDescuento, MontoADesembolsar string
		Cliente                           struct{ LineaDisponible string }
		Facturas                          struct {
			Edges []struct{ Node struct{ Estado string } }
		}
	}
	unmarshal := func(field string) bool {
		raw, ok := res.Data[field]
		if ok {
			require.NoError(t, json.Unmarshal(raw, &op))
		}
		return ok
	}
	switch {
	case unmarshal("operacion"):
		assert.Equal(t, "FINALIZADA", op.Estado, "README: the demo's FINALIZADA operation")
	case unmarshal("crearOperacion"):
		assert.Equal(t, 120, op.DiasDescuento, "the worked example")
		assert.Equal(t, "2000.00", op.MontoDescuento)
		assert.Equal(t, "298000.00", op.MontoADesembolsar)
		assert.Equal(t, "T3BlcmFjaW9uOjY", op.ID, "README: the new operation's id on a freshly loaded demo")
	case unmarshal("aprobarOperacion"):
		assert.Equal(t, "APROBADA", op.Estado)
		assert.Equal(t, "700000.00", op.Cliente.LineaDisponible)
	case unmarshal("finalizarOperacion"):
		assert.Equal(t, "FINALIZADA", op.Estado)
		assert.Equal(t, "1000000.00", op.Cliente.LineaDisponible)
	case unmarshal("rechazarOperacion"):
		assert.Equal(t, "RECHAZADA", op.Estado)
		require.Len(t, op.Facturas.Edges, 2)
		for _, f := range op.Facturas.Edges {
			assert.Equal(t, "DISPONIBLE", f.Node.Estado)
		}
	}
}

// Ensure what the README says of four eyes on the demo data with
// authentication on: demo.analista created the demo's PENDIENTE operation,
// so approving it under that subject, even with the riesgo role, is
// FORBIDDEN, found during execution: HTTP 200 with the error in the body
// and "data": null (aprobarOperacion is non-null). demo.riesgo may approve
// it.
func TestCuatroOjosSobreLaDemo(t *testing.T) {
	c := conSecreto(t)
	c.env["FACTORING_AUTH"] = "required"
	base, stop := c.serve("--seed")
	defer stop()
	aprobar := ejemplo{
		query: `mutation Aprobar($o: ID!) { aprobarOperacion(id: $o) { estado } }`,
		vars:  map[string]any{"o": "T3BlcmFjaW9uOjU"},
	}
	send := func(sub string) (int, string) {
		tok := strings.TrimSpace(c.mustRunNow("token", "--sub", sub, "--roles", "riesgo"))
		body, err := json.Marshal(map[string]any{"query": aprobar.query, "variables": aprobar.vars})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(raw)
	}

	status, body := send("demo.analista")
	assert.Equal(t, http.StatusOK, status, "found during execution: %s", body)
	var res struct {
		Data   map[string]any
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &res))
	require.Len(t, res.Errors, 1, body)
	assert.Equal(t, "FORBIDDEN", res.Errors[0].Extensions.Code)
	assert.Nil(t, res.Data)
	assert.Equal(t, "null", string(mustField(t, body, "data")), "the field is non-null: its null reaches data")

	status, body = send("demo.riesgo")
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"aprobarOperacion": {"estado": "APROBADA"}}`, string(mustField(t, body, "data")))
}

func mustField(t *testing.T, body, field string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	return m[field]
}
