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
// over all goroutines' operations, GOMAXPROCS goroutines: the seeds' "ConcurrentReaders-10"
// ran RunParallel's default, not ten) and report their goroutine count. Each loop body is
// written out in its benchmark, as the seeds' were: a call through a function value per
// iteration would add more than the sub-nanosecond figures being reproduced.
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
	{"single_read_mutex", func(b *testing.B, k bool) { fieldsRead(b, k, false) }},
	{"single_read_atomic", func(b *testing.B, k bool) { stateCopyRead(b, k, false) }},
	{"concurrent_read_mutex", func(b *testing.B, k bool) { fieldsRead(b, k, true) }},
	{"concurrent_read_atomic", func(b *testing.B, k bool) { stateCopyRead(b, k, true) }},
	{"registry_read_mutex", func(b *testing.B, k bool) { registryMutex(b, k) }},
	{"registry_read_syncmap", func(b *testing.B, k bool) { registrySyncMap(b, k) }},
	{"mixed_mutex", func(b *testing.B, k bool) { mixedMutex(b, k) }},
	{"mixed_atomic", func(b *testing.B, k bool) { mixedSyncMap(b, k) }},
	{"channel_single_reader", func(b *testing.B, k bool) { channelRead(b, k, false, false) }},
	{"channel_concurrent_readers", func(b *testing.B, k bool) { channelRead(b, k, true, false) }},
	{"channel_writer_reader", func(b *testing.B, k bool) { channelRead(b, k, false, true) }},
	{"channel_memory", func(b *testing.B, k bool) { channelRead(b, k, false, false) }},
	{"channel_memory_bytes", func(b *testing.B, k bool) { channelRead(b, k, false, false) }},
	{"atomic_single_reader", func(b *testing.B, k bool) { atomicPointerRead(b, k, false, false) }},
	{"atomic_concurrent_readers", func(b *testing.B, k bool) { atomicPointerRead(b, k, true, false) }},
	{"atomic_writer_reader", func(b *testing.B, k bool) { atomicPointerRead(b, k, false, true) }},
	{"atomic_memory", func(b *testing.B, k bool) { atomicPointerRead(b, k, false, false) }},
	{"getters_individual", func(b *testing.B, k bool) { gettersRead(b, k, true, false) }},
	{"getters_snapshot", func(b *testing.B, k bool) { gettersRead(b, k, false, false) }},
	{"getters_individual_high_contention", func(b *testing.B, k bool) { gettersRead(b, k, true, true) }},
	{"getters_high_contention", func(b *testing.B, k bool) { gettersRead(b, k, false, true) }},
	{"syncmap_load", func(b *testing.B, k bool) { syncMapLoad(b, k) }},
	{"syncmap_store", func(b *testing.B, _ bool) { syncMapStore(b) }},
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

// The loops below share this shape: `if keep` picks the sink-fed loop, else the loop as the
// seed wrote it; a parallel shape runs under RunParallel with GOMAXPROCS goroutines, its sink
// per goroutine, and reports the count.

var seedSink uint64

func report(b *testing.B, parallel bool) {
	b.StopTimer()
	if parallel {
		b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "goroutines")
	}
}

// fieldsRead: seed 000's mutex read, RLock and copy the fields out.
func fieldsRead(b *testing.B, keep, parallel bool) {
	p := newSeedProcess(0)
	b.ResetTimer()
	switch {
	case parallel && keep:
		b.RunParallel(func(pb *testing.PB) {
			var acc uint64
			for pb.Next() {
				p.mu.RLock()
				st, start, code := p.status, p.startTime, p.exitCode
				p.mu.RUnlock()
				acc += uint64(st) + uint64(start.UnixNano()) + uint64(code)
			}
			atomic.AddUint64(&seedSink, acc)
		})
	case parallel:
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.mu.RLock()
				st, start, code := p.status, p.startTime, p.exitCode
				p.mu.RUnlock()
				_, _, _ = st, start, code
			}
		})
	case keep:
		var acc uint64
		for i := 0; i < b.N; i++ {
			p.mu.RLock()
			st, start, code := p.status, p.startTime, p.exitCode
			p.mu.RUnlock()
			acc += uint64(st) + uint64(start.UnixNano()) + uint64(code)
		}
		seedSink += acc
	default:
		for i := 0; i < b.N; i++ {
			p.mu.RLock()
			st, start, code := p.status, p.startTime, p.exitCode
			p.mu.RUnlock()
			_, _, _ = st, start, code
		}
	}
	report(b, parallel)
}

