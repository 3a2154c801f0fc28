package playground_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/banpro/factoring/internal/playground"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func TestPlayground(t *testing.T) {
	h, err := playground.New("Factoring API", "/playground", "/graphql")
	require.NoError(t, err)
	res, page := get(t, h, "/playground")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(page), `data-endpoint="/graphql"`)

	t.Run("no_carga_nada_de_terceros", func(t *testing.T) {
		assert.NotContains(t, string(page), "cdn.jsdelivr.net")
		assert.NotContains(t, string(page), "unpkg.com")
		assert.NotContains(t, string(page), `="http`, "no absolute URL")
		assert.NotContains(t, string(page), `="//`, "no protocol-relative URL")
	})

	t.Run("sirve_cada_recurso_con_el_hash_que_declara_la_pagina", func(t *testing.T) {
		tags := regexp.MustCompile(`(?:src|href)="(/playground/assets/[^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
		require.Len(t, tags, 9, "react, react-dom, graphiql, the explorer plugin, graphql-ws and the page's script; three style sheets")
		for _, tag := range tags {
			res, body := get(t, h, html.UnescapeString(tag[1]))
			require.Equal(t, http.StatusOK, res.StatusCode, tag[1])
			assert.Equal(t, html.UnescapeString(tag[2]), sri(body), "SRI of %s", tag[1])
			assert.Contains(t, res.Header.Get("Cache-Control"), "max-age")
		}
	})

	t.Run("la_csp_solo_permite_scripts_de_este_origen", func(t *testing.T) {
		csp := res.Header.Get("Content-Security-Policy")
		assert.Equal(t, h.CSP(), csp)
		assert.Contains(t, csp, "default-src 'none'")
		assert.Contains(t, csp, "connect-src 'self'")
		assert.Contains(t, csp, "script-src 'self';", "this origin only: no inline script, no hash")
		// Every script of the page is loaded from this origin; the one
		// inline <script> is a JSON data block, which browsers never run.
		scripts := regexp.MustCompile(`<script([^>]*)>`).FindAllStringSubmatch(string(page), -1)
		require.NotEmpty(t, scripts)
		for _, s := range scripts {
			attrs := s[1]
			assert.True(t, strings.Contains(attrs, `src="/playground/assets/`) || attrs == ` type="application/json" id="playground-ejemplos"`,
				"a script that is neither an asset nor the data block: %s", s[0])
		}
	})

	t.Run("las_pestanas_de_ejemplo_van_en_la_pagina", func(t *testing.T) {
		m := regexp.MustCompile(`(?s)<script type="application/json" id="playground-ejemplos">(.*?)</script>`).FindSubmatch(page)
		require.NotNil(t, m)
		var tabs []playground.Tab
		require.NoError(t, json.Unmarshal(m[1], &tabs))
		want, err := playground.Tabs()
		require.NoError(t, err)
		assert.Equal(t, want, tabs)
		assert.NotContains(t, string(m[1]), "<", "no example can close the data block")
	})

	t.Run("ruta_de_recurso_desconocida", func(t *testing.T) {
		res, _ := get(t, h, "/playground/assets/nada.js")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}

var actualizar = flag.Bool("actualizar", false, "rewrite ejemplos.json from the README")

// Ensure that the playground's example tabs are the README's example
// operations, in its order, each with the variables of the ```json block
// right under it, and that each parses. `go test ./internal/playground
// -run TestPestanasDelREADME -actualizar` rewrites ejemplos.json after the
// README changes.
func TestPestanasDelREADME(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	want := tabsOf(t, src)
	require.GreaterOrEqual(t, len(want), 13, "README.md: the examples were not found")
	if *actualizar {
		b, err := json.MarshalIndent(want, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("ejemplos.json", append(b, '\n'), 0o644))
	}
	got, err := playground.Tabs()
	require.NoError(t, err)
	require.Equal(t, want, got, "ejemplos.json is out of date: go test ./internal/playground -run TestPestanasDelREADME -actualizar")
	for i, tab := range got {
		_, err := parser.ParseQuery(&ast.Source{Input: tab.Query})
		require.Nil(t, err, "tab %d", i)
		if tab.Variables != "" {
			require.True(t, json.Valid([]byte(tab.Variables)), "tab %d", i)
		}
	}
	names := map[string]bool{}
	for _, tab := range got {
		if m := regexp.MustCompile(`^(?:query|mutation) (\w+)`).FindStringSubmatch(tab.Query); m != nil {
			names[m[1]] = true
		}
	}
	for _, n := range []string{"Cartera", "Operacion", "EjemploCesion", "CrearOperacion", "Aprobar", "Finalizar"} {
		assert.True(t, names[n], "the README's %s is a tab", n)
	}
}

// tabsOf reads the README's ```graphql blocks, each with the ```json block
// right under it (only blank lines between) as its variables: the
// convention the README states, the one cmd/factoring's README test runs.
func tabsOf(t *testing.T, src []byte) []playground.Tab {
	t.Helper()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
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
	var out []playground.Tab
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```graphql" {
			continue
		}
		var tab playground.Tab
		tab.Query, i = block(i)
		next := i + 1
		for next < len(lines) && strings.TrimSpace(lines[next]) == "" {
			next++
		}
		if next < len(lines) && lines[next] == "```json" {
			tab.Variables, i = block(next)
		}
		out = append(out, tab)
	}
	return out
}

// Ensure that assets/README.md records the version and SHA-256 of every
// vendored file, and that each file is the one recorded.
func TestRecursosRegistrados(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("assets", "README.md"))
	require.NoError(t, err)
	entries, err := os.ReadDir("assets")
	require.NoError(t, err)
	for _, e := range entries {
		name := e.Name()
		if name == "README.md" || strings.HasPrefix(name, "playground.") {
			continue // the project's own
		}
		b, err := os.ReadFile(filepath.Join("assets", name))
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(name) + "` \\|.*\\| `([0-9a-f]{64})` \\|$").FindSubmatch(readme)
		require.NotNil(t, row, "assets/README.md has no row for %s", name)
		assert.Equal(t, hex.EncodeToString(sum[:]), string(row[1]), "%s is not the file recorded", name)
	}
}
