// Package gqlserver_test specifies the GraphQL endpoint's request policy
// through its HTTP boundary: every test posts real GraphQL to the full
// server (middleware, transports, limits, roles, error presenter,
// resolvers) over a real database built by the migrations, on SQLite and
// on PostgreSQL.
package gqlserver_test
