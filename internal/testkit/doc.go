// Package testkit is everything the project's tests share, each helper
// once:
//
//   - databases (db.go): a real database per test, built by the real
//     migrations, on SQLite and on PostgreSQL (EachDB, SQLite, Postgres);
//   - the served API (serve.go): the whole server, as the command builds
//     it, over a test database on an httptest server (Serve, or Handler
//     to call ServeHTTP directly), with the tests' clock (Hoy),
//     configuration (Config, WithAuth) and tokens (Token);
//   - the GraphQL client (client.go): posts real GraphQL and decodes the
//     answer (Client, Data), with the assertions on responses
//     (RequireGQLError, RequireNullData, RequireNoLeaks, RequireNoSQL) and
//     the shapes of Relay connections (Conn);
//   - builders through the domain services (domain.go): an Env whose
//     clientes, facturas and operaciones went through the services, so
//     they obey the rules the tests check, and the assertions the domain
//     tests share (RequireCode, RequireVerificado, Snapshot, Race);
//   - builders straight through ent (fixture.go): rows laid out quickly
//     for the read API's tests (Fixture);
//   - rows of an older schema in plain SQL (antiguo.go), for the tests of
//     a data migration (Antiguo, MigracionesHasta);
//   - values (values.go): decimals, pointers, RUTs, dates, a log buffer.
//
// Only tests import it: a layering test (internal/arch) fails when product
// code does. It imports internal/app, which wires every package of the
// module, so a package's internal tests (package x, not x_test) cannot
// import it when internal/app depends on x: those keep their few helpers
// local.
//
// Where the helpers came from (for branches written against the old
// packages):
//
//	testdb.Each / EachWith                  → testkit.EachDB / EachDBWith
//	testdb.SQLite, SQLiteWith, Postgres,    → testkit.(same names)
//	  PostgresWith, EmptySQLite,
//	  EmptyPostgres, EmptyPostgresURL
//	testdb.ServerURL                        → testkit.PostgresServerURL
//	testdb.EnvURL / EnvRequire / DefaultURL → testkit.EnvDatabaseURL /
//	                                          EnvRequirePostgres /
//	                                          DefaultPostgresURL
//	apptest.Serve, Services, Config,        → testkit.(same names)
//	  WithAuth, Token, Secret, Hoy, Santiago
//	apptest.Options                         → testkit.ServeOptions
//	apptest.Dec, domaintest.Dec             → testkit.Dec
//	apptest.SyncBuffer                      → testkit.SyncBuffer
//	gqltest.New                             → testkit.NewClient
//	gqltest.Client, Response                → testkit.Client, Response
//	gqltest.Error                           → testkit.GQLError
//	client.MustData(q, v, &out)             → out := testkit.Data[T](t, client, q, v)
//	e := client.MustFail(q, v);             → e := testkit.RequireGQLError(t,
//	  domaintest.RequireGQLError(t, e, …)       client.Do(q, v), code, fields...)
//	domaintest.New                          → testkit.NewEnv
//	domaintest.Env and the rest             → testkit.(same names)
//	fixture.New / fixture.Builder           → testkit.NewFixture / testkit.Fixture
//	fixture.RUT(n)                          → testkit.NewRUT() (or the row's Rut)
//	graph's and gqlserver's conn, pageInfo, → testkit.Conn, PageInfo, Node,
//	  node, ids, idOf, reversed, data,        IDs, IDOf, Reversed, Data,
//	  requireError, requireNullData,          RequireGQLError, RequireNullData,
//	  countedDB, eachCounted                  CountedDB, EachDBCounted
//	gqlserver's and httpserver's send/post, → Client.Post, Client.Get,
//	  getGraphQL, requireOneError,            RequireGQLError, PaddedBody
//	  paddedBody
//	app's and gqlserver's sinSQL, sinFugas, → RequireNoSQL, RequireNoLeaks
//	  leaks; gqlserver's requireNoLeak
//	app's como, operaciones' bearer.do      → Client.DoAs(token, q, v)
//	app's servidor (app.NewServer by hand)  → testkit.Handler
//
// RequireGQLError takes an apperror.Code; a string literal ("NOT_FOUND")
// still converts, a string variable needs apperror.Code(v).
//
// Mutations' GraphQL tests live with the read tests in graph (package
// graph_test); the domain packages keep their service-level tests.
package testkit
