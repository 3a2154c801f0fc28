package playground_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

	t.Run("no_carga_nada_de_terceros", func(t *testing.T) {
		assert.NotContains(t, string(page), "cdn.jsdelivr.net")
		assert.NotContains(t, string(page), "unpkg.com")
	})

	t.Run("sirve_cada_recurso_con_el_hash_que_declara_la_pagina", func(t *testing.T) {
		tags := regexp.MustCompile(`(?:src|href)="(/playground/assets/[^"]+)"\s+integrity="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
		require.Len(t, tags, 4, "react, react-dom, graphiql js and css")
		for _, tag := range tags {
			res, body := get(t, h, tag[1])
			require.Equal(t, http.StatusOK, res.StatusCode, tag[1])
			assert.Equal(t, html.UnescapeString(tag[2]), sri(body), "SRI of %s", tag[1])
		}
	})

	t.Run("la_csp_solo_permite_este_origen_y_el_script_en_linea", func(t *testing.T) {
		csp := res.Header.Get("Content-Security-Policy")
		assert.Equal(t, h.CSP(), csp)
		assert.Contains(t, csp, "default-src 'none'")
		assert.Contains(t, csp, "connect-src 'self'")
		var scriptSrc string
		for d := range strings.SplitSeq(csp, ";") {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src ") {
				scriptSrc = d
			}
		}
		require.NotEmpty(t, scriptSrc, csp)
		assert.NotContains(t, scriptSrc, "unsafe-inline", "scripts are never unsafe-inline")
		assert.NotContains(t, scriptSrc, "unsafe-eval")
		assert.NotContains(t, scriptSrc, "http", "no script host but this origin")
		inline := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllSubmatch(page, -1)
		require.Len(t, inline, 1)
		assert.Contains(t, csp, "script-src 'self' '"+sri(inline[0][1])+"'")
	})

	t.Run("ruta_de_recurso_desconocida", func(t *testing.T) {
		res, _ := get(t, h, "/playground/assets/nada.js")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}
