package database

import (
	"context"
	"fmt"
	"slices"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/ent/deudor"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/predicate"
	"github.com/banpro/factoring/ent/webhook"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/gid"
)

// LockSet names the rows one mutation decides on. Its fields are the global
// lock order: the cliente, then the deudores by id, then the operación, then
// the facturas by id. Every mutation takes its locks through Lock, so two
// mutations that meet on a row always take the rows they share in the same
// order: they serialize instead of deadlocking.
type LockSet struct {
	// ClienteID names the cliente to lock; nil locks none.
	ClienteID *int
	// ClienteDeOperacion locks the cliente of OperacionID (which must be
	// set) instead: which one it is is read before anything is locked, as
	// the cliente comes first in the order (an operación never changes
	// cliente).
	ClienteDeOperacion bool
	// DeudorIDs names deudores to lock by id, in any order.
	DeudorIDs []int
	// DeudoresDeFacturas locks, besides DeudorIDs, the deudores of the
	// facturas that FacturaIDs and Facturas name: which ones they are is
	// read before anything below them is locked, as the deudores come
	// before the operación and the facturas in the order (a factura never
	// changes deudor).
	DeudoresDeFacturas bool
	// OperacionID names the operación to lock; nil locks none.
	OperacionID *int
	// FacturaIDs names facturas to lock by id, in any order.
	FacturaIDs []int
	// Facturas selects facturas to lock by a condition (an operación's
	// invoices, the overdue ones). With FacturaIDs as well, only the named
	// facturas that match it are locked.
	Facturas predicate.Factura
	// WebhookID and EntregaID name a webhook subscription or one of its
	// deliveries: administrative rows, locked last and never in the same
	// transaction as a cliente (no domain mutation touches them).
	WebhookID *int
	EntregaID *int
}

// Locked is what Lock read: the rows as they stand now that no other
// transaction can change them until this one ends.
type Locked struct {
	Cliente   *ent.Cliente   // nil when the set named none
	Deudores  []*ent.Deudor  // in id order; the ones that exist
	Operacion *ent.Operacion // nil when the set named none
	Facturas  []*ent.Factura // in id order; the ones that exist
	Webhook   *ent.Webhook   // nil when the set named none
	Entrega   *ent.Entrega   // nil when the set named none
}

