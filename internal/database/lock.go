package database

import (
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// lockable is any ent query builder with ent's sql/lock feature.
type lockable[Q any] interface {
	ForUpdate(opts ...entsql.LockOption) Q
}

// ForUpdate adds SELECT … FOR UPDATE to q on PostgreSQL, so the rows a
// mutation decides on stay locked until it commits. On SQLite the query is
// returned as is: every transaction there starts with BEGIN IMMEDIATE and so
// already holds the database's only write lock.
//
// This is the one place in the code base that knows row locks are
// PostgreSQL-only.
func ForUpdate[Q lockable[Q]](dia string, q Q) Q {
	if dia == dialect.Postgres {
		return q.ForUpdate()
	}
	return q
}
