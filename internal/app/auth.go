package app

import (
	"errors"
	"fmt"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/config"
)

// Verifier builds the token verifier the configuration asks for; nil when
// authentication is disabled. Required authentication without a key to
// verify with is an error naming the variables to set.
func Verifier(cfg config.Config) (*auth.Verifier, error) {
	if !cfg.AuthRequired {
		return nil, nil
	}
	vc := auth.VerifierConfig{
		Secret:   cfg.JWTSecret,
		Issuer:   cfg.JWTIssuer,
		Audience: cfg.JWTAudience,
		Leeway:   cfg.JWTLeeway,
	}
	if cfg.JWTPublicKeyFile != "" {
		key, err := auth.LoadPublicKey(cfg.JWTPublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("FACTORING_JWT_PUBLIC_KEY_FILE: %w", err)
		}
		vc.PublicKey = key
	}
	if len(vc.Secret) == 0 && vc.PublicKey == nil {
		return nil, errors.New("FACTORING_AUTH=required necesita FACTORING_JWT_SECRET (HS256, al menos 32 bytes) " +
			"o FACTORING_JWT_PUBLIC_KEY_FILE (RS256/ES256); para una demo local sin autenticación use FACTORING_AUTH=disabled")
	}
	return auth.NewVerifier(vc)
}
