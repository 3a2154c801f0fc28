// Package factoring is the module root. It holds no code, only the one
// entry point of code generation: `go generate .` (which `make generate`
// runs) regenerates ent and entgql from ent/schema, then the GraphQL
// executor and models from gqlgen.yml, in that order.
package factoring

//go:generate go run ./ent/entc.go
//go:generate go run ./internal/tools/gqlgen
