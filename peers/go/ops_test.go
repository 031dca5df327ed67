package peer

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkOps measures the Go model of each design in the operations of the Rust criterion
// groups (harness/benches/seeds.rs), named exactly as criterion names them,
// `group/function[/parameter]`, so the harness can set each Go row beside its Rust row.
//
// Honesty rules, the Rust benches' own: every result read goes into a sink (no dead loads);
// concurrent benchmarks run under b.RunParallel, whose ns/op is wall time over every
// goroutine's operations (the seeds' accounting); each reports a `goroutines` metric, the
// count it actually ran, so the harness can give the per-goroutine time as well (ns/op times
// goroutines) and match Rust's `readers=N` by count (`readers=cores` under -cpu 2 is
// readers=2). No benchmark name ends in `-digits`: that suffix is `go test`'s GOMAXPROCS.
func BenchmarkOps(b *testing.B) {
	for _, d := range Designs {
		d := d
		b.Run("single_process_read/"+d.Name, func(b *testing.B) { singleRead(b, d) })
		for _, readers := range []string{"cores", "10"} {
			readers := readers
			b.Run("concurrent_process_read/"+d.Name+"/readers="+readers,
				func(b *testing.B) { sameNameRead(b, d, goroutines(readers)) })
			b.Run("concurrent_status_spread/"+d.Name+"/readers="+readers,
				func(b *testing.B) { spreadRead(b, d, goroutines(readers)) })
		}
		b.Run("registry_read/"+d.Name+"/readers=cores",
			func(b *testing.B) { registryRead(b, d) })
		for _, w := range []struct {
			shape string
			pause time.Duration
		}{{"sleeping_writer", time.Microsecond}, {"busy_writer", 0}} {
			w := w
			b.Run("writer_reader_contention/"+d.Name+"/"+w.shape,
				func(b *testing.B) { writerReader(b, d, w.pause, false) })
			b.Run("writer_reader_contention/"+d.Name+"_getters/"+w.shape,
				func(b *testing.B) { writerReader(b, d, w.pause, true) })
		}
		b.Run("mixed_workload/"+d.Name+"/workers=cores",
			func(b *testing.B) { mixed(b, d) })
		b.Run("snapshot_vs_getters/"+d.Name+"_getters", func(b *testing.B) { getters(b, d) })
		b.Run("snapshot_vs_getters/"+d.Name+"_snapshot", func(b *testing.B) { snapshot(b, d) })
		b.Run("state_update/"+d.Name, func(b *testing.B) { stateUpdate(b, d) })
		b.Run("memory_per_op/"+d.Name+"/status", func(b *testing.B) { singleRead(b, d) })
		b.Run("memory_per_op/"+d.Name+"/restart", func(b *testing.B) { stateUpdate(b, d) })
		b.Run("list_100/"+d.Name, func(b *testing.B) { list100(b, d) })
	}
}

// goroutines resolves a reader count of the Rust benches' `reader_counts()` under the
// GOMAXPROCS this run of the benchmark has (go test's -cpu sets it per run, after the names
// are made): "cores" is one reader per GOMAXPROCS, "10" the seed's ten, rounded up to a
// multiple of GOMAXPROCS because RunParallel runs such multiples.
func goroutines(readers string) int {
	if readers == "cores" {
		return runtime.GOMAXPROCS(0)
	}
	n, err := strconv.Atoi(readers)
	if err != nil {
		panic("reader count " + readers + " is neither cores nor a number")
	}
	return atLeast(n)
}

// sink takes every value a benchmark reads, so no read is dead; each goroutine keeps its own
// and adds it to sinkTotal once, so the sink itself shares no cache line in the timed loop.
type sink struct{ acc uint64 }

var sinkTotal uint64

func (s *sink) state(st State, ok bool) {
	if ok {
		s.acc += st.Gen + uint64(st.Status) + uint64(len(st.ID))
	}
}

func (s *sink) ok(ok bool) {
	if ok {
		s.acc++
	}
}

func (s *sink) flush() { atomic.AddUint64(&sinkTotal, s.acc) }

// parallel runs body under RunParallel with `goroutines` goroutines (a multiple of
// GOMAXPROCS), each with its own caller and sink, and reports the count.
func parallel(b *testing.B, m Manager, goroutines int, body func(c Caller, s *sink, g int, i uint64)) {
	cores := runtime.GOMAXPROCS(0)
	b.SetParallelism(goroutines / cores)
	var next int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(atomic.AddInt64(&next, 1) - 1)
		c := m.Caller()
		var s sink
		var i uint64
		for pb.Next() {
			body(c, &s, g, i)
			i++
		}
		s.flush()
	})
	b.StopTimer()
	b.ReportMetric(float64(goroutines), "goroutines")
}

func singleRead(b *testing.B, d Design) {
	m := d.New(1)
	defer m.Close()
	c := m.Caller()
	var s sink
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.state(c.Status("proc-0"))
	}
	b.StopTimer()
	s.flush()
}

