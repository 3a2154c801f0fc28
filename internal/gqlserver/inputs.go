package gqlserver

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
)

// Input limits (README, "Security"). Every dimension of what an operation
// sends is bounded before any resolver or SQL statement runs, whether the
// client writes it in the document or sends it as a variable: a filter
// nested 100 levels deep kept a PostgreSQL backend busy until the request's
// deadline; `not` nested 9,900 times in a variable cost seconds of CPU,
// quadratic in the depth (gqlgen's input unmarshalling and ent's predicate
// builder both recurse); an `…In` list of 70,000 values broke PostgreSQL's
// limit of 65,535 bind parameters; a forged cursor nested 200,000 levels
// deep cost a second of CPU to decode.
const (
	// MaxFilterDepth bounds how deeply one where filter nests: each
	// has…With, not, and, or enters one more level. The README's filters
	// use 1.
	MaxFilterDepth = 5
	// MaxFilterPredicates bounds the conditions of one where filter: every
	// field given, at any level, and every nested filter object. The
	// README's largest filter has 7.
	MaxFilterPredicates = 50
	// MaxListLength bounds each list inside a filter (…In, …NotIn, and, or,
	// has…With); nodes(ids:) has the same bound (MaxPageSize).
	MaxListLength = 100
	// MaxStringLength bounds, in characters, every string inside a filter.
	MaxStringLength = 1_000
	// MaxCursorLength bounds a cursor, in characters. The longest cursor
	// the API hands out, a page ordered by RAZON_SOCIAL after a razón social
	// of 255 four-byte characters, has 1,372 (1,383 with the largest id).
	MaxCursorLength = 1_400
	// MaxVariableDepth bounds the JSON nesting of each variable's value,
	// checked on the raw JSON before anything else reads it: gqlparser's
	// coercion of variables is itself quadratic in their depth. A filter
	// at MaxFilterDepth through and/or (an object and a list per level),
	// with a list at the bottom, nests 2·5 + 2.
	MaxVariableDepth = 2*MaxFilterDepth + 2
	// MaxVariableValues bounds the JSON values (objects, lists and scalars)
	// of all the variables of a request together, checked with their
	// depth. The largest legitimate input, 50 predicates of 100 values
	// each, has about 5,100.
	MaxVariableValues = 10_000
	// MaxVariableObjects bounds the JSON objects among them: gqlparser
	// visits every field of an input type for each object it coerces (a
	// filter type has about a hundred), so 10,000 empty objects cost a
	// third of a second and 250 MB. A filter at MaxFilterPredicates has
	// at most 51.
	MaxVariableObjects = 4 * MaxFilterPredicates
)

// ctxCheckEvery is how many values the input walkers visit between two
// looks at the request's context: a walk the deadline overtook stops there.
const ctxCheckEvery = 256

// inputGuard enforces the input limits: on the raw variables before
// gqlparser coerces them (their depth and size), then on every argument of
// every field of the operation, literals and variables alike, once they are
// coerced (filters, lists, strings, cursors, integers).
type inputGuard struct {
	maxTokens int
	schema    *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*inputGuard)(nil)

func (*inputGuard) ExtensionName() string { return "InputGuard" }

func (g *inputGuard) Validate(es graphql.ExecutableSchema) error {
	g.schema = es.Schema()
	return nil
}

// MutateOperationParameters bounds the raw variables, before gqlparser
// walks them.
func (g *inputGuard) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	name, msg := checkRawVariables(ctx, params.Variables)
	if msg == "" {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return requestError(contextError(err), nil)
	}
	return requestError(apperror.Invalid(argumentOfVariable(params.Query, name, g.maxTokens), msg), nil)
}

