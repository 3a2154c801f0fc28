package gqlserver

import (
	"context"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
)

// documentPrefix opens the message of every error in the GraphQL document.
const documentPrefix = "Consulta GraphQL inválida: "

// documentError classifies an error gqlgen marked as a parse or validation
// failure (code is its errcode). Errors in the document itself take the
// codes GraphQL client libraries know, GRAPHQL_PARSE_FAILED and
// GRAPHQL_VALIDATION_FAILED; what is wrong with a value the request sent
// (a variable that does not fit its type, a missing query, an
// operationName the document lacks) stays a VALIDATION_ERROR, like any
// other bad input, naming what to fix in fields.
//
// gqlparser writes its messages in English; the ones a person writing a
// query meets are said in Spanish here, keeping the names of fields, types
// and arguments as they are (translateDocumentMessage). The rest stay
// English, after the Spanish prefix.
func documentError(ctx context.Context, src *gqlerror.Error, code string) *apperror.Error {
	msg := src.Message
	if len(src.Path) > 0 && src.Path[0] == ast.PathName("variable") {
		// gqlparser's check of the variables' values: the path is
		// variable.<name>[.<input field>…].
		return apperror.Invalid(innermostName(src.Path), translateVariableMessage(msg))
	}
	switch {
	case msg == "no operation provided" && blankQuery(ctx):
		return apperror.Invalid("query", "Falta la consulta: envíe {\"query\": \"...\"} "+
			"(o, con una consulta persistida, extensions.persistedQuery).")
	case strings.HasPrefix(msg, "operation ") && strings.HasSuffix(msg, " not found"):
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(msg, "operation "), " not found"))
		if name == "" {
			return apperror.Invalid("operationName",
				"El documento tiene varias operaciones: indique en operationName cuál ejecutar.")
		}
		return apperror.Invalid("operationName", "El documento no tiene una operación llamada \""+name+"\".")
	}
	c := apperror.GraphQLValidationFailed
	if code == errcode.ParseFailed {
		c = apperror.GraphQLParseFailed
	}
	return apperror.Errorf(c, "%s%s", documentPrefix, translateDocumentMessage(msg))
}

// blankQuery reports whether the request being answered sent no query text.
func blankQuery(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return true
	}
	return strings.TrimSpace(graphql.GetOperationContext(ctx).RawQuery) == ""
}

// innermostName is the last name in path (an index in a list is skipped).
func innermostName(path ast.Path) string {
	for i := len(path) - 1; i >= 0; i-- {
		if name, ok := path[i].(ast.PathName); ok {
			return string(name)
		}
	}
	return "variables"
}

// translation rewrites one of gqlparser's messages.
type translation struct {
	re   *regexp.Regexp
	into string
}

func tr(pattern, into string) translation {
	return translation{re: regexp.MustCompile(pattern), into: into}
}

