package peer

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSeed runs the seed documents' benchmark shapes (shared/seeds/000-004) on this
// machine, one sub-benchmark per claim of reports/seed_claims.toml, named by the claim's id:
// `BenchmarkSeed/CLAIM_ID/as_written` is the loop as the seed describes it (a value it never
// used stays unused: the dead load), and `BenchmarkSeed/CLAIM_ID/sink` is the same loop with
// every value read fed to a sink. The pair shows the dead-load artifact on one machine rather
// than arguing it. Parallel shapes run under b.RunParallel as the seeds did (ns/op: wall time
// over all goroutines' operations) and report their goroutine count.
func BenchmarkSeed(b *testing.B) {
	for _, v := range []struct {
		name string
		sink bool
	}{{"as_written", false}, {"sink", true}} {
		v := v
		for _, c := range seedCases {
			c := c
			b.Run(c.claim+"/"+v.name, func(b *testing.B) { c.run(b, v.sink) })
		}
	}
}

type seedCase struct {
	claim string
	run   func(b *testing.B, sink bool)
}

var seedCases = []seedCase{
	{"single_read_mutex", func(b *testing.B, k bool) { fieldsRead(b, k, 1) }},
	{"single_read_atomic", func(b *testing.B, k bool) { stateCopyRead(b, k, 1) }},
	{"concurrent_read_mutex", func(b *testing.B, k bool) { fieldsRead(b, k, runtime.GOMAXPROCS(0)) }},
	{"concurrent_read_atomic", func(b *testing.B, k bool) { stateCopyRead(b, k, runtime.GOMAXPROCS(0)) }},
	{"registry_read_mutex", func(b *testing.B, k bool) { registryMutex(b, k) }},
	{"registry_read_syncmap", func(b *testing.B, k bool) { registrySyncMap(b, k) }},
	{"mixed_mutex", func(b *testing.B, k bool) { mixedMutex(b, k) }},
	{"mixed_atomic", func(b *testing.B, k bool) { mixedSyncMap(b, k) }},
	{"channel_single_reader", func(b *testing.B, k bool) { channelRead(b, k, 1, 0) }},
	{"channel_concurrent_readers", func(b *testing.B, k bool) { channelRead(b, k, atLeast(10), 0) }},
	{"channel_writer_reader", func(b *testing.B, k bool) { channelRead(b, k, runtime.GOMAXPROCS(0), time.Microsecond) }},
	{"channel_memory", func(b *testing.B, k bool) { channelRead(b, k, 1, 0) }},
	{"atomic_single_reader", func(b *testing.B, k bool) { atomicPointerRead(b, k, 1, false) }},
	{"atomic_concurrent_readers", func(b *testing.B, k bool) { atomicPointerRead(b, k, atLeast(10), false) }},
	{"atomic_writer_reader", func(b *testing.B, k bool) { atomicPointerRead(b, k, runtime.GOMAXPROCS(0), true) }},
	{"atomic_memory", func(b *testing.B, k bool) { atomicPointerRead(b, k, 1, false) }},
	{"getters_individual", func(b *testing.B, k bool) { gettersRead(b, k, true, false) }},
	{"getters_snapshot", func(b *testing.B, k bool) { gettersRead(b, k, false, false) }},
	{"getters_individual_high_contention", func(b *testing.B, k bool) { gettersRead(b, k, true, true) }},
	{"getters_high_contention", func(b *testing.B, k bool) { gettersRead(b, k, false, true) }},
	{"syncmap_load", func(b *testing.B, k bool) { syncMapLoad(b, k) }},
	{"syncmap_store", func(b *testing.B, _ bool) { syncMapStore(b) }},
}

// atLeast is the smallest multiple of GOMAXPROCS at or above n: RunParallel's goroutine counts.
func atLeast(n int) int {
	cores := runtime.GOMAXPROCS(0)
	return ((n + cores - 1) / cores) * cores
}

// seedProcess is the pre-pivot process: its fields behind one RWMutex, read through getters
// or a snapshot.
type seedProcess struct {
	mu        sync.RWMutex
	id        string
	name      string
	status    Status
	startTime time.Time
	endTime   time.Time
	exitCode  int
}

type seedSnapshot struct {
	id        string
	name      string
	status    Status
	startTime time.Time
	endTime   time.Time
	exitCode  int
}

func newSeedProcess(i int) *seedProcess {
	return &seedProcess{id: "process-" + strconv.Itoa(i), name: "test-process", status: Running, startTime: time.Now()}
}

func (p *seedProcess) Status() Status {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.status
}

