# syntax=docker/dockerfile:1
# Multi-stage build: a static, pure-Go binary (SQLite is modernc, no cgo;
# time zones are embedded) on a distroless base.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=desconocido
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
    -o /out/factoring ./cmd/factoring

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/factoring /factoring
USER nonroot:nonroot
EXPOSE 8080
ENV FACTORING_HTTP_ADDR=:8080
# No shell or curl in a distroless image: the binary checks its own /healthz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/factoring", "healthcheck"]
ENTRYPOINT ["/factoring"]
CMD ["serve"]