// stateCopyRead: seed 000's lock-free read, load the pointer and copy the state.
func stateCopyRead(b *testing.B, keep, parallel bool) {
	p := newSeedAtomicProcess()
	b.ResetTimer()
	switch {
	case parallel && keep:
		b.RunParallel(func(pb *testing.PB) {
			var acc uint64
			for pb.Next() {
				st := *p.state.Load()
				acc += uint64(st.status) + uint64(st.pid) + uint64(st.exitCode)
			}
			atomic.AddUint64(&seedSink, acc)
		})
	case parallel:
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				st := *p.state.Load()
				_ = st
			}
		})
	case keep:
		var acc uint64
		for i := 0; i < b.N; i++ {
			st := *p.state.Load()
			acc += uint64(st.status) + uint64(st.pid) + uint64(st.exitCode)
		}
		seedSink += acc
	default:
		for i := 0; i < b.N; i++ {
			st := *p.state.Load()
			_ = st
		}
	}
	report(b, parallel)
}

// atomicPointerRead: seed 001's atomic reader, the pointer loaded and one field named, never
// used as written; concurrent on every GOMAXPROCS goroutine, or one reader beside a writer
// that swaps in a new state and sleeps a microsecond.
func atomicPointerRead(b *testing.B, keep, parallel, withWriter bool) {
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
	b.ResetTimer()
	switch {
	case parallel && keep:
		b.RunParallel(func(pb *testing.PB) {
			var acc uint64
			for pb.Next() {
				acc += uint64(p.state.Load().status)
			}
			atomic.AddUint64(&seedSink, acc)
		})
	case parallel:
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				st := p.state.Load()
				_ = st.status
			}
		})
	case keep:
		var acc uint64
		for i := 0; i < b.N; i++ {
			acc += uint64(p.state.Load().status)
		}
		seedSink += acc
	default:
		for i := 0; i < b.N; i++ {
			st := p.state.Load()
			_ = st.status
		}
	}
	report(b, parallel)
}

func seedKey(i int) string { return "process-" + strconv.Itoa(i%100) }

// registryMutex: seed 000's registry read, map behind an RWMutex, the key built per call.
func registryMutex(b *testing.B, keep bool) {
	var mu sync.RWMutex
	procs := make(map[string]*seedProcess, 100)
	for i := 0; i < 100; i++ {
		procs[seedKey(i)] = newSeedProcess(i)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var acc uint64
		i := 0
		for pb.Next() {
			key := seedKey(i)
			mu.RLock()
			p, ok := procs[key]
			mu.RUnlock()
			if keep && ok {
				acc += uint64(len(p.id))
			}
			i++
		}
		atomic.AddUint64(&seedSink, acc)
	})
	report(b, true)
}

// registrySyncMap: seed 000's sync.Map registry read.
func registrySyncMap(b *testing.B, keep bool) {
	var procs sync.Map
	for i := 0; i < 100; i++ {
		procs.Store(seedKey(i), newSeedProcess(i))
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var acc uint64
		i := 0
		for pb.Next() {
			v, ok := procs.Load(seedKey(i))
			if keep && ok {
				acc += uint64(len(v.(*seedProcess).id))
			}
			i++
		}
		atomic.AddUint64(&seedSink, acc)
	})
	report(b, true)
}

