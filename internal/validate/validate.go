// Package validate collects the input errors of one request, field by field,
// so a client learns everything wrong with its input at once. Field names
// are the GraphQL input's; messages are Spanish.
package validate

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/rut"
)

// Errors maps each offending field to what is wrong with it.
type Errors map[string]string

// Add records a problem with field (the first one recorded for a field wins).
func (e Errors) Add(field, format string, args ...any) {
	if _, dup := e[field]; !dup {
		e[field] = fmt.Sprintf(format, args...)
	}
}

// Err returns the VALIDATION_ERROR blaming every field recorded, or nil.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return apperror.InvalidFields(e)
}

// Text returns v trimmed, recording an error unless it has between min and
// max characters, none of them a control character other than tab and line
// breaks.
func (e Errors) Text(field, v string, min, max int) string {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	switch {
	case hasControl(v):
		e.Add(field, "Contiene caracteres de control no permitidos.")
	case n == 0 && min > 0:
		e.Add(field, "Es obligatorio.")
	case n < min:
		e.Add(field, "Debe tener al menos %d caracteres.", min)
	case n > max:
		e.Add(field, "Admite como máximo %d caracteres.", max)
	}
	return v
}

// OptionalText returns v trimmed, nil when absent or blank, recording an
// error when longer than max characters.
func (e Errors) OptionalText(field string, v *string, max int) *string {
	if v == nil {
		return nil
	}
	t := strings.TrimSpace(*v)
	if t == "" {
		return nil
	}
	switch {
	case hasControl(t):
		e.Add(field, "Contiene caracteres de control no permitidos.")
	case utf8.RuneCountInString(t) > max:
		e.Add(field, "Admite como máximo %d caracteres.", max)
	}
	return &t
}

// hasControl reports whether s has a control character other than tab,
// line feed and carriage return: a NUL, which PostgreSQL cannot store, or
// anything a person did not mean to type.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return true
		}
	}
	return false
}

// Email returns v trimmed, recording an error unless it is a plain address
// (no display name), at most 254 characters.
func (e Errors) Email(field, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		e.Add(field, "Es obligatorio.")
		return v
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") || len(v) > 254 {
		e.Add(field, "No es una dirección de correo válida (p. ej. contacto@empresa.cl).")
	}
	return v
}

// RUT returns the canonical form of v, recording an error when it is not a
// valid RUT.
func (e Errors) RUT(field, v string) string {
	canonical, err := rut.Normalize(v)
	switch {
	case errors.Is(err, rut.ErrCheckDigit):
		e.Add(field, "RUT con dígito verificador incorrecto.")
	case err != nil:
		e.Add(field, "Formato de RUT inválido; use 12.345.678-5.")
	}
	return canonical
}

// Positive records an error unless d > 0.
func (e Errors) Positive(field string, d decimal.Decimal) {
	if !d.IsPositive() {
		e.Add(field, "Debe ser mayor que cero.")
	}
}

// NotNegative records an error when d < 0.
func (e Errors) NotNegative(field string, d decimal.Decimal) {
	if d.IsNegative() {
		e.Add(field, "No puede ser menor que cero.")
	}
}
