package app

import (
	"context"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/facturas"
)

// ComoSistema is ctx acting as the system principal, the actor of every
// record a background job writes (auth.Sistema).
func ComoSistema(ctx context.Context) context.Context {
	return auth.NewContext(ctx, auth.Principal{Subject: auth.Sistema})
}

// Cierre is the close of business as a job (`factoring cierre`, and the
// daily schedule: pass it, wrapped to return only its error, as the run of
// despacho.TareaVencidas): Facturas.Cerrar as the system principal. It
// closes every business date after the last one closed, in order, up to
// the business date, and returns what each did.
func Cierre(s ServiceSet) func(ctx context.Context) ([]facturas.ResultadoCierre, error) {
	return func(ctx context.Context) ([]facturas.ResultadoCierre, error) {
		return s.Facturas.Cerrar(ComoSistema(ctx))
	}
}