// checkRawVariables walks vars without recursion and returns the variable
// that breaks MaxVariableDepth, MaxVariableValues or MaxVariableObjects,
// and why; or "" when none does.
func checkRawVariables(ctx context.Context, vars map[string]any) (string, string) {
	type item struct {
		v     any
		depth int
	}
	values, objects := 0, 0
	stack := make([]item, 0, 16)
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		stack = append(stack[:0], item{vars[name], 0})
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			values++
			if values > MaxVariableValues {
				return name, fmt.Sprintf("Las variables suman más de %d valores; envíe menos datos por solicitud.", MaxVariableValues)
			}
			if values%ctxCheckEvery == 0 && ctx.Err() != nil {
				return name, "cancelada"
			}
			switch x := it.v.(type) {
			case map[string]any:
				if it.depth+1 > MaxVariableDepth {
					return name, fmt.Sprintf("Anida más de %d niveles de objetos y listas.", MaxVariableDepth)
				}
				if objects++; objects > MaxVariableObjects {
					return name, fmt.Sprintf("Las variables suman más de %d objetos; envíe menos datos por solicitud.", MaxVariableObjects)
				}
				for _, e := range x {
					stack = append(stack, item{e, it.depth + 1})
				}
			case []any:
				if it.depth+1 > MaxVariableDepth {
					return name, fmt.Sprintf("Anida más de %d niveles de objetos y listas.", MaxVariableDepth)
				}
				for _, e := range x {
					stack = append(stack, item{e, it.depth + 1})
				}
			}
		}
	}
	return "", ""
}

// argumentOfVariable names, for a refusal, the argument that takes the
// variable: the first argument in query whose value is $variable or holds
// it. When the query does not parse, or no argument takes it, the
// variable itself is named ($variable).
func argumentOfVariable(query, variable string, maxTokens int) string {
	fallback := "$" + variable
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxTokens)
	if err != nil {
		return fallback
	}
	var found string
	var inSet func(ast.SelectionSet)
	inSet = func(set ast.SelectionSet) {
		for _, sel := range set {
			if found != "" {
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					if usesVariable(a.Value, variable) {
						found = a.Name
						return
					}
				}
				inSet(s.SelectionSet)
			case *ast.InlineFragment:
				inSet(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		inSet(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		inSet(f.SelectionSet)
	}
	if found == "" {
		return fallback
	}
	return found
}

// usesVariable reports whether v is $name or holds it. Literals are bounded
// by the parser's token limit, so the recursion is too.
func usesVariable(v *ast.Value, name string) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return v.Raw == name
	}
	for _, c := range v.Children {
		if usesVariable(c.Value, name) {
			return true
		}
	}
	return false
}

// MutateOperationContext bounds every argument of the operation, as the
// resolvers will receive it.
func (g *inputGuard) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	w := &inputWalker{ctx: ctx, schema: g.schema, vars: oc.Variables, seen: map[string]bool{}}
	if err := w.selections(oc.Operation.SelectionSet); err != nil {
		return err
	}
	return nil
}

// inputWalker walks the arguments of an operation's fields, through its
// fragments (each once: variables are the operation's, so a fragment's
// arguments are the same wherever it is spread).
type inputWalker struct {
	ctx    context.Context
	schema *ast.Schema
	vars   map[string]any
	seen   map[string]bool

	// Of the argument being walked:
	arg        string
	path       []step // below the argument, for messages
	predicates int    // of the filter being walked
	visited    int
}

// step is one step below an argument: an input field, or (key "") an
// index in a list.
type step struct {
	key   string
	index int
}

func (w *inputWalker) selections(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if err := w.field(s); err != nil {
				return err
			}
			if err := w.selections(s.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.selections(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if w.seen[s.Name] || s.Definition == nil {
				continue
			}
			w.seen[s.Name] = true
			if err := w.selections(s.Definition.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *inputWalker) field(f *ast.Field) *gqlerror.Error {
	if f.Definition == nil {
		return nil
	}
	for _, a := range f.Arguments {
		def := f.Definition.Arguments.ForName(a.Name)
		if def == nil {
			continue
		}
		v, err := a.Value.Value(w.vars)
		if err != nil {
			continue // gqlparser's validation reports it
		}
		w.arg, w.path, w.predicates = a.Name, w.path[:0], 0
		if appErr := w.value(def.Type, v, 0, false); appErr != nil {
			return requestError(appErr, a.Position)
		}
	}
	return nil
}

// value checks v, of type typ. filterDepth is how many has…With, not, and,
// or enclose it inside a filter; inFilter, whether it is inside one.
func (w *inputWalker) value(typ *ast.Type, v any, filterDepth int, inFilter bool) *apperror.Error {
	if v == nil {
		return nil
	}
	w.visited++
	if w.visited%ctxCheckEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return contextError(err)
		}
	}
	if typ.Elem != nil {
		list := asList(v)
		if inFilter && len(list) > MaxListLength {
			return w.fail("Admite como máximo %d elementos (se recibieron %d).", MaxListLength, len(list))
		}
		for i, e := range list {
			w.path = append(w.path, step{index: i})
			if err := w.value(typ.Elem, e, filterDepth, inFilter); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
		return nil
	}
	def := w.schema.Types[typ.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Scalar:
		return w.scalar(def.Name, v, inFilter)
	case ast.InputObject:
		return w.object(def, v, filterDepth, inFilter)
	}
	return nil
}

// asList is v as the list it stands for where a list is expected. A single
// value is a list of one (GraphQL's input coercion). gqlparser coerces a
// single object sent in a variable into a typed slice ([]map[string]any),
// not an []any.
func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	}
	return []any{v}
}

