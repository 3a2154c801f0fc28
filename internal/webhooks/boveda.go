package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Boveda keeps signing secrets encrypted at rest when it has a key
// (FACTORING_WEBHOOK_SECRET_KEY, 32 bytes in base64): AES-256-GCM, stored
// as "enc1:<base64 of nonce‖ciphertext>". Without a key secrets are stored
// as they are; a database dump then holds them in clear, which the README
// warns about. A stored value written under a key cannot be read without
// it: the error says so instead of signing with garbage.
type Boveda struct {
	aead cipher.AEAD
}

const encPrefix = "enc1:"

// NuevaBoveda returns a vault for key (32 bytes), or a pass-through one for
// an empty key.
func NuevaBoveda(key []byte) (*Boveda, error) {
	if len(key) == 0 {
		return &Boveda{}, nil
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("la clave de cifrado de secretos debe tener 32 bytes (tiene %d)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Boveda{aead: aead}, nil
}

// Cerrar returns the form of secreto to store.
func (b *Boveda) Cerrar(secreto string) string {
	if b == nil || b.aead == nil {
		return secreto
	}
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := b.aead.Seal(nonce, nonce, []byte(secreto), nil)
	return encPrefix + base64.StdEncoding.EncodeToString(sealed)
}

// Abrir returns the secret stored as guardado.
func (b *Boveda) Abrir(guardado string) (string, error) {
	raw, enc := strings.CutPrefix(guardado, encPrefix)
	if !enc {
		return guardado, nil
	}
	if b == nil || b.aead == nil {
		return "", errors.New("el secreto está cifrado y no hay FACTORING_WEBHOOK_SECRET_KEY para leerlo")
	}
	sealed, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(sealed) < b.aead.NonceSize() {
		return "", errors.New("secreto cifrado ilegible")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", errors.New("no se pudo descifrar el secreto: ¿cambió FACTORING_WEBHOOK_SECRET_KEY?")
	}
	return string(plain), nil
}
