package gqlserver_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that an error in the GraphQL document carries the code client
// libraries know (GRAPHQL_PARSE_FAILED for syntax, GRAPHQL_VALIDATION_FAILED
// for the rest), that what is wrong with a value the request sent stays a
// VALIDATION_ERROR naming it, and that the messages a person writing a
// query meets are in Spanish, with the schema's names as they are.
func TestErroresDelDocumento(t *testing.T) {
	db := testkit.SQLite(t)
	fx := testkit.NewFixture(t, db.Client)
	id := testkit.IDOf(fx.Cliente())[0]
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{})

	cases := []struct {
		name    string
		query   string
		vars    map[string]any
		code    apperror.Code
		message string            // the whole message, for a document error
		fields  map[string]string // for a value error
	}{
		{
			name: "sintaxis", query: `{ clientes { totalCount }`, code: apperror.GraphQLParseFailed,
			message: `Consulta GraphQL inválida: Se esperaba Name y se encontró el fin del documento.`,
		},
		{
			name: "simbolo_inesperado", query: `{ clientes(first: ) { totalCount } }`, code: apperror.GraphQLParseFailed,
			message: `Consulta GraphQL inválida: Símbolo inesperado: ).`,
		},
		{
			name: "campo_desconocido", query: `{ clientes { totalCont } }`, code: apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: No existe el campo "totalCont" en el tipo "ClienteConnection". ¿Quiso decir "totalCount"?`,
		},
		{
			name: "argumento_desconocido", query: `{ clientes(primeros: 1) { totalCount } }`, code: apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: El campo "Query.clientes" no tiene un argumento "primeros".`,
		},
		{
			name: "tipo_de_argumento", query: `{ clientes(first: "diez") { totalCount } }`, code: apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: El valor "diez" no es de tipo Int.`,
		},
		{
			name: "argumento_obligatorio", query: `{ cliente { id } }`, code: apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: Falta el argumento obligatorio "id" (de tipo "ID!") del campo "cliente".`,
		},
		{
			name: "campo_obligatorio_de_input", query: `mutation { crearOperacion(input: { facturaIds: [] }) { id } }`,
			code:    apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: Falta el campo obligatorio "clienteId" (de tipo "ID!") de "CrearOperacionInput".`,
		},
		{
			name: "tipo_de_variable", query: `query($n: String) { clientes(first: $n) { totalCount } }`, vars: map[string]any{"n": "1"},
			code:    apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: La variable "$n" es de tipo "String", pero se usa donde se espera un "Int".`,
		},
		{
			name: "valor_de_enum", query: `{ clientes(where: {estado: ACTIVA}) { totalCount } }`, code: apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: El valor "ACTIVA" no existe en el enum "EstadoCliente". ¿Quiso decir el valor "ACTIVO"?`,
		},
		{
			name: "variable_no_declarada", query: `{ cliente(id: $id) { id } }`, code: apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: La variable "$id" no está declarada en la operación.`,
		},
		{
			name: "hoja_sin_subcampos", query: `{ clientes }`, code: apperror.GraphQLValidationFailed,
			message: `Consulta GraphQL inválida: El campo "clientes" (de tipo "ClienteConnection!") necesita una selección de subcampos entre llaves. ¿Quiso decir "clientes { ... }"?`,
		},
		// A value that does not fit: VALIDATION_ERROR, naming the variable
		// or the argument.
		{
			name: "variable_obligatoria_ausente", query: `query($id: ID!) { cliente(id: $id) { id } }`,
			code: apperror.Validation, fields: map[string]string{"id": "Es obligatoria y no se envió."},
		},
		{
			name: "variable_nula", query: `query($id: ID!) { cliente(id: $id) { id } }`, vars: map[string]any{"id": nil},
			code: apperror.Validation, fields: map[string]string{"id": "No puede ser null."},
		},
		{
			name: "variable_de_otro_tipo", query: `query($n: Int) { clientes(first: $n) { totalCount } }`, vars: map[string]any{"n": "diez"},
			code: apperror.Validation, fields: map[string]string{"n": "Se esperaba un valor de tipo Int (se recibió string)."},
		},
		{
			name: "enum_en_variable", query: `query($e: EstadoCliente) { clientes(where: {estado: $e}) { totalCount } }`, vars: map[string]any{"e": "ACTIVA"},
			code: apperror.Validation, fields: map[string]string{"e": "ACTIVA no es un valor válido de EstadoCliente."},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.Do(tc.query, tc.vars)
			var fields []string
			for f := range tc.fields {
				fields = append(fields, f)
			}
			e := testkit.RequireGQLError(t, res, tc.code, fields...)
			assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "refused before execution (application/json)")
			testkit.RequireNullData(t, res)
			if tc.message != "" {
				assert.Equal(t, tc.message, e.Message)
			}
			for f, m := range tc.fields {
				assert.Equal(t, m, e.Extensions.Fields[f])
			}
		})
	}

	// A scalar that does not parse is a value, whatever the document:
	// VALIDATION_ERROR on the argument.
	t.Run("decimal_invalido", func(t *testing.T) {
		res := c.Do(`mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "abc") { id } }`, map[string]any{"id": id})
		testkit.RequireGQLError(t, res, apperror.Validation, "lineaCredito")
	})
}
