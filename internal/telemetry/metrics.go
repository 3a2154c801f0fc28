package telemetry

import (
	"regexp"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values for what has no name of its own.
const (
	// Anonymous is the operation_name of an operation without a name.
	Anonymous = "anonymous"
	// Other is the operation_name of an operation whose name is not a
	// plain GraphQL name, or comes after MaxOperationNames others.
	Other = "other"
	// Unknown is the operation_type and operation_name of a request that
	// never became an operation (no valid token, a body that is not
	// GraphQL, a document that does not parse or validate).
	Unknown = "unknown"
	// OK is the code of a request or mutation that answered no error.
	OK = "OK"
)

// MaxOperationNames bounds the distinct operation_name values: clients
// choose operation names, and a label value per name must not grow
// without end. The first names seen keep their own series; later ones
// count as "other".
const MaxOperationNames = 200

// operationName is a name that may be a label value: a GraphQL name of at
// most 64 characters.
var operationName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// durationBuckets span what the API answers: ~1 ms from a warm cache to the
// 30 s request deadline.
var durationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

type metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	mutations     *prometheus.CounterVec
	subscriptions prometheus.Gauge
	names         nameSet
}

func newMetrics() *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factoring_graphql_requests_total",
			Help: "Solicitudes a /graphql por tipo y nombre de operación y código del primer error (OK sin errores).",
		}, []string{"operation_type", "operation_name", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "factoring_graphql_request_duration_seconds",
			Help:    "Duración de las solicitudes a /graphql, de la llegada a la respuesta, por tipo y nombre de operación.",
			Buckets: durationBuckets,
		}, []string{"operation_type", "operation_name"}),
		mutations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factoring_mutations_total",
			Help: "Mutaciones pedidas, por campo raíz (crearOperacion, …) y código (OK sin error).",
		}, []string{"mutation", "code"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "factoring_subscriptions_active",
			Help: "Suscripciones GraphQL abiertas ahora.",
		}),
		names: nameSet{seen: map[string]struct{}{}, max: MaxOperationNames},
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration, m.mutations, m.subscriptions}
}

// nameSet hands out operation_name label values, at most max distinct
// names.
type nameSet struct {
	mu   sync.Mutex
	seen map[string]struct{}
	max  int
}

// label is the operation_name of an operation named name.
func (s *nameSet) label(name string) string {
	if name == "" {
		return Anonymous
	}
	if !operationName.MatchString(name) {
		return Other
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[name]; ok {
		return name
	}
	if len(s.seen) >= s.max {
		return Other
	}
	s.seen[name] = struct{}{}
	return name
}
