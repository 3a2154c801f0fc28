package gqlserver_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that a selection set wider than gqlserver.MaxFieldsPerSelection is
// refused before it is parsed or validated (gqlparser's validation is
// quadratic in it), and that one at the limit runs.
func TestSeleccionDemasiadoAncha(t *testing.T) {
	testkit.EachDBCounted(t, func(t *testing.T, db *database.DB, n *database.StatementCounter) {
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		query := func(fields int) string {
			return "{ clientes(first: 1) { edges { node { " + strings.Repeat("id ", fields) + "} } } }"
		}

		n.Reset()
		res := c.Do(query(gqlserver.MaxFieldsPerSelection), nil)
		assert.Empty(t, res.Errors, res.Raw)

		for _, fields := range []int{gqlserver.MaxFieldsPerSelection + 1, 5000} {
			n.Reset()
			res = c.Do(query(fields), nil)
			require.Len(t, res.Errors, 1, res.Raw)
			assert.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", res.Errors[0].Extensions.Code)
			assert.Contains(t, res.Errors[0].Message, "campos")
			assert.Zero(t, n.Load(), "nothing ran")
		}

		// Arguments and object values inside them are not fields.
		res = c.Do(`{ clientes(first: 1, where: {`+strings.Repeat("razonSocialNEQ: \"x\", ", 1)+`estado: ACTIVO}) { totalCount } }`, nil)
		assert.Empty(t, res.Errors, res.Raw)
	})
}
