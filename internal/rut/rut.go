// Package rut parses, validates and formats Chilean tax ids (RUT, "Rol Único
// Tributario").
//
// A RUT is a body number of 7 or 8 significant digits (1.000.000 to
// 99.999.999) followed by a check digit, '0'-'9' or 'K', computed with
// modulus 11 (see CheckDigit).
//
// Accepted spellings: surrounding white space, leading zeros, a lowercase
// 'k', an optional hyphen before the check digit, and optional thousands dots.
// Dots are all or nothing: when present they must separate every group of
// three digits counted from the right over all written digits, leading zeros
// included ("09.876.543-3", "012.345.678-5"), and they require the hyphen.
// Without a hyphen the last character is the check digit ("123456785").
// Anything else (letters or spaces inside, several hyphens, misplaced dots,
// too few or too many significant digits) is a format error.
//
// The canonical form, which Normalize returns and callers store, has dots,
// a hyphen, no leading zeros and an uppercase K: "12.345.678-5",
// "9.876.543-3", "10.000.013-K".
package rut

import (
	"errors"
	"strings"
)

// ErrFormat reports input that is not an accepted spelling of a RUT. Its
// message is meant for API users.
var ErrFormat = errors.New("formato de RUT inválido; use 12.345.678-5")

// ErrCheckDigit reports a well-formed RUT whose check digit does not match
// its body. Its message is meant for API users.
var ErrCheckDigit = errors.New("dígito verificador incorrecto")

const (
	minBody = 1_000_000  // smallest body with 7 significant digits
	maxBody = 99_999_999 // largest body with 8 significant digits
)

// Normalize parses any accepted spelling of a RUT and returns its canonical
// form ("12.345.678-5"). It returns ErrFormat for input that is not an
// accepted spelling and ErrCheckDigit when only the check digit is wrong.
// The errors are returned unwrapped and never include the input.
func Normalize(s string) (string, error) {
	t, body, dv, err := parse(s)
	if err != nil {
		return "", err
	}
	var buf [32]byte
	b := appendCanonical(buf[:0], uint64(body), dv)
	if string(b) == t { // already canonical: no allocation
		return t, nil
	}
	return string(b), nil
}

// Valid reports whether s is an accepted spelling of a RUT with a correct
// check digit, that is, whether Normalize(s) succeeds. It does not allocate.
func Valid(s string) bool {
	_, _, _, err := parse(s)
	return err == nil
}

// CheckDigit computes the check digit ('0'-'9' or 'K') of a RUT body:
// digits are multiplied from the right by factors 2, 3, 4, 5, 6, 7, 2, 3, ...,
// r = 11 - (sum mod 11), and r == 11 gives '0', r == 10 gives 'K', otherwise
// the digit r. The sign of body is ignored; it never panics.
func CheckDigit(body int) byte {
	n := magnitude(body)
	sum, factor := uint64(0), uint64(2)
	for n > 0 {
		sum += n % 10 * factor
		n /= 10
		if factor++; factor > 7 {
			factor = 2
		}
	}
	switch r := 11 - sum%11; r {
	case 11:
		return '0'
	case 10:
		return 'K'
	default:
		return byte('0' + r)
	}
}

// Format renders body and check digit in canonical form:
// Format(9876543, '3') == "9.876.543-3". A lowercase 'k' is rendered as 'K'.
// Format does not validate: it renders whatever it is given (a negative body
// gets a leading '-'), so pair it with CheckDigit or use Normalize for input.
func Format(body int, dv byte) string {
	var buf [32]byte
	b := buf[:0]
	if body < 0 {
		b = append(b, '-')
	}
	return string(appendCanonical(b, magnitude(body), dv))
}

// magnitude returns |n| without overflowing on math.MinInt.
func magnitude(n int) uint64 {
	u := uint64(n)
	if n < 0 {
		u = -u
	}
	return u
}

// appendCanonical appends n with thousands dots, a hyphen and dv (with 'k'
// uppercased) to b.
func appendCanonical(b []byte, n uint64, dv byte) []byte {
	var digits [20]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			break
		}
	}
	for j := i; j < len(digits); j++ {
		if j > i && (len(digits)-j)%3 == 0 {
			b = append(b, '.')
		}
		b = append(b, digits[j])
	}
	if dv == 'k' {
		dv = 'K'
	}
	return append(b, '-', dv)
}

// parse validates s in a single right-to-left pass over the body and returns
// the trimmed input, the body number and the uppercase check digit. Format
// errors take precedence over a wrong check digit.
func parse(s string) (trimmed string, body int, dv byte, err error) {
	t := strings.TrimSpace(s)
	if len(t) < 2 {
		return "", 0, 0, ErrFormat
	}
	dv = t[len(t)-1]
	switch {
	case dv >= '0' && dv <= '9', dv == 'K':
	case dv == 'k':
		dv = 'K'
	default:
		return "", 0, 0, ErrFormat
	}
	rest := t[:len(t)-1]
	hyphen := rest[len(rest)-1] == '-'
	if hyphen {
		rest = rest[:len(rest)-1]
	}

	// Scan the body from the right. group counts digits since the last dot
	// (or the end); sig is the number of digits up to and including the
	// leftmost non-zero one, i.e. the significant digits seen so far.
	var (
		group, digits, sig int
		dots               bool
		value, pow10       = 0, 1
	)
	for i := len(rest) - 1; i >= 0; i-- {
		c := rest[i]
		switch {
		case c >= '0' && c <= '9':
			group++
			digits++
			if c != '0' {
				sig = digits
			}
			if sig > 8 {
				return "", 0, 0, ErrFormat
			}
			if digits <= 8 {
				value += int(c-'0') * pow10
				pow10 *= 10
			}
		case c == '.':
			if group != 3 {
				return "", 0, 0, ErrFormat
			}
			group = 0
			dots = true
		default:
			return "", 0, 0, ErrFormat
		}
	}
	// With dots, the leftmost group has 1 to 3 digits (group != 0 also
	// rejects a leading dot) and the hyphen is mandatory.
	if dots && (group == 0 || group > 3 || !hyphen) {
		return "", 0, 0, ErrFormat
	}
	if value < minBody || value > maxBody {
		return "", 0, 0, ErrFormat
	}
	if CheckDigit(value) != dv {
		return "", 0, 0, ErrCheckDigit
	}
	return t, value, dv, nil
}
