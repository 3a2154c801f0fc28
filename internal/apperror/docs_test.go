package apperror_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
)

// Ensure that the code table for client authors (docs/api.md, "Error codes
// for client authors") lists every code of the server's table, once, with
// its HTTP status and retryability: what a client library is written
// against cannot drift from what the server does.
func TestCodigosDocumentados(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	require.NoError(t, err)
	rows := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| (\\d{3}) \\| (yes|no) \\| [^|]+ \\| [^|]+ \\|$").FindAllSubmatch(doc, -1)
	documented := map[apperror.Code]int{}
	for _, r := range rows {
		code := apperror.Code(r[1])
		documented[code]++
		require.True(t, code.Known(), "docs/api.md documents %s, which the server does not have", code)
		status, err := strconv.Atoi(string(r[2]))
		require.NoError(t, err)
		assert.Equal(t, code.HTTPStatus(), status, "status of %s", code)
		assert.Equal(t, code.Retryable(), string(r[3]) == "yes", "retryable of %s", code)
	}
	for _, code := range apperror.Codes() {
		assert.Equal(t, 1, documented[code], "docs/api.md lists %s once in the code table", code)
	}
}
