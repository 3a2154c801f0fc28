package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/ent/deudor"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/suscripciones"
)

// orNotFound turns ent's not-found error of a lookup by id into the API's
// NOT_FOUND, naming what was looked for and its id as the client wrote it.
//
//	return orNotFound(q.Only(ctx))("cliente", id)
func orNotFound[T any](v T, err error) func(what string, id int) (T, error) {
	return func(what string, id int) (T, error) {
		if ent.IsNotFound(err) {
			var zero T
			return zero, apperror.NotFoundf("No existe %s con ID %s.", article(what), gid.Encode(id))
		}
		return v, err
	}
}

func article(what string) string {
	switch what {
	case "factura", "operación":
		return "una " + what
	default:
		return "un " + what
	}
}

// nodes resolves Query.nodes: null in place of each id that names no node,
// with a NOT_FOUND error at that index. (internal/gqlserver has already
// refused more than a page of ids, before anything ran.)
func nodes(ctx context.Context, client *ent.Client, ids []int) ([]ent.Noder, error) {
	if len(ids) == 1 {
		// entgql's Noders fails the whole list for a single missing id;
		// report it at its index like any other.
		n, err := client.Noder(pagedContext(ctx), ids[0])
		if ent.IsNotFound(err) {
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(0)),
				apperror.NotFoundf("No existe un nodo con ID %s.", gid.Encode(ids[0])))
			return []ent.Noder{nil}, nil
		}
		if err != nil {
			return nil, err
		}
		return []ent.Noder{n}, nil
	}
	return client.Noders(pagedContext(ctx), ids)
}

// clientePorRut finds a cliente by any accepted spelling of its RUT.
func clientePorRut(ctx context.Context, client *ent.Client, raw string) (*ent.Cliente, error) {
	canonical, err := rut.Normalize(raw)
	if err != nil {
		return nil, apperror.Invalid("rut", err.Error())
	}
	q, err := client.Cliente.Query().Where(cliente.Rut(canonical)).CollectFields(pagedContext(ctx))
	if err != nil {
		return nil, err
	}
	c, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperror.NotFoundf("No existe un cliente con RUT %s.", canonical)
	}
	return c, err
}

// nodoDe is the entity an event is about, read now: its sujeto is a global
// id. An entity that is not there (never the case: none is deleted) is
// null with NOT_FOUND, as for node.
func nodoDe(ctx context.Context, client *ent.Client, e *suscripciones.Evento) (ent.Noder, error) {
	id, _, ok := gid.Decode(e.Sujeto)
	if !ok {
		return nil, apperror.NotFoundf("No existe un nodo con ID %s.", e.Sujeto)
	}
	return orNotFound(client.Noder(pagedContext(ctx), id))("nodo", id)
}

// sinSuscripciones stands in for the hub of a schema built without one
// (the SDL, tools): every subscription is refused.
type sinSuscripciones struct{}

func (sinSuscripciones) Suscribir(context.Context, suscripciones.Filtro) (<-chan *suscripciones.Evento, error) {
	return nil, apperror.Errorf(apperror.Unavailable, "Este servidor no atiende suscripciones.")
}

// deudorPorRut finds a deudor by any accepted spelling of its RUT.
func deudorPorRut(ctx context.Context, client *ent.Client, raw string) (*ent.Deudor, error) {
	canonical, err := rut.Normalize(raw)
	if err != nil {
		return nil, apperror.Invalid("rut", err.Error())
	}
	q, err := client.Deudor.Query().Where(deudor.Rut(canonical)).CollectFields(pagedContext(ctx))
	if err != nil {
		return nil, err
	}
	d, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperror.NotFoundf("No existe un deudor con RUT %s.", canonical)
	}
	return d, err
}
