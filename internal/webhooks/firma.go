package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Signing follows Standard Webhooks (standardwebhooks.com), so integrators
// can verify with any of its libraries:
//
//	webhook-id:        the event id
//	webhook-timestamp: unix seconds of the attempt
//	webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">
//
// keyed with the secret's decoded bytes. A secret is "whsec_" followed by
// the base64 of 32 random bytes. During a rotation the old and the new
// secret both sign and the header carries both signatures, separated by a
// space; a receiver accepts the message if any one verifies.

// Header names of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

// NuevoSecreto returns a fresh signing secret, whsec_<base64 of 32 bytes>.
func NuevoSecreto() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// claveDe decodes a whsec_ secret into its key bytes.
func claveDe(secreto string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secreto, secretPrefix)
	if !ok {
		return nil, errors.New("el secreto no empieza con whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) == 0 {
		return nil, errors.New("el secreto no es base64 válido")
	}
	return key, nil
}

// Firmar returns the webhook-signature header value for the message id,
// timestamp ts and body, one v1 signature per secret, space-separated.
func Firmar(secretos []string, id string, ts int64, body []byte) (string, error) {
	if len(secretos) == 0 {
		return "", errors.New("sin secretos de firma")
	}
	sigs := make([]string, 0, len(secretos))
	for _, s := range secretos {
		key, err := claveDe(s)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, "v1,"+firma(key, id, ts, body))
	}
	return strings.Join(sigs, " "), nil
}

func firma(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verificar reports whether header (a webhook-signature value) carries a v1
// signature of id, ts and body by secreto. It is what a receiver runs; the
// tests' receivers use it, and integrators may read it as the reference.
func Verificar(secreto, header, id string, ts int64, body []byte) bool {
	key, err := claveDe(secreto)
	if err != nil {
		return false
	}
	want := []byte(firma(key, id, ts, body))
	for _, sig := range strings.Fields(header) {
		if v, ok := strings.CutPrefix(sig, "v1,"); ok && hmac.Equal([]byte(v), want) {
			return true
		}
	}
	return false
}
