package gqlserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that a value the database cannot store or compare (a NUL byte in
// text, which PostgreSQL refuses) is the client's VALIDATION_ERROR, never an
// INTERNAL_ERROR, in a filter and in a mutation's input.
func TestValorInaceptableParaLaBaseDeDatos(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		res := c.Do(`query($q: String!) { clientes(where: {razonSocialContains: $q}) { totalCount } }`,
			map[string]any{"q": "a\u0000b"})
		if len(res.Errors) > 0 {
			require.Len(t, res.Errors, 1, res.Raw)
			assert.Equal(t, "VALIDATION_ERROR", res.Errors[0].Extensions.Code, res.Raw)
		}
		res = c.Do(`mutation($r: String!) { crearCliente(input: {rut: "76.086.428-5", razonSocial: $r, email: "a@b.cl", lineaCredito: "1"}) { id } }`,
			map[string]any{"r": "Empresa\u0000SpA"})
		require.Len(t, res.Errors, 1, res.Raw)
		assert.Equal(t, "VALIDATION_ERROR", res.Errors[0].Extensions.Code, res.Raw)
		assert.Contains(t, res.Errors[0].Extensions.Fields, "razonSocial", res.Raw)
	})
}
