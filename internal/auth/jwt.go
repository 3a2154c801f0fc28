package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the shortest HS256 secret accepted: 256 bits.
const MinSecretBytes = 32

// VerifierConfig says which tokens the API accepts.
type VerifierConfig struct {
	// Secret enables HS256 tokens signed with it (at least 32 bytes).
	Secret []byte
	// PublicKey enables RS256 (an RSA key) or ES256 (an ECDSA P-256 key)
	// tokens signed by its private half.
	PublicKey crypto.PublicKey
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer   string
	Audience string
	// Leeway absorbs clock skew when checking exp, nbf and iat.
	Leeway time.Duration
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
}

// Verifier checks bearer tokens: signature with an allowed algorithm only
// (never "none", never an algorithm the token chooses), exp required, nbf,
// iss and aud checked.
type Verifier struct {
	cfg     VerifierConfig
	methods []string
	parser  *jwt.Parser
}

// claims are the token's claims the API reads.
type claims struct {
	jwt.RegisteredClaims
	Roles []string `json:"roles"`
}

// NewVerifier builds a verifier; it needs a secret, a public key or both.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	var methods []string
	if len(cfg.Secret) > 0 {
		if len(cfg.Secret) < MinSecretBytes {
			return nil, fmt.Errorf("el secreto JWT debe tener al menos %d bytes", MinSecretBytes)
		}
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	switch k := cfg.PublicKey.(type) {
	case nil:
	case *rsa.PublicKey:
		methods = append(methods, jwt.SigningMethodRS256.Alg())
	case *ecdsa.PublicKey:
		if k.Curve.Params().Name != "P-256" {
			return nil, fmt.Errorf("la clave pública ECDSA debe ser P-256 (ES256), no %s", k.Curve.Params().Name)
		}
		methods = append(methods, jwt.SigningMethodES256.Alg())
	default:
		return nil, fmt.Errorf("clave pública no admitida (%T): use RSA (RS256) o ECDSA P-256 (ES256)", cfg.PublicKey)
	}
	if len(methods) == 0 {
		return nil, errors.New("configure FACTORING_JWT_SECRET o FACTORING_JWT_PUBLIC_KEY_FILE para verificar tokens")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(cfg.Now))
	}
	return &Verifier{cfg: cfg, methods: methods, parser: jwt.NewParser(opts...)}, nil
}

// Methods lists the accepted algorithms.
func (v *Verifier) Methods() []string { return slices.Clone(v.methods) }

// ErrToken is the error of every rejected token; ErrTokenExpired wraps it
// for a token that was valid and has expired, so that a client knows to
// refresh it rather than fix it. Their messages are what a client sees
// (ClientMessage): the details of why a token failed stay in the wrapped
// error, for the log.
var (
	ErrToken        = errors.New("token inválido")
	ErrTokenExpired = fmt.Errorf("%w: vencido", ErrToken)
)

// ClientMessage is what a caller is told about a rejected token: whether it
// expired (obtain a new one) or is not valid at all, never why in detail.
func ClientMessage(err error) string {
	if errors.Is(err, ErrTokenExpired) {
		return "El token venció: obtenga uno nuevo."
	}
	return "Token inválido: revise su firma, emisor, audiencia y fechas."
}

// Verify checks a token and returns who it names.
func (v *Verifier) Verify(token string) (Principal, error) {
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, v.key)
	if errors.Is(err, jwt.ErrTokenExpired) {
		// Only a token whose signature verified reaches the exp check, so
		// "expired" is never said of a forged token.
		return Principal{}, fmt.Errorf("%w: %w", ErrTokenExpired, err)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrToken, err)
	}
	subject, err := NormalizeSubject(c.Subject)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrToken, err)
	}
	if Reserved(subject) {
		return Principal{}, fmt.Errorf("%w: el sujeto %q está reservado para la auditoría", ErrToken, c.Subject)
	}
	p := Principal{Subject: subject}
	if c.ExpiresAt != nil {
		p.Vence = c.ExpiresAt.Add(v.cfg.Leeway).UTC()
	}
	for _, r := range c.Roles {
		p.Roles = append(p.Roles, Role(r))
	}
	return p, nil
}

func (v *Verifier) key(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		return v.cfg.Secret, nil
	case *jwt.SigningMethodRSA, *jwt.SigningMethodECDSA:
		return v.cfg.PublicKey, nil
	}
	return nil, fmt.Errorf("algoritmo %s no admitido", t.Method.Alg())
}

// LoadPublicKey reads a PEM public key (PKIX "PUBLIC KEY", or an RSA
// "RSA PUBLIC KEY") from path.
func LoadPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("leer la clave pública: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("la clave pública no está en formato PEM")
	}
	switch block.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("bloque PEM %q no es una clave pública", block.Type)
	}
}

// IssueHS256 signs a token for subject with roles, valid for ttl, with the
// HS256 secret (for `factoring token`, local use and tests).
func IssueHS256(secret []byte, subject string, roles []Role, ttl time.Duration, issuer, audience string, now time.Time) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("el secreto JWT debe tener al menos %d bytes", MinSecretBytes)
	}
	if subject == "" {
		return "", errors.New("el token necesita un sujeto (sub)")
	}
	if _, err := NormalizeSubject(subject); err != nil {
		return "", err
	}
	if Reserved(subject) {
		return "", fmt.Errorf("el sujeto %q está reservado para la auditoría", subject)
	}
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			Issuer:    issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	if audience != "" {
		c.Audience = jwt.ClaimStrings{audience}
	}
	for _, r := range roles {
		c.Roles = append(c.Roles, string(r))
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}
