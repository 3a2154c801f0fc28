package gqlserver

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/banpro/factoring/internal/apperror"
)

// MaxFieldsPerSelection bounds the fields one selection set may list, at one
// level. gqlparser's validation compares every pair of fields of a selection
// set to check they can be merged, which is quadratic: 5,000 repetitions of
// `id`, within the token limit, cost 2.7 s of CPU before any other limit
// could refuse them. Real queries list a few dozen fields at one level.
const MaxFieldsPerSelection = 200

// selectionGuard refuses, before the query is even parsed, a selection set
// wider than MaxFieldsPerSelection. It lexes the raw query once (linear) and
// counts the names at each level outside arguments: an approximation that
// only overcounts (an alias, a spread's "on"), never undercounts.
type selectionGuard struct{ maxTokens int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = selectionGuard{}

func (selectionGuard) ExtensionName() string                   { return "SelectionGuard" }
func (selectionGuard) Validate(graphql.ExecutableSchema) error { return nil }

func (g selectionGuard) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	n, pos := widestSelection(params.Query, g.maxTokens)
	if n <= MaxFieldsPerSelection {
		return nil
	}
	return limitError(apperror.ComplexityLimit, pos,
		"Un conjunto de selección lista %d campos; el máximo es %d.", n, MaxFieldsPerSelection)
}

// widestSelection returns the largest number of names listed directly in one
// selection set of query, and where that set starts. It gives up (returning
// what it counted) on a lexer error, which the parser will report, or after
// maxTokens tokens, which the parser will refuse.
func widestSelection(query string, maxTokens int) (int, *ast.Position) {
	lx := lexer.New(&ast.Source{Input: query})
	var (
		counts []int // one per open brace
		starts []lexer.Token
		parens int
		widest int
		at     *ast.Position
	)
	for i := 0; maxTokens <= 0 || i <= maxTokens; i++ {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		switch tok.Kind {
		case lexer.ParenL:
			parens++
		case lexer.ParenR:
			parens--
		case lexer.BraceL:
			counts = append(counts, 0)
			starts = append(starts, tok)
		case lexer.BraceR:
			if len(counts) > 0 {
				counts, starts = counts[:len(counts)-1], starts[:len(starts)-1]
			}
		case lexer.Name:
			if parens == 0 && len(counts) > 0 {
				top := len(counts) - 1
				counts[top]++
				if counts[top] > widest {
					widest = counts[top]
					p := starts[top].Pos
					at = &p
				}
			}
		}
	}
	return widest, at
}