func (p *seedProcess) StartTime() time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.startTime
}

func (p *seedProcess) EndTime() time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.endTime
}

func (p *seedProcess) ExitCode() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.exitCode
}

func (p *seedProcess) Snapshot() seedSnapshot {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return seedSnapshot{p.id, p.name, p.status, p.startTime, p.endTime, p.exitCode}
}

// seedState is the pivot's immutable state, published through an atomic pointer.
type seedState struct {
	status    Status
	pid       int
	startTime time.Time
	exitCode  int
}

type seedAtomicProcess struct {
	state atomic.Pointer[seedState]
}

func newSeedAtomicProcess() *seedAtomicProcess {
	p := &seedAtomicProcess{}
	p.state.Store(&seedState{status: Running, pid: 1, startTime: time.Now()})
	return p
}

// loop runs body b.N times on one goroutine, or under RunParallel with `goroutines`
// goroutines (reported), each with its own sink.
func loop(b *testing.B, goroutines int, body func(s *sink, i int)) {
	if goroutines <= 1 {
		var s sink
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			body(&s, i)
		}
		b.StopTimer()
		s.flush()
		return
	}
	b.SetParallelism(goroutines / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var s sink
		i := 0
		for pb.Next() {
			body(&s, i)
			i++
		}
		s.flush()
	})
	b.StopTimer()
	b.ReportMetric(float64(goroutines), "goroutines")
}

// fieldsRead: seed 000's mutex read, RLock and copy the fields out.
func fieldsRead(b *testing.B, keep bool, goroutines int) {
	p := newSeedProcess(0)
	loop(b, goroutines, func(s *sink, _ int) {
		p.mu.RLock()
		st, start, code := p.status, p.startTime, p.exitCode
		p.mu.RUnlock()
		if keep {
			s.acc += uint64(st) + uint64(start.UnixNano()) + uint64(code)
		} else {
			_, _, _ = st, start, code
		}
	})
}

// stateCopyRead: seed 000's lock-free read, load the pointer and copy the state.
func stateCopyRead(b *testing.B, keep bool, goroutines int) {
	p := newSeedAtomicProcess()
	loop(b, goroutines, func(s *sink, _ int) {
		st := *p.state.Load()
		if keep {
			s.acc += uint64(st.status) + uint64(st.pid) + uint64(st.exitCode)
		} else {
			_ = st
		}
	})
}

// atomicPointerRead: seed 001's atomic reader, the pointer loaded and (as written) never used;
// with a writer swapping in a new state every microsecond for the contention shape.
func atomicPointerRead(b *testing.B, keep bool, goroutines int, withWriter bool) {
	p := newSeedAtomicProcess()
	if withWriter {
		stop := writer(time.Microsecond, func() {
			old := p.state.Load()
			next := *old
			next.pid++
			p.state.Store(&next)
		})
		defer stop()
	}
	loop(b, goroutines, func(s *sink, _ int) {
		st := p.state.Load()
		if keep {
			s.acc += uint64(st.status) + uint64(st.pid)
		} else {
			_ = st
		}
	})
}

func seedKey(i int) string { return "process-" + strconv.Itoa(i%100) }

// registryMutex: seed 000's registry read, map behind an RWMutex, the key built per call.
func registryMutex(b *testing.B, keep bool) {
	var mu sync.RWMutex
	procs := make(map[string]*seedProcess, 100)
	for i := 0; i < 100; i++ {
		procs[seedKey(i)] = newSeedProcess(i)
	}
	loop(b, runtime.GOMAXPROCS(0), func(s *sink, i int) {
		key := seedKey(i)
		mu.RLock()
		p, ok := procs[key]
		mu.RUnlock()
		if keep {
			if ok {
				s.acc += uint64(len(p.id))
			}
		} else {
			_ = ok
		}
	})
}

// registrySyncMap: seed 000's sync.Map registry read.
func registrySyncMap(b *testing.B, keep bool) {
	var procs sync.Map
	for i := 0; i < 100; i++ {
		procs.Store(seedKey(i), newSeedProcess(i))
	}
	loop(b, runtime.GOMAXPROCS(0), func(s *sink, i int) {
		v, ok := procs.Load(seedKey(i))
		if keep {
			if ok {
				s.acc += uint64(len(v.(*seedProcess).id))
			}
		} else {
			_ = ok
		}
	})
}

