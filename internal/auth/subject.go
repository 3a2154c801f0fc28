package auth

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxSubjectLen bounds a subject, in characters; no identity provider
// issues longer ones. The audit trail stores the actor in at most
// maxSubjectBytes bytes, checked too, so a subject that authenticates can
// always be recorded.
const (
	MaxSubjectLen   = 128
	maxSubjectBytes = 255
)

// fold is the Unicode case folding used to compare subjects ("ANA" and "ana"
// are one person). cases.Caser is not safe for concurrent use, so each call
// makes its own: cheap next to a signature check.
func fold(s string) string { return cases.Fold().String(s) }

// NormalizeSubject returns the canonical form of a token's subject, the one
// the audit trail records and the four-eyes control compares: Unicode NFKC
// (full-width and compatibility characters become their plain form), then
// case folding. It refuses what would let one person pass for two, or for
// the system: surrounding or inner spaces, control and invisible format
// characters, letters of more than one script (a Cyrillic "а" inside a Latin
// name), and subjects longer than MaxSubjectLen.
func NormalizeSubject(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("falta el claim sub")
	}
	if !utf8.ValidString(raw) {
		return "", errors.New("el sujeto no es UTF-8 válido")
	}
	s := fold(norm.NFKC.String(raw))
	if n := utf8.RuneCountInString(s); n > MaxSubjectLen {
		return "", fmt.Errorf("el sujeto tiene %d caracteres; el máximo es %d", n, MaxSubjectLen)
	}
	if len(s) > maxSubjectBytes {
		return "", fmt.Errorf("el sujeto ocupa %d bytes; el máximo es %d", len(s), maxSubjectBytes)
	}
	script := ""
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return "", errors.New("el sujeto contiene espacios")
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), !unicode.IsPrint(r):
			return "", errors.New("el sujeto contiene caracteres de control o invisibles")
		case unicode.IsLetter(r):
			sc := scriptOf(r)
			if script != "" && sc != script {
				return "", fmt.Errorf("el sujeto mezcla alfabetos (%s y %s)", script, sc)
			}
			script = sc
		}
	}
	return s, nil
}

// scripts are the writing systems a subject's letters are checked against;
// a letter of none of them counts as "otro" (one more script).
var scripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"latino", unicode.Latin},
	{"cirílico", unicode.Cyrillic},
	{"griego", unicode.Greek},
	{"armenio", unicode.Armenian},
	{"hebreo", unicode.Hebrew},
	{"árabe", unicode.Arabic},
	{"han", unicode.Han},
	{"hiragana", unicode.Hiragana},
	{"katakana", unicode.Katakana},
	{"hangul", unicode.Hangul},
}

func scriptOf(r rune) string {
	for _, s := range scripts {
		if unicode.Is(s.table, r) {
			return s.name
		}
	}
	return "otro"
}

// SameSubject reports whether two recorded actors name one person. Actors
// recorded before subjects were normalized may differ from today's form by
// case or width only, so both sides are normalized; a value that does not
// normalize is compared as it is.
func SameSubject(a, b string) bool {
	if a == b {
		return true
	}
	na, errA := NormalizeSubject(a)
	nb, errB := NormalizeSubject(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return na == nb
}
