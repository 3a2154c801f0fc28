package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/banpro/factoring/internal/auth"
)

// token prints a signed HS256 token, for local use and tests:
//
//	factoring token --sub ana --roles analista,lector --ttl 8h
func (m *Main) token(args []string) error {
	fs := m.newFlagSet("token")
	sub := fs.String("sub", "", "sujeto del token: quién actúa (queda en la auditoría)")
	roles := fs.String("roles", "", "roles separados por coma: lector, analista, riesgo, tesoreria, admin")
	ttl := fs.Duration("ttl", 8*time.Hour, "vigencia del token (a lo más 720h)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, err := m.config()
	if err != nil {
		return err
	}
	if *sub == "" {
		fmt.Fprintln(m.Stderr, "falta --sub")
		return errUsage
	}
	if *ttl <= 0 || *ttl > 30*24*time.Hour {
		fmt.Fprintln(m.Stderr, "--ttl debe estar entre 1s y 720h")
		return errUsage
	}
	var rs []auth.Role
	for r := range strings.SplitSeq(*roles, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if !knownRole(auth.Role(r)) {
			fmt.Fprintf(m.Stderr, "rol desconocido %q: use lector, analista, riesgo, tesoreria o admin\n", r)
			return errUsage
		}
		rs = append(rs, auth.Role(r))
	}
	if len(cfg.JWTSecret) == 0 {
		return errors.New("factoring token firma con FACTORING_JWT_SECRET (HS256): defínalo con al menos 32 bytes")
	}
	tok, err := auth.IssueHS256(cfg.JWTSecret, *sub, rs, *ttl, cfg.JWTIssuer, cfg.JWTAudience, m.clock().Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, tok)
	return nil
}

func knownRole(r auth.Role) bool {
	for _, k := range auth.Roles() {
		if k == r {
			return true
		}
	}
	return false
}