func (w *inputWalker) scalar(name string, v any, inFilter bool) *apperror.Error {
	s, isString := v.(string)
	switch {
	case (name == "Int" || name == "Float") && isString:
		// gqlparser and gqlgen accept "10" for an Int variable; GraphQL
		// does not. A JSON number arrives as a json.Number, not a string.
		return w.fail("Debe ser un número, no un texto (se recibió %q).", truncate(s, 20))
	case name == "Cursor":
		if msg := checkCursor(v); msg != "" {
			return w.fail("%s", msg)
		}
	case inFilter && isString && len(s) > MaxStringLength && utf8.RuneCountInString(s) > MaxStringLength:
		return w.fail("Admite como máximo %d caracteres.", MaxStringLength)
	}
	return nil
}

func (w *inputWalker) object(def *ast.Definition, v any, filterDepth int, inFilter bool) *apperror.Error {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	isFilter := strings.HasSuffix(def.Name, "WhereInput")
	keys := make([]string, 0, len(m))
	for k, fv := range m {
		if fv != nil {
			keys = append(keys, k)
		}
	}
	if isFilter && inFilter {
		// A nested filter object counts as a condition of its own: an
		// or of many empty objects is no cheaper than one of conditions.
		if err := w.predicate(); err != nil {
			return err
		}
		if len(keys) == 0 {
			// ent cannot build a predicate from an empty nested filter
			// (not: {}, or: [{}]) and fails the whole query.
			return w.fail("Un filtro anidado no puede estar vacío: quítelo o indique al menos una condición.")
		}
	}
	if len(keys) > 1 {
		slices.Sort(keys) // the same input fails the same way every time
	}
	for _, k := range keys {
		fd := def.Fields.ForName(k)
		if fd == nil {
			continue // unknown field: gqlparser's validation reports it
		}
		w.path = append(w.path, step{key: k})
		depth := filterDepth
		if isFilter {
			if err := w.predicate(); err != nil {
				return err
			}
			if combinesFilters(k) {
				depth++
				if depth > MaxFilterDepth {
					return w.fail("Anida más de %d niveles de filtros (has…With, not, and, or).", MaxFilterDepth)
				}
			}
		}
		if err := w.value(fd.Type, m[k], depth, inFilter || isFilter); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
	}
	return nil
}

func (w *inputWalker) predicate() *apperror.Error {
	w.predicates++
	if w.predicates > MaxFilterPredicates {
		return w.fail("Admite como máximo %d condiciones por filtro, contando las anidadas.", MaxFilterPredicates)
	}
	return nil
}

// combinesFilters reports whether the filter field k holds filters of its
// own: not, and, or, and the edge predicates has…With.
func combinesFilters(k string) bool {
	return k == "not" || k == "and" || k == "or" || strings.HasPrefix(k, "has") && strings.HasSuffix(k, "With")
}

// fail is a VALIDATION_ERROR on the argument being walked; the message
// says where inside it, when it is not the argument itself.
func (w *inputWalker) fail(format string, args ...any) *apperror.Error {
	msg := fmt.Sprintf(format, args...)
	if len(w.path) > 0 {
		var b strings.Builder
		b.WriteString(w.arg)
		for _, p := range w.path {
			if p.key == "" {
				b.WriteString("[" + strconv.Itoa(p.index) + "]")
			} else {
				b.WriteString("." + p.key)
			}
		}
		msg = "En " + truncate(b.String(), 200) + ": " + msg
	}
	return apperror.Invalid(w.arg, msg)
}

// contextError is what a walk the request's context ended reports.
func contextError(err error) *apperror.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return apperror.New(apperror.Timeout)
	}
	return apperror.New(apperror.Cancelled)
}

// truncate shortens s to at most n bytes, on a rune boundary, marking the
// cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// cursorInvalid is the message of a cursor that is not one the API handed
// out.
const cursorInvalid = "No es un cursor válido: use uno tal como lo entrega la API (edges.cursor o pageInfo.endCursor)."

