//go:build ignore

// entc.go runs ent's code generation with the entgql extension. It is the one
// place that holds ent's feature flags; `make generate` runs it before gqlgen.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("ent.graphql"),
		entgql.WithWhereInputs(true),
	)
	if err != nil {
		log.Fatalf("entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/banpro/factoring/ent",
		Features: []gen.Feature{
			gen.FeatureVersionedMigration, // migrations are Atlas files, never auto-migration
			gen.FeatureLock,               // SELECT ... FOR UPDATE for the domain mutations
			gen.FeatureModifier,           // per-parent limits in entgql's eager loading
			gen.FeatureExecQuery,          // raw SQL for the invariant checker
			gen.FeatureGlobalID,           // one 2^32 id range per type: Relay node ids
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("ent codegen: %v", err)
	}
}