// sameNameRead: every goroutine reads the same process (the seed's concurrent read).
func sameNameRead(b *testing.B, d Design, readers int) {
	m := d.New(1)
	defer m.Close()
	parallel(b, m, readers, func(c Caller, s *sink, _ int, _ uint64) {
		s.state(c.Status("proc-0"))
	})
}

// spreadRead: goroutines read over 100 names with keys built before the clock, each starting
// at its own offset.
func spreadRead(b *testing.B, d Design, readers int) {
	m := d.New(100)
	defer m.Close()
	names := make([]string, 100)
	for i := range names {
		names[i] = ProcName(i)
	}
	parallel(b, m, readers, func(c Caller, s *sink, g int, i uint64) {
		s.state(c.Status(names[(uint64(g)*37+i)%100]))
	})
}

// registryRead: 100 entries, the key built per call (a string per lookup), one shared counter
// choosing the name, as the Rust bench and the seed do.
func registryRead(b *testing.B, d Design) {
	m := d.New(100)
	defer m.Close()
	var counter uint64
	parallel(b, m, runtime.GOMAXPROCS(0), func(c Caller, s *sink, _ int, _ uint64) {
		i := (atomic.AddUint64(&counter, 1) - 1) % 100
		s.state(c.Status("proc-" + strconv.FormatUint(i, 10)))
	})
}

// writer runs write in a loop on its own goroutine, pausing between writes when pause > 0,
// until the returned stop is called.
func writer(pause time.Duration, write func()) (stop func()) {
	var done int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for atomic.LoadInt32(&done) == 0 {
			write()
			if pause > 0 {
				time.Sleep(pause)
			}
		}
	}()
	return func() {
		atomic.StoreInt32(&done, 1)
		wg.Wait()
	}
}

// writerReader: one reader per core reads proc-1 while a writer restarts it, sleeping 1 µs
// between restarts (the seed's shape) or not at all. With getters, each read is four status
// calls, one field each (the seed's individual getters under contention).
func writerReader(b *testing.B, d Design, pause time.Duration, withGetters bool) {
	m := d.New(2)
	defer m.Close()
	wc := m.Caller()
	stop := writer(pause, func() { wc.Restart("proc-1") })
	defer stop()
	parallel(b, m, runtime.GOMAXPROCS(0), func(c Caller, s *sink, _ int, _ uint64) {
		if withGetters {
			readGetters(c, "proc-1", s)
		} else {
			s.state(c.Status("proc-1"))
		}
	})
}

// mixed: 50 entries, one operation in five a restart, one worker per core, a shared counter
// choosing the name and the operation (the Rust bench's shape).
func mixed(b *testing.B, d Design) {
	m := d.New(50)
	defer m.Close()
	names := make([]string, 50)
	for i := range names {
		names[i] = ProcName(i)
	}
	var counter uint64
	parallel(b, m, runtime.GOMAXPROCS(0), func(c Caller, s *sink, _ int, _ uint64) {
		n := atomic.AddUint64(&counter, 1) - 1
		name := names[n%50]
		if n%5 == 0 {
			s.ok(c.Restart(name))
		} else {
			s.state(c.Status(name))
		}
	})
}

// readGetters reads four fields with four separate status calls, as the seed's getters did.
func readGetters(c Caller, name string, s *sink) {
	st1, ok1 := c.Status(name)
	st2, ok2 := c.Status(name)
	st3, ok3 := c.Status(name)
	st4, ok4 := c.Status(name)
	if ok1 && ok2 && ok3 && ok4 {
		s.acc += uint64(st1.Status) + uint64(st2.StartedAt.UnixNano()) +
			uint64(st3.EndedAt.UnixNano()) + uint64(st4.ExitCode)
	}
}

func getters(b *testing.B, d Design) {
	m := d.New(1)
	defer m.Close()
	c := m.Caller()
	var s sink
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readGetters(c, "proc-0", &s)
	}
	b.StopTimer()
	s.flush()
}

func snapshot(b *testing.B, d Design) {
	m := d.New(1)
	defer m.Close()
	c := m.Caller()
	var s sink
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, ok := c.Status("proc-0")
		if ok {
			s.acc += uint64(st.Status) + uint64(st.StartedAt.UnixNano()) +
				uint64(st.EndedAt.UnixNano()) + uint64(st.ExitCode)
		}
	}
	b.StopTimer()
	s.flush()
}

func stateUpdate(b *testing.B, d Design) {
	m := d.New(1)
	defer m.Close()
	c := m.Caller()
	var s sink
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.ok(c.Restart("proc-0"))
	}
	b.StopTimer()
	s.flush()
}

func list100(b *testing.B, d Design) {
	m := d.New(100)
	defer m.Close()
	c := m.Caller()
	var s sink
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := c.List()
		s.acc += uint64(len(l)) + l[len(l)-1].Gen
	}
	b.StopTimer()
	s.flush()
}

// atLeast is the smallest multiple of GOMAXPROCS at or above n: RunParallel's goroutine counts.
func atLeast(n int) int {
	cores := runtime.GOMAXPROCS(0)
	return ((n + cores - 1) / cores) * cores
}
