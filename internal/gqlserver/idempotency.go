package gqlserver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/idempotencia"
)

// idempotency answers the mutations sent over POST with an Idempotency-Key
// (README, "Retrying mutations"): the mutation commits with its key (the
// store's hook in its transaction), so only one request per key ever
// applies it; its response is kept and given back, byte for byte, to every
// retry of the same request. A key on a query is ignored: a query changes
// nothing and is safe to retry as it is.
type idempotency struct {
	store *idempotencia.Store
	log   *slog.Logger
}

// saveTimeout bounds the writes that settle a key after its mutation ran,
// when the request's own deadline may have passed.
const saveTimeout = 5 * time.Second

// serve answers r if it is a mutation with a key, and reports whether it
// did; anything else is left to the caller. opCtx is the operation already
// parsed, validated and authorized.
func (i *idempotency) serve(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor,
	params *graphql.RawParams, opCtx *graphql.OperationContext, contentType string,
) bool {
	keys := r.Header.Values(idempotencia.HeaderKey)
	if i == nil || len(keys) == 0 || opCtx.Operation.Operation != ast.Mutation {
		return false
	}
	// From here on the request runs to its end even if the client goes
	// away (its deadline still holds): the client's retry will find the
	// mutation applied and its response kept, rather than nothing.
	ctx, cancel := detach(r.Context())
	defer cancel()
	r = r.WithContext(ctx)
	ctx = graphql.WithOperationContext(ctx, opCtx)
	key, appErr := keyOf(keys)
	if appErr == nil {
		appErr = singleMutationField(opCtx)
	}
	if appErr != nil {
		i.reject(ctx, w, exec, contentType, appErr)
		return true
	}
	huella, err := idempotencia.Fingerprint(params.Query, params.OperationName, params.Variables)
	if err != nil {
		i.reject(ctx, w, exec, contentType, apperror.InternalError(err))
		return true
	}
	// The mutation runs first, its key written in the mutation's own
	// transaction; a retry of a request that already ran finds the key
	// taken there (or fails as the state now is), rolls back, and answers
	// from the key.
	run := i.store.Start(auth.Actor(ctx), key, huella)
	rec := &responseBuffer{header: w.Header(), status: http.StatusOK}
	respond(rec, r.WithContext(i.store.Context(r.Context(), run)), exec, opCtx, nil, contentType)

	saveCtx, cancelSave := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancelSave()
	a, err := i.store.Finish(saveCtx, run, resultOf(rec.body), rec.status, rec.body)
	if err != nil {
		// The mutation's own answer is still the truth for this request;
		// its key may not replay it.
		i.log.ErrorContext(saveCtx, "no se pudo guardar la clave de idempotencia", "error", err)
		a = &idempotencia.Answer{Outcome: idempotencia.Own}
	}
	switch a.Outcome {
	case idempotencia.Own:
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	case idempotencia.Replay:
		w.Header().Set(contentTypeHeader, contentType)
		w.Header().Set(idempotencia.HeaderReplayed, "true")
		w.WriteHeader(a.Status)
		_, _ = w.Write(a.Body)
	case idempotencia.Reused:
		i.reject(ctx, w, exec, contentType, &apperror.Error{
			Code:    apperror.IdempotencyKeyReused,
			Message: apperror.IdempotencyKeyReused.DefaultMessage(),
			Fields: map[string]string{idempotencia.HeaderKey: "Ya se usó con otra solicitud (otra operación, otro nombre de " +
				"operación u otras variables): use una clave nueva para una solicitud nueva."},
		})
	case idempotencia.InProgress:
		w.Header().Set("Retry-After", "1")
		i.reject(ctx, w, exec, contentType, apperror.New(apperror.IdempotencyInProgress))
	case idempotencia.Lost:
		i.reject(ctx, w, exec, contentType, apperror.Errorf(apperror.Conflict,
			"La mutación de esta clave de idempotencia ya se aplicó, pero su respuesta no se conservó "+
				"(el servidor se interrumpió antes de guardarla): consulte el estado actual y no la repita con otra clave."))
	}
	return true
}

// detach returns ctx without its cancellation (the client going away) but
// with its deadline and values.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	detached := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(detached, deadline)
	}
	return detached, func() {}
}

// reject answers appErr instead of a mutation's response (nothing of the
// request was applied), with the status of its code, as the transports
// answer a refused request.
func (i *idempotency) reject(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, contentType string, appErr *apperror.Error) {
	resp := exec.DispatchError(ctx, gqlerror.List{requestError(appErr, nil)})
	writeResponse(w, contentType, refusedStatus(contentType, resp), resp)
}

// keyOf is the request's one key, if well formed.
func keyOf(values []string) (string, *apperror.Error) {
	if len(values) > 1 {
		return "", apperror.Invalid(idempotencia.HeaderKey, "Envíe una sola clave de idempotencia por solicitud.")
	}
	if err := idempotencia.CheckKey(values[0]); err != nil {
		return "", err
	}
	return values[0], nil
}

// singleMutationField refuses a keyed operation that runs more than one
// mutation: one key remembers one mutation's outcome.
func singleMutationField(opCtx *graphql.OperationContext) *apperror.Error {
	n := 0
	for _, f := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Mutation"}) {
		if f.Name != "__typename" {
			n++
		}
	}
	if n != 1 {
		return apperror.Invalid(idempotencia.HeaderKey, fmt.Sprintf(
			"Una solicitud con clave de idempotencia debe contener exactamente una mutación (contiene %d).", n))
	}
	return nil
}

// unstorable are the codes of a response that is not kept for its key:
// the request failed for reasons of time or infrastructure (or found its
// key taken), nothing was applied, and the same request may succeed when
// sent again.
var unstorable = map[apperror.Code]bool{
	apperror.Internal:              true,
	apperror.Unavailable:           true,
	apperror.Timeout:               true,
	apperror.Cancelled:             true,
	apperror.IdempotencyInProgress: true,
}

// resultOf reads how a mutation answered from body, the response the
// transport wrote: applied (no errors), refused for a business reason
// (VALIDATION_ERROR, CONFLICT, NOT_FOUND, FORBIDDEN…: sent again, it would
// fail the same way, so it is kept), or failed (one of the unstorable
// codes, or a body that does not parse: not kept).
func resultOf(body []byte) idempotencia.Result {
	var resp struct {
		Errors []struct {
			Extensions struct {
				Code apperror.Code `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return idempotencia.Failed
	}
	if len(resp.Errors) == 0 {
		return idempotencia.Applied
	}
	for _, e := range resp.Errors {
		if unstorable[e.Extensions.Code] {
			return idempotencia.Failed
		}
	}
	return idempotencia.Refused
}

// responseBuffer keeps a response instead of sending it: whether it is
// the one to send is known only once its key is settled. Headers go to
// the real response.
type responseBuffer struct {
	header http.Header
	status int
	body   []byte
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(status int) { b.status = status }

func (b *responseBuffer) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}