// documentTranslations are gqlparser's parse and validation messages that
// someone writing a query meets, in Spanish. Each pattern matches the
// message's first sentence; a suggestion ("Did you mean …?") that follows
// is translated apart. The quoted names are the schema's, kept as sent.
var documentTranslations = []translation{
	// The validation rules.
	tr(`^Cannot query field "([^"]+)" on type "([^"]+)"\.`, `No existe el campo "$1" en el tipo "$2".`),
	tr(`^Unknown argument "([^"]+)" on field "([^"]+)"\.`, `El campo "$2" no tiene un argumento "$1".`),
	tr(`^Unknown argument "([^"]+)" on directive "([^"]+)"\.`, `La directiva "$2" no tiene un argumento "$1".`),
	tr(`^Field "([^"]+)" argument "([^"]+)" of type "([^"]+)" is required, but it was not provided\.`,
		`Falta el argumento obligatorio "$2" (de tipo "$3") del campo "$1".`),
	tr(`^Field "([^".]+)\.([^"]+)" of required type "([^"]+)" was not provided\.`,
		`Falta el campo obligatorio "$2" (de tipo "$3") de "$1".`),
	tr(`^Variable "([^"]+)" of type "([^"]+)" used in position expecting type "([^"]+)"\.`,
		`La variable "$1" es de tipo "$2", pero se usa donde se espera un "$3".`),
	tr(`^Expected value of type "([^"]+)", found (.+)\.$`, `Se esperaba un valor de tipo "$1" y se recibió $2.`),
	tr(`^(Int|Float|String|Boolean|ID) cannot represent [^:]*value: (.+)$`, `El valor $2 no es de tipo $1.`),
	tr(`^Enum "([^"]+)" cannot represent non-enum value: (.+)\.$`, `El valor $2 no es uno de los valores del enum "$1".`),
	tr(`^Value "([^"]+)" does not exist in "([^"]+)" enum\.`, `El valor "$1" no existe en el enum "$2".`),
	tr(`^Field "([^"]+)" is not defined by type "([^"]+)"\.`, `El tipo de entrada "$2" no tiene un campo "$1".`),
	tr(`^Unknown type "([^"]+)"\.`, `No existe el tipo "$1".`),
	tr(`^Variable "([^"]+)" is not defined by operation "([^"]*)"\.`, `La variable "$1" no está declarada en la operación "$2".`),
	tr(`^Variable "([^"]+)" is not defined\.`, `La variable "$1" no está declarada en la operación.`),
	tr(`^Variable "([^"]+)" is never used in operation "([^"]*)"\.`, `La variable "$1" se declara pero la operación "$2" no la usa.`),
	tr(`^Variable "([^"]+)" is never used\.`, `La variable "$1" se declara pero no se usa.`),
	tr(`^Field "([^"]+)" must not have a selection since type "([^"]+)" has no subfields\.`,
		`El campo "$1" no admite una selección: su tipo "$2" no tiene subcampos.`),
	tr(`^Field "([^"]+)" of type "([^"]+)" must have a selection of subfields\.`,
		`El campo "$1" (de tipo "$2") necesita una selección de subcampos entre llaves.`),
	tr(`^There can be only one argument named "([^"]+)"\.`, `El argumento "$1" aparece más de una vez.`),
	tr(`^This anonymous operation must be the only defined operation\.`,
		`Una operación sin nombre debe ser la única del documento.`),
	// The parser.
	tr(`^Expected (.+), found (.+)$`, `Se esperaba $1 y se encontró $2.`),
	tr(`^Unexpected (.+)$`, `Símbolo inesperado: $1.`),
}

var (
	suggestFragment = regexp.MustCompile(` Did you mean to use an inline fragment on (.+)\?$`)
	suggestEnum     = regexp.MustCompile(` Did you mean the enum value (.+)\?$`)
	suggest         = regexp.MustCompile(` Did you mean (.+)\?$`)
)

// translateDocumentMessage says msg in Spanish when it is one of
// documentTranslations, else returns it unchanged.
func translateDocumentMessage(msg string) string {
	for _, t := range documentTranslations {
		loc := t.re.FindStringSubmatchIndex(msg)
		if loc == nil {
			continue
		}
		out := string(t.re.ExpandString(nil, t.into, msg, loc))
		out = strings.ReplaceAll(out, "<EOF>", "el fin del documento")
		rest := msg[loc[1]:]
		switch {
		case suggestFragment.MatchString(rest):
			rest = suggestFragment.ReplaceAllString(rest, ` ¿Quiso usar un fragmento en línea sobre $1?`)
		case suggestEnum.MatchString(rest):
			rest = suggestEnum.ReplaceAllString(rest, ` ¿Quiso decir el valor $1?`)
		case suggest.MatchString(rest):
			rest = suggest.ReplaceAllString(rest, ` ¿Quiso decir $1?`)
		}
		rest = strings.ReplaceAll(strings.ReplaceAll(rest, ", or ", " o "), `" or "`, `" o "`)
		return out + rest
	}
	return msg
}

// variableTranslations are gqlparser's messages about a variable's value
// (validator.VariableValues), in Spanish.
var variableTranslations = []translation{
	tr(`^must be defined$`, `Es obligatoria y no se envió.`),
	tr(`^cannot be null$`, `No puede ser null.`),
	tr(`^unknown field$`, `Campo desconocido.`),
	tr(`^(.+) is not a valid (.+)$`, `$1 no es un valor válido de $2.`),
	tr(`^cannot use (.+) as (.+)$`, `Se esperaba un valor de tipo $2 (se recibió $1).`),
	tr(`^must be a (.+), not a (.+)$`, `Se esperaba un $1 (se recibió $2).`),
	tr(`^enums must be ints or strings$`, `Un valor de enum se envía como texto.`),
}

func translateVariableMessage(msg string) string {
	for _, t := range variableTranslations {
		if t.re.MatchString(msg) {
			return t.re.ReplaceAllString(msg, t.into)
		}
	}
	return msg
}
