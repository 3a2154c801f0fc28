package gqlserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/requestid"
)

// Ensure that an error the presenter does not know is read against the
// request's context: the client went away (CANCELLED, logged at INFO), the
// deadline passed (TIMEOUT, logged at WARN), or neither (INTERNAL_ERROR,
// logged at ERROR). An error a client is meant to see keeps its code.
func TestPresentadorYContextoDeLaSolicitud(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancelExpired()
	driverErr := errors.New("pq: canceling statement due to user request")
	_, refused := pgconn.Connect(context.Background(), "postgres://factoring@127.0.0.1:1/factoring?connect_timeout=1")
	require.Error(t, refused)

	cases := []struct {
		name  string
		ctx   context.Context
		err   error
		code  apperror.Code
		level string
	}{
		{"cliente_se_fue", cancelled, driverErr, apperror.Cancelled, "INFO"},
		{"cliente_se_fue_context_canceled", cancelled, context.Canceled, apperror.Cancelled, "INFO"},
		{"plazo_vencido", expired, driverErr, apperror.Timeout, "WARN"},
		{"plazo_vencido_deadline_exceeded", expired, context.DeadlineExceeded, apperror.Timeout, "WARN"},
		{"contexto_vivo", context.Background(), driverErr, apperror.Internal, "ERROR"},
		{"un_plazo_que_no_es_el_de_la_solicitud", context.Background(), context.DeadlineExceeded, apperror.Internal, "ERROR"},
		{"error_para_el_cliente_con_cliente_ido", cancelled, apperror.Invalid("rut", "RUT inválido."), apperror.Validation, ""},
		{"base_inalcanzable", context.Background(), fmt.Errorf("iniciar transacción: %w", refused), apperror.Unavailable, "WARN"},
		{"backend_terminado", context.Background(), &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, apperror.Unavailable, "WARN"},
		{"base_inalcanzable_con_plazo_vencido", expired, refused, apperror.Timeout, "WARN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ctx := requestid.NewContext(tc.ctx, "r-1")
			ctx = graphql.WithPathContext(ctx, graphql.NewPathWithField("crearOperacion"))
			out := newPresenter(log, nil).present(ctx, tc.err)
			assert.Equal(t, string(tc.code), out.Extensions["code"])
			assert.NotContains(t, out.Message, "pq:")
			if tc.code != apperror.Validation {
				assert.Equal(t, tc.code.DefaultMessage(), out.Message)
			}
			if tc.level == "" {
				assert.Empty(t, logs.String())
				return
			}
			assert.Contains(t, logs.String(), `"level":"`+tc.level+`"`)
			assert.Contains(t, logs.String(), `"request_id":"r-1"`)
		})
	}
}
