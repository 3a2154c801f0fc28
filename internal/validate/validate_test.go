package validate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/validate"
)

func TestTextoRechazaCaracteresDeControl(t *testing.T) {
	for in, ok := range map[string]bool{
		"Empresa SpA": true,
		"Deudor con mora\nsegún informe\tinterno": true,
		"Empresa\x00SpA":   false,
		"Empresa\x1bSpA":   false,
		"Empresa\u0085SpA": false,
	} {
		v := validate.Errors{}
		v.Text("razonSocial", in, 1, 255)
		opt := in
		v.OptionalText("giro", &opt, 255)
		assert.Equal(t, ok, v.Err() == nil, "%q", in)
		if !ok {
			assert.Contains(t, v, "razonSocial")
			assert.Contains(t, v, "giro")
		}
	}
}
