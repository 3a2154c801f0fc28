package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/server"
)

// userHZ is the unit of /proc/stat's and /proc/<pid>/stat's CPU times.
const userHZ = 100

// cpuSample is the machine-wide CPU time from /proc/stat, in ticks.
type cpuSample struct{ busy, total int64 }

func readCPU() cpuSample {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuSample{}
	}
	var s cpuSample
	for i, f := range fields[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		n, _ := strconv.ParseInt(f, 10, 64)
		s.total += n
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n
		}
	}
	return s
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU sums the CPU time of the PostgreSQL backends connected to
// database db (their command line reads "postgres: user db host ..."),
// by pid.
func postgresCPU(db string) map[int]time.Duration {
	out := map[int]time.Duration{}
	if db == "" {
		return out
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	needle := []byte(" " + db + " ")
	for _, dir := range dirs {
		cmdline, err := os.ReadFile(dir + "/cmdline")
		if err != nil || !bytes.HasPrefix(cmdline, []byte("postgres: ")) || !bytes.Contains(cmdline, needle) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		if p, ok := server.ReadProc(pid); ok {
			out[pid] = p.CPU
		}
	}
	return out
}

// snapshot holds the CPU counters at one instant.
type snapshot struct {
	at       time.Time
	machine  cpuSample
	self     time.Duration
	server   server.Proc
	serverOK bool
	pg       map[int]time.Duration
}

func takeSnapshot(srv *server.Server, db string) snapshot {
	s := snapshot{at: time.Now(), machine: readCPU(), self: selfCPU(), pg: postgresCPU(db)}
	if srv != nil {
		s.server, s.serverOK = srv.Proc()
	}
	return s
}

// usage is where the machine's CPU went between two snapshots.
type usage struct {
	server   time.Duration
	serverOK bool
	rss      int64
	self     time.Duration
	postgres time.Duration
	other    time.Duration
	busy     float64 // fraction of all CPUs, -1 unknown
}

func (a snapshot) until(b snapshot) usage {
	u := usage{self: b.self - a.self, busy: -1}
	if a.serverOK && b.serverOK {
		u.server, u.serverOK, u.rss = b.server.CPU-a.server.CPU, true, b.server.RSS
	}
	for pid, t := range b.pg {
		u.postgres += t - a.pg[pid] // a backend born in between counts whole
	}
	if total := b.machine.total - a.machine.total; a.machine.total > 0 && total > 0 {
		busyTicks := b.machine.busy - a.machine.busy
		u.busy = float64(busyTicks) / float64(total)
		busy := time.Duration(busyTicks) * time.Second / userHZ
		u.other = max(busy-u.server-u.self-u.postgres, 0)
	}
	return u
}

// selfRSS samples this process's resident set (RSS) and its peak (HWM);
// zero when unknown.
func selfRSS() server.Proc {
	p, _ := server.ReadProc(os.Getpid())
	return p
}
