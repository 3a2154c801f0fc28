package gqlserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/banpro/factoring/internal/apperror"
)

// TrustedDocuments is an allow-list of operations (trusted documents, a
// safelist): the hex SHA-256 of each document the server may run, mapped
// to the document. With one, the server runs nothing else, sent in full or
// by hash: a production API called only by its own frontends so refuses
// every query an attacker writes. A frontend's build produces the list
// (graphql-codegen's client preset, with persistedDocuments and the sha256
// hash algorithm, writes a manifest in this very shape).
type TrustedDocuments map[string]string

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// LoadTrustedDocuments reads the list at path, a JSON object
// {"<sha256>": "<document>", …}, and checks that each key is its
// document's SHA-256 and that each document parses and validates against
// schema: a stale list stops the server at start, not its clients later.
func LoadTrustedDocuments(path string, schema graphql.ExecutableSchema) (TrustedDocuments, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var docs TrustedDocuments
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, fmt.Errorf("%s no es un objeto JSON {\"<sha256>\": \"<documento>\"}: %w", path, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s no tiene ninguna operación", path)
	}
	for _, hash := range slices.Sorted(maps.Keys(docs)) {
		doc := docs[hash]
		if !sha256Hex.MatchString(hash) || hash != sha256Of(doc) {
			return nil, fmt.Errorf("%s: la clave %q no es el SHA-256 (hexadecimal, minúsculas) de su documento", path, hash)
		}
		q, perr := parser.ParseQuery(&ast.Source{Input: doc})
		if perr != nil {
			return nil, fmt.Errorf("%s: el documento %s…: %w", path, hash[:12], perr)
		}
		if errs := validator.Validate(schema.Schema(), q); len(errs) > 0 {
			return nil, fmt.Errorf("%s: el documento %s… no es válido para el esquema: %s", path, hash[:12], errs[0].Message)
		}
	}
	return docs, nil
}

func sha256Of(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// notInList refuses an operation the list does not have.
func notInList(message string) *apperror.Error {
	return apperror.Errorf(apperror.PersistedQueryNotInList, "%s", message)
}