// mixedMutex: seed 000's mixed workload, 50 entries, every fifth operation a write of a new
// process into the locked map.
func mixedMutex(b *testing.B, keep bool) {
	var mu sync.RWMutex
	procs := make(map[string]*seedProcess, 50)
	for i := 0; i < 50; i++ {
		procs[seedKey(i)] = newSeedProcess(i)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var acc uint64
		i := 0
		for pb.Next() {
			key := "process-" + strconv.Itoa(i%50)
			if i%5 == 0 {
				p := newSeedProcess(i % 50)
				mu.Lock()
				procs[key] = p
				mu.Unlock()
			} else {
				mu.RLock()
				p, ok := procs[key]
				mu.RUnlock()
				if keep && ok {
					acc += uint64(p.status)
				}
			}
			i++
		}
		atomic.AddUint64(&seedSink, acc)
	})
	report(b, true)
}

// mixedSyncMap: the same over a sync.Map.
func mixedSyncMap(b *testing.B, keep bool) {
	var procs sync.Map
	for i := 0; i < 50; i++ {
		procs.Store(seedKey(i), newSeedProcess(i))
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var acc uint64
		i := 0
		for pb.Next() {
			key := "process-" + strconv.Itoa(i%50)
			if i%5 == 0 {
				procs.Store(key, newSeedProcess(i%50))
			} else {
				v, ok := procs.Load(key)
				if keep && ok {
					acc += uint64(v.(*seedProcess).status)
				}
			}
			i++
		}
		atomic.AddUint64(&seedSink, acc)
	})
	report(b, true)
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

func channelGet(requests chan *chanRequest) *seedState {
	r := &chanRequest{reply: make(chan *seedState)}
	requests <- r
	return <-r.reply
}

// channelRead: seed 001's channel reads: one reader, every GOMAXPROCS goroutine, or one
// reader beside a writer that sends an update and sleeps a microsecond.
func channelRead(b *testing.B, keep, parallel, withWriter bool) {
	requests, stop := channelOwner()
	defer stop()
	if withWriter {
		stopWriter := writer(time.Microsecond, func() {
			r := &chanRequest{write: true, reply: make(chan *seedState)}
			requests <- r
			<-r.reply
		})
		defer stopWriter()
	}
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			var acc uint64
			for pb.Next() {
				st := channelGet(requests)
				if keep {
					acc += uint64(st.pid)
				}
			}
			atomic.AddUint64(&seedSink, acc)
		})
	} else {
		var acc uint64
		for i := 0; i < b.N; i++ {
			st := channelGet(requests)
			if keep {
				acc += uint64(st.pid)
			}
		}
		seedSink += acc
	}
	report(b, parallel)
}

// gettersRead: seed 003's individual getters (four RLocks) or one snapshot, alone or with
// readers on every GOMAXPROCS goroutine beside a writer that never sleeps.
func gettersRead(b *testing.B, keep, individual, contended bool) {
	p := newSeedProcess(0)
	if contended {
		stop := writer(0, func() {
			p.mu.Lock()
			p.exitCode++
			p.mu.Unlock()
		})
		defer stop()
	}
	read := func(acc *uint64) {
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
			*acc += uint64(st) + uint64(start.UnixNano()) + uint64(end.UnixNano()) + uint64(code)
		}
	}
	b.ResetTimer()
	if contended {
		b.RunParallel(func(pb *testing.PB) {
			var acc uint64
			for pb.Next() {
				read(&acc)
			}
			atomic.AddUint64(&seedSink, acc)
		})
	} else {
		var acc uint64
		for i := 0; i < b.N; i++ {
			read(&acc)
		}
		seedSink += acc
	}
	report(b, contended)
}

// syncMapLoad: seed 004's "sync.Map Load", one goroutine over 100 prebuilt keys.
func syncMapLoad(b *testing.B, keep bool) {
	var procs sync.Map
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = seedKey(i)
		procs.Store(keys[i], newSeedProcess(i))
	}
	var acc uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, ok := procs.Load(keys[i%100])
		if keep && ok {
			acc += uint64(v.(*seedProcess).status)
		}
	}
	seedSink += acc
	report(b, false)
}

// syncMapStore: seed 004's "sync.Map Store", registering a new process under one of 100 keys.
func syncMapStore(b *testing.B) {
	var procs sync.Map
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = seedKey(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		procs.Store(keys[i%100], newSeedProcess(i%100))
	}
	report(b, false)
}
