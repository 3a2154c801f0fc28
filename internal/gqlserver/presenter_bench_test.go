package gqlserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/requestid"
)

// BenchmarkErrorPresenter measures the one error presenter on the two
// errors it meets most: a service's VALIDATION_ERROR naming a field, and an
// error it does not know (logged, shown as INTERNAL_ERROR; the log goes to
// a discarding handler, so the figure is the presenter's own cost plus
// slog's record building).
func BenchmarkErrorPresenter(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	ctx := requestid.NewContext(context.Background(), "5b1c2d0e-8f1a-4c52-9d7e-0a1b2c3d4e5f")
	ctx = graphql.WithPathContext(ctx, graphql.NewPathWithField("crearOperacion"))
	cases := []struct {
		name string
		err  error
	}{
		{"validation_error", fmt.Errorf("crear operación: %w",
			apperror.Invalid("facturaIds", "Solo se pueden ceder facturas DISPONIBLE; no lo están: RmFjdHVyYToxMg (CEDIDA)."))},
		{"desconocido", fmt.Errorf("crear operación: %w",
			errors.New("ERROR: could not serialize access due to concurrent update (SQLSTATE 40001)"))},
	}
	p := newPresenter(log, nil)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if out := p.present(ctx, c.err); out == nil {
					b.Fatal("sin error presentado")
				}
			}
		})
	}
}