// checkCursor returns why v is not a cursor the API could have handed out,
// or "". Every cursor argument is checked, nested connections' too: entgql's
// eager loading of a nested connection would panic on one that does not
// decode. A cursor is base64 of a MessagePack map of at most two entries
// (the row's id and its value of the order field), both scalars. It is
// checked for that shape without recursion and only then decoded: the
// decoder of entgql's cursors recurses into any nested list or map,
// which a forged cursor can nest hundreds of thousands of levels deep.
func checkCursor(v any) string {
	s, ok := v.(string)
	switch {
	case !ok:
		return cursorInvalid
	case len(s) > MaxCursorLength:
		return fmt.Sprintf("No es un cursor válido: tiene más de %d caracteres; use uno tal como lo entrega la API (edges.cursor o pageInfo.endCursor).", MaxCursorLength)
	}
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || !flatCursor(raw) || new(ent.Cursor).UnmarshalGQL(s) != nil {
		return cursorInvalid
	}
	return ""
}

// flatCursor reports whether b is one MessagePack map of at most two
// entries whose keys are strings and whose values are scalars (nil,
// booleans, numbers, strings, binary, extensions such as timestamps),
// nothing after it.
func flatCursor(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	var n, i int
	switch c := b[0]; {
	case c >= 0x80 && c <= 0x8f: // fixmap
		n, i = int(c&0x0f), 1
	case c == 0xde && len(b) >= 3: // map 16
		n, i = int(binary.BigEndian.Uint16(b[1:3])), 3
	default:
		return false
	}
	if n > 2 {
		return false
	}
	for range n {
		if i >= len(b) || !isMsgpackString(b[i]) {
			return false
		}
		var ok bool
		if i, ok = skipScalar(b, i); !ok {
			return false
		}
		if i, ok = skipScalar(b, i); !ok {
			return false
		}
	}
	return i == len(b)
}

func isMsgpackString(c byte) bool {
	return c >= 0xa0 && c <= 0xbf || c == 0xd9 || c == 0xda || c == 0xdb
}

// skipScalar returns where the MessagePack scalar at b[i] ends, or false
// when b[i] starts a list or a map, or the value runs past b.
func skipScalar(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	c := b[i]
	// length reads an n-byte big-endian length at b[i+1:].
	length := func(n int) (int, bool) {
		if i+1+n > len(b) {
			return 0, false
		}
		var l uint64
		for _, x := range b[i+1 : i+1+n] {
			l = l<<8 | uint64(x)
		}
		return int(l), l <= uint64(len(b))
	}
	end := -1
	switch {
	case c <= 0x7f, c >= 0xe0: // positive and negative fixint
		end = i + 1
	case c >= 0xa0 && c <= 0xbf: // fixstr
		end = i + 1 + int(c&0x1f)
	case c == 0xc0, c == 0xc2, c == 0xc3: // nil, false, true
		end = i + 1
	case c == 0xcc, c == 0xd0: // uint8, int8
		end = i + 2
	case c == 0xcd, c == 0xd1: // uint16, int16
		end = i + 3
	case c == 0xca, c == 0xce, c == 0xd2: // float32, uint32, int32
		end = i + 5
	case c == 0xcb, c == 0xcf, c == 0xd3: // float64, uint64, int64
		end = i + 9
	case c == 0xd4, c == 0xd5, c == 0xd6, c == 0xd7, c == 0xd8: // fixext 1, 2, 4, 8, 16
		end = i + 2 + 1<<(c-0xd4)
	case c == 0xd9, c == 0xc4: // str 8, bin 8
		if l, ok := length(1); ok {
			end = i + 2 + l
		}
	case c == 0xda, c == 0xc5: // str 16, bin 16
		if l, ok := length(2); ok {
			end = i + 3 + l
		}
	case c == 0xdb, c == 0xc6: // str 32, bin 32
		if l, ok := length(4); ok {
			end = i + 5 + l
		}
	case c == 0xc7: // ext 8
		if l, ok := length(1); ok {
			end = i + 3 + l
		}
	case c == 0xc8: // ext 16
		if l, ok := length(2); ok {
			end = i + 4 + l
		}
	case c == 0xc9: // ext 32
		if l, ok := length(4); ok {
			end = i + 6 + l
		}
	}
	if end < 0 || end > len(b) {
		return 0, false
	}
	return end, true
}
