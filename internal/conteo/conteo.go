// Package conteo counts the rows of a list up to a bound: the answer to
// "how many?" that large lists can afford.
//
// A connection's totalCount is exact, and the database visits every row
// that matches the filter to give it: fine for a cliente's facturas, a
// cost that grows with the table for the whole of facturas or operaciones.
// A bounded count visits at most hasta + 1 of them,
//
//	SELECT COUNT(*) FROM (SELECT 1 FROM facturas WHERE … LIMIT hasta+1) AS filas
//
// and answers min(n, hasta), exact when n ≤ hasta: what a "más de 1.000"
// label needs. The filter is the list's own where input, applied with the
// predicates entgql generates for it, so both count the same rows.
package conteo

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/ent/deudor"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/internal/apperror"
)

// The bounds of hasta.
const (
	// HastaPorDefecto is the bound when the caller gives none.
	HastaPorDefecto = 1_000
	// HastaMaximo is the largest bound: a count past it costs about what
	// the exact totalCount would, on the tables this API serves.
	HastaMaximo = 100_000
)

// Conteo is a bounded count: Valor rows, all of them if Exacto, else at
// least Valor (more than Valor, in fact: the count found Valor + 1).
type Conteo struct {
	Valor  int
	Exacto bool
}

// Hasta is the bound a request asks for: h, or HastaPorDefecto when h is
// absent or null.
func Hasta(h *int) int {
	if h == nil {
		return HastaPorDefecto
	}
	return *h
}

// ValidarHasta refuses a bound outside 1…HastaMaximo, blaming the argument
// hasta.
func ValidarHasta(hasta int) *apperror.Error {
	if hasta < 1 || hasta > HastaMaximo {
		return HastaInvalido(hasta)
	}
	return nil
}

// HastaInvalido is the VALIDATION_ERROR of a bound outside 1…HastaMaximo
// (or no integer at all), naming what was received.
func HastaInvalido(recibido any) *apperror.Error {
	return apperror.Invalid("hasta", fmt.Sprintf("Debe estar entre 1 y %d (se recibió %v).", HastaMaximo, recibido))
}

// Clientes counts, up to hasta, the clientes where selects (all of them
// when nil).
func Clientes(ctx context.Context, c *ent.Client, where *ent.ClienteWhereInput, hasta int) (*Conteo, error) {
	p, err := predicado(where, (*ent.ClienteWhereInput).P, ent.ErrEmptyClienteWhereInput)
	if err != nil {
		return nil, err
	}
	return contar(hasta, cliente.Table, p, func(m func(*sql.Selector)) (int, error) {
		return c.Cliente.Query().Modify(m).Int(ctx)
	})
}

// Facturas counts, up to hasta, the facturas where selects.
func Facturas(ctx context.Context, c *ent.Client, where *ent.FacturaWhereInput, hasta int) (*Conteo, error) {
	p, err := predicado(where, (*ent.FacturaWhereInput).P, ent.ErrEmptyFacturaWhereInput)
	if err != nil {
		return nil, err
	}
	return contar(hasta, factura.Table, p, func(m func(*sql.Selector)) (int, error) {
		return c.Factura.Query().Modify(m).Int(ctx)
	})
}

// Operaciones counts, up to hasta, the operaciones where selects.
func Operaciones(ctx context.Context, c *ent.Client, where *ent.OperacionWhereInput, hasta int) (*Conteo, error) {
	p, err := predicado(where, (*ent.OperacionWhereInput).P, ent.ErrEmptyOperacionWhereInput)
	if err != nil {
		return nil, err
	}
	return contar(hasta, operacion.Table, p, func(m func(*sql.Selector)) (int, error) {
		return c.Operacion.Query().Modify(m).Int(ctx)
	})
}

// Deudores counts, up to hasta, the deudores where selects.
func Deudores(ctx context.Context, c *ent.Client, where *ent.DeudorWhereInput, hasta int) (*Conteo, error) {
	p, err := predicado(where, (*ent.DeudorWhereInput).P, ent.ErrEmptyDeudorWhereInput)
	if err != nil {
		return nil, err
	}
	return contar(hasta, deudor.Table, p, func(m func(*sql.Selector)) (int, error) {
		return c.Deudor.Query().Modify(m).Int(ctx)
	})
}

// predicado is where's predicate, nil for no filter. An absent or empty
// where input filters nothing, exactly as the generated WhereInput.Filter
// (what the list applies) decides; any other error of P is the list's too.
func predicado[W any, P ~func(*sql.Selector)](where *W, pred func(*W) (P, error), vacio error) (func(*sql.Selector), error) {
	if where == nil {
		return nil, nil
	}
	p, err := pred(where)
	if err == vacio { // Filter's own comparison: an empty input nested in not/and/or is an error there too
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return (func(*sql.Selector))(p), nil
}

// contar runs the bounded count over tabla filtered by p. consultar runs
// an ent query of tabla with the given modifier, which turns its statement
// into
//
//	SELECT COUNT(*) FROM (SELECT 1 FROM tabla WHERE p LIMIT hasta+1) AS filas
//
// in the query's own dialect, and scans the one integer it returns.
func contar(hasta int, tabla string, p func(*sql.Selector), consultar func(func(*sql.Selector)) (int, error)) (*Conteo, error) {
	if err := ValidarHasta(hasta); err != nil {
		return nil, err
	}
	n, err := consultar(func(s *sql.Selector) {
		filas := sql.Dialect(s.Dialect()).Select().From(sql.Table(tabla))
		filas.SelectExpr(sql.Expr("1"))
		if p != nil {
			p(filas) // before As: the predicates name the table's columns
		}
		filas.Limit(hasta + 1)
		if err := filas.Err(); err != nil {
			s.AddError(err)
		}
		s.From(filas.As("filas")).Select(sql.Count("*"))
	})
	if err != nil {
		return nil, fmt.Errorf("contar %s: %w", tabla, err)
	}
	return &Conteo{Valor: min(n, hasta), Exacto: n <= hasta}, nil
}