// mixedMutex: seed 000's mixed workload, 50 entries, every fifth operation a write of a new
// process into the locked map.
func mixedMutex(b *testing.B, keep bool) {
	var mu sync.RWMutex
	procs := make(map[string]*seedProcess, 50)
	for i := 0; i < 50; i++ {
		procs[seedKey(i)] = newSeedProcess(i)
	}
	loop(b, runtime.GOMAXPROCS(0), func(s *sink, i int) {
		key := "process-" + strconv.Itoa(i%50)
		if i%5 == 0 {
			p := newSeedProcess(i % 50)
			mu.Lock()
			procs[key] = p
			mu.Unlock()
			return
		}
		mu.RLock()
		p, ok := procs[key]
		mu.RUnlock()
		if keep {
			if ok {
				s.acc += uint64(p.status)
			}
		} else {
			_ = ok
		}
	})
}

// mixedSyncMap: the same over a sync.Map.
func mixedSyncMap(b *testing.B, keep bool) {
	var procs sync.Map
	for i := 0; i < 50; i++ {
		procs.Store(seedKey(i), newSeedProcess(i))
	}
	loop(b, runtime.GOMAXPROCS(0), func(s *sink, i int) {
		key := "process-" + strconv.Itoa(i%50)
		if i%5 == 0 {
			procs.Store(key, newSeedProcess(i%50))
			return
		}
		v, ok := procs.Load(key)
		if keep {
			if ok {
				s.acc += uint64(v.(*seedProcess).status)
			}
		} else {
			_ = ok
		}
	})
}

// The seed's channel design: each request a new struct carrying a newly made reply channel,
// sent over an unbuffered channel to one owner goroutine, which replies with a new state.
type chanRequest struct {
	write bool
	reply chan *seedState
}

func channelOwner() (chan *chanRequest, func()) {
	requests := make(chan *chanRequest)
	done := make(chan struct{})
	go func() {
		defer close(done)
		st := seedState{status: Running, pid: 1, startTime: time.Now()}
		for req := range requests {
			if req.write {
				st.pid++
			}
			cp := st
			req.reply <- &cp
		}
	}()
	return requests, func() { close(requests); <-done }
}

// channelRead: seed 001's channel readers (and a writer sending an update every microsecond).
func channelRead(b *testing.B, keep bool, goroutines int, writerPause time.Duration) {
	requests, stop := channelOwner()
	defer stop()
	if writerPause > 0 {
		stopWriter := writer(writerPause, func() {
			r := &chanRequest{write: true, reply: make(chan *seedState)}
			requests <- r
			<-r.reply
		})
		defer stopWriter()
	}
	loop(b, goroutines, func(s *sink, _ int) {
		r := &chanRequest{reply: make(chan *seedState)}
		requests <- r
		st := <-r.reply
		if keep {
			s.acc += uint64(st.pid)
		} else {
			_ = st
		}
	})
}

// gettersRead: seed 003's individual getters (four RLocks) or one snapshot, alone or with
// readers on every core beside a writer that never sleeps.
func gettersRead(b *testing.B, keep, individual, contended bool) {
	p := newSeedProcess(0)
	goroutines := 1
	if contended {
		goroutines = runtime.GOMAXPROCS(0)
		stop := writer(0, func() {
			p.mu.Lock()
			p.exitCode++
			p.mu.Unlock()
		})
		defer stop()
	}
	loop(b, goroutines, func(s *sink, _ int) {
		var st Status
		var start, end time.Time
		var code int
		if individual {
			st, start, end, code = p.Status(), p.StartTime(), p.EndTime(), p.ExitCode()
		} else {
			snap := p.Snapshot()
			st, start, end, code = snap.status, snap.startTime, snap.endTime, snap.exitCode
		}
		if keep {
			s.acc += uint64(st) + uint64(start.UnixNano()) + uint64(end.UnixNano()) + uint64(code)
		} else {
			_, _, _, _ = st, start, end, code
		}
	})
}

// syncMapLoad: seed 004's "sync.Map Load", one goroutine over 100 prebuilt keys.
func syncMapLoad(b *testing.B, keep bool) {
	var procs sync.Map
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = seedKey(i)
		procs.Store(keys[i], newSeedProcess(i))
	}
	loop(b, 1, func(s *sink, i int) {
		v, ok := procs.Load(keys[i%100])
		if keep {
			if ok {
				s.acc += uint64(v.(*seedProcess).status)
			}
		} else {
			_ = ok
		}
	})
}

// syncMapStore: seed 004's "sync.Map Store", registering a new process under one of 100 keys.
func syncMapStore(b *testing.B) {
	var procs sync.Map
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = seedKey(i)
	}
	loop(b, 1, func(_ *sink, i int) {
		procs.Store(keys[i%100], newSeedProcess(i%100))
	})
}
