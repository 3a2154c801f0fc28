package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/banpro/factoring/internal/app"
)

// Ensure that `factoring schema` prints the public SDL, the one
// /schema.graphql serves, without configuration or database: what client
// codegen reads (examples/codegen).
func TestComandoSchema(t *testing.T) {
	c := sqliteCLI(t)
	c.env["FACTORING_TASA_DESCUENTO"] = "0" // an invalid configuration: not read
	c.env["FACTORING_DATABASE_URL"] = "postgres://nadie@127.0.0.1:1/no-existe"
	out := c.mustRun("schema")
	assert.Equal(t, app.SDL(), out)
	assert.Contains(t, out, "type Query {")
	assert.NotContains(t, out, "github.com")
	_, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: out})
	require.Nil(t, err)
}