// Lock reads the rows of set inside tx and locks them until tx ends, in the
// global order. On SQLite nothing is locked row by row: every transaction
// there starts with BEGIN IMMEDIATE and so already holds the database's
// only write lock (see forUpdate).
//
// A named cliente or operación that does not exist is NOT_FOUND. Facturas
// that do not exist are left out of Locked.Facturas: whether that is an
// error, and which, is the caller's rule.
func (d *DB) Lock(ctx context.Context, tx *ent.Tx, set LockSet) (Locked, error) {
	var l Locked
	var err error
	clienteID := set.ClienteID
	if set.ClienteDeOperacion {
		id, err := tx.Operacion.Query().Where(operacion.ID(*set.OperacionID)).Select(operacion.FieldClienteID).Int(ctx)
		if ent.IsNotFound(err) {
			return l, noOperacion(*set.OperacionID)
		}
		if err != nil {
			return l, fmt.Errorf("leer el cliente de la operación %d: %w", *set.OperacionID, err)
		}
		clienteID = &id
	}
	if clienteID != nil {
		l.Cliente, err = forUpdate(d.Dialect, tx.Cliente.Query().Where(cliente.ID(*clienteID))).Only(ctx)
		if ent.IsNotFound(err) {
			return l, apperror.NotFoundf("No existe un cliente con ID %s.", gid.Encode(*clienteID))
		}
		if err != nil {
			return l, fmt.Errorf("bloquear cliente %d: %w", *clienteID, err)
		}
	}
	var where []predicate.Factura
	if len(set.FacturaIDs) > 0 {
		where = append(where, factura.IDIn(set.FacturaIDs...))
	}
	if set.Facturas != nil {
		where = append(where, set.Facturas)
	}
	deudorIDs := set.DeudorIDs
	if set.DeudoresDeFacturas && len(where) > 0 {
		ids, err := tx.Factura.Query().Where(where...).Unique(true).Select(factura.FieldDeudorID).Ints(ctx)
		if err != nil {
			return l, fmt.Errorf("leer los deudores de las facturas: %w", err)
		}
		deudorIDs = append(slices.Clone(deudorIDs), ids...)
	}
	if len(deudorIDs) > 0 {
		// ORDER BY id, as for the facturas below.
		q := tx.Deudor.Query().Where(deudor.IDIn(deudorIDs...)).Order(ent.Asc(deudor.FieldID))
		if l.Deudores, err = forUpdate(d.Dialect, q).All(ctx); err != nil {
			return l, fmt.Errorf("bloquear deudores: %w", err)
		}
	}
	if set.OperacionID != nil {
		l.Operacion, err = forUpdate(d.Dialect, tx.Operacion.Query().Where(operacion.ID(*set.OperacionID))).Only(ctx)
		if ent.IsNotFound(err) {
			return l, noOperacion(*set.OperacionID)
		}
		if err != nil {
			return l, fmt.Errorf("bloquear operación %d: %w", *set.OperacionID, err)
		}
	}
	if len(where) > 0 {
		// ORDER BY id: PostgreSQL locks the rows in the order it returns
		// them.
		q := tx.Factura.Query().Where(where...).Order(ent.Asc(factura.FieldID))
		if l.Facturas, err = forUpdate(d.Dialect, q).All(ctx); err != nil {
			return l, fmt.Errorf("bloquear facturas: %w", err)
		}
	}
	if set.WebhookID != nil {
		l.Webhook, err = forUpdate(d.Dialect, tx.Webhook.Query().Where(webhook.ID(*set.WebhookID))).Only(ctx)
		if ent.IsNotFound(err) {
			return l, apperror.NotFoundf("No existe un webhook con ID %s.", gid.Encode(*set.WebhookID))
		}
		if err != nil {
			return l, fmt.Errorf("bloquear webhook %d: %w", *set.WebhookID, err)
		}
	}
	if set.EntregaID != nil {
		l.Entrega, err = forUpdate(d.Dialect, tx.Entrega.Query().Where(entrega.ID(*set.EntregaID))).Only(ctx)
		if ent.IsNotFound(err) {
			return l, apperror.NotFoundf("No existe una entrega con ID %s.", gid.Encode(*set.EntregaID))
		}
		if err != nil {
			return l, fmt.Errorf("bloquear entrega %d: %w", *set.EntregaID, err)
		}
	}
	return l, nil
}

// LockQueue locks the rows q selects (FOR UPDATE on PostgreSQL) for the
// outbox dispatcher, which takes events and deliveries as a queue: those
// tables are outside the mutations' lock order and no transaction that
// uses it holds a domain lock.
func LockQueue[Q lockable[Q]](dia string, q Q) Q { return forUpdate(dia, q) }

func noOperacion(id int) error {
	return apperror.NotFoundf("No existe una operación con ID %s.", gid.Encode(id))
}

// lockable is any ent query builder with ent's sql/lock feature.
type lockable[Q any] interface {
	ForUpdate(opts ...entsql.LockOption) Q
}

// forUpdate adds SELECT … FOR UPDATE to q on PostgreSQL, so the rows a
// mutation decides on stay locked until it commits. On SQLite the query is
// returned as is: every transaction there starts with BEGIN IMMEDIATE and so
// already holds the database's only write lock.
//
// This is the one place in the code base that knows row locks are
// PostgreSQL-only.
func forUpdate[Q lockable[Q]](dia string, q Q) Q {
	if dia == dialect.Postgres {
		return q.ForUpdate()
	}
	return q
}
