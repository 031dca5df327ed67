// Package peer models, in Go, the three process-manager designs this project compares in Rust,
// the way the Go peers (Brummer and its lock-free pivot) built them, so that both languages can
// be measured in the same run on the same machine:
//
//   - atomic: a sync.Map registry of processes, each holding an atomic.Pointer to an immutable
//     state struct; a read loads the pointer and copies the struct out, a write builds a new
//     struct and swaps it in with compare-and-swap (retrying on a lost race);
//   - mutex: a map behind a sync.RWMutex, and a sync.RWMutex per process guarding its state;
//     a read takes both read locks and copies the state out, a transition takes the process's
//     write lock;
//   - actor: one owner goroutine holds every state; callers send a request carrying a reply
//     channel and wait. "actor" reuses one reply channel per caller (the best form, as the Rust
//     actor does); "actor-fresh" allocates a reply channel per request (the seed's form).
//
// Every design implements the same operations as the Rust criterion groups call through
// `ProcessManager`: status by name, restart (a stop and a start: four validated transitions
// and a new run), and a list of every process sorted by name. Nothing here spawns a process:
// like the Rust benches' simulated launcher, a run is state only.
package peer

import (
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Status is a run's place in the status machine (the Rust `Status` less its payloads).
type Status uint8

// The statuses a run passes through in the benchmarks.
const (
	Pending Status = iota
	Starting
	Running
	Stopping
	Stopped
	Exited
)

// validTransition is the Rust status machine's table, restricted to the statuses above: a
// write that is not in it is refused, as `Status::transition` refuses it.
func validTransition(from, to Status) bool {
	switch from {
	case Pending:
		return to == Starting
	case Starting:
		return to == Running
	case Running:
		return to == Stopping || to == Exited
	case Stopping:
		return to == Stopped || to == Exited
	}
	return false
}

// State is what a reader gets: a copy of one run's state, never torn.
type State struct {
	Name      string
	ID        string // name#generation, as the Rust ProcessId prints
	Gen       uint64
	Status    Status
	Pid       int
	StartedAt time.Time
	EndedAt   time.Time
	ExitCode  int
	HasExit   bool
	Restarts  uint32
}

// Caller is one client's handle on a manager: the actor gives each caller its own reply
// channel; the shared-memory designs return themselves.
type Caller interface {
	// Status copies out the named process's state; false when there is no such process.
	Status(name string) (State, bool)
	// Restart stops the named process's run and starts a new one; false when a transition
	// was refused or the name is unknown.
	Restart(name string) bool
	// List copies out every process's state, sorted by name.
	List() []State
}

// Manager is one design holding processes proc-0..n-1, all running.
type Manager interface {
	// Caller returns a handle for one goroutine.
	Caller() Caller
	// Close stops the manager's goroutines, if it has any.
	Close()
}

// Design names a design and builds it with n running processes.
type Design struct {
	Name string
	New  func(n int) Manager
}

// Designs is every design, in the order the report uses (the Rust designs' order, with the
// actor's per-request-reply variant beside the actor).
var Designs = []Design{
	{"mutex", func(n int) Manager { return NewMutex(n) }},
	{"actor", func(n int) Manager { return NewActor(n, false) }},
	{"actor-fresh", func(n int) Manager { return NewActor(n, true) }},
	{"atomic", func(n int) Manager { return NewAtomic(n) }},
}

// ProcName is the benches' name of the i-th process, as the Rust benches name them.
func ProcName(i int) string { return "proc-" + strconv.Itoa(i) }

var pidCounter int64 = 1000

func running(name string, gen uint64) State {
	now := time.Now()
	return State{
		Name:      name,
		ID:        name + "#" + strconv.FormatUint(gen, 10),
		Gen:       gen,
		Status:    Running,
		Pid:       int(atomic.AddInt64(&pidCounter, 1)),
		StartedAt: now,
	}
}

// restartSteps applies a restart to a copy of the state one transition at a time, calling
// publish after each; publish returns false when the step lost a race and must be redone
// from the state it returns.
type step func(s *State) bool

// The four transitions of a restart, each a validated change of the state (the new run's
// two transitions start from a fresh Pending run with the next generation).
var restartSteps = []step{
	func(s *State) bool { return moveTo(s, Stopping) },
	func(s *State) bool {
		if !moveTo(s, Stopped) {
			return false
		}
		s.EndedAt = time.Now()
		s.HasExit = true
		s.ExitCode = 0
		return true
	},
	func(s *State) bool {
		restarts := s.Restarts + 1
		*s = State{Name: s.Name, Gen: s.Gen + 1, Status: Pending, Restarts: restarts}
		s.ID = s.Name + "#" + strconv.FormatUint(s.Gen, 10)
		return moveTo(s, Starting)
	},
	func(s *State) bool {
		if !moveTo(s, Running) {
			return false
		}
		s.Pid = int(atomic.AddInt64(&pidCounter, 1))
		s.StartedAt = time.Now()
		return true
	},
}

func moveTo(s *State, to Status) bool {
	if !validTransition(s.Status, to) {
		return false
	}
	s.Status = to
	return true
}

// ---- atomic: sync.Map + atomic.Pointer to an immutable state ----

// Atomic is the lock-free pivot's design.
type Atomic struct {
	procs sync.Map // string -> *atomicProc
	count int64
}

type atomicProc struct {
	state atomic.Pointer[State]
}

// NewAtomic builds the atomic design with n running processes.
func NewAtomic(n int) *Atomic {
	m := &Atomic{}
	for i := 0; i < n; i++ {
		p := &atomicProc{}
		s := running(ProcName(i), 1)
		p.state.Store(&s)
		m.procs.Store(s.Name, p)
		m.count++
	}
	return m
}

// Caller returns the manager itself: readers share nothing but the map and the pointers.
func (m *Atomic) Caller() Caller { return m }

// Close does nothing: the design has no goroutine.
func (m *Atomic) Close() {}

// Status loads the process's state pointer and copies the state out.
func (m *Atomic) Status(name string) (State, bool) {
	v, ok := m.procs.Load(name)
	if !ok {
		return State{}, false
	}
	return *v.(*atomicProc).state.Load(), true
}

// Restart publishes each transition as a new immutable state, swapped in by CAS; a lost race
// rebuilds the step from the state that won.
func (m *Atomic) Restart(name string) bool {
	v, ok := m.procs.Load(name)
	if !ok {
		return false
	}
	p := v.(*atomicProc)
	for _, apply := range restartSteps {
		for {
			old := p.state.Load()
			next := new(State)
			*next = *old
			if !apply(next) {
				return false
			}
			if p.state.CompareAndSwap(old, next) {
				break
			}
		}
	}
	return true
}

// List collects every process from the map, sorts the handles by name (sorting pointers, not
// state structs), then copies each state out.
func (m *Atomic) List() []State {
	procs := make([]namedAtomic, 0, atomic.LoadInt64(&m.count))
	m.procs.Range(func(k, v any) bool {
		procs = append(procs, namedAtomic{k.(string), v.(*atomicProc)})
		return true
	})
	sort.Slice(procs, func(i, j int) bool { return procs[i].name < procs[j].name })
	out := make([]State, len(procs))
	for i, p := range procs {
		out[i] = *p.proc.state.Load()
	}
	return out
}

type namedAtomic struct {
	name string
	proc *atomicProc
}

// ---- mutex: RWMutex map + RWMutex per process ----

// Mutex is the design the pivot left: a locked map of processes, each with its own lock.
type Mutex struct {
	mu    sync.RWMutex
	procs map[string]*mutexProc
}

type mutexProc struct {
	mu    sync.RWMutex
	state State
}

// NewMutex builds the mutex design with n running processes.
func NewMutex(n int) *Mutex {
	m := &Mutex{procs: make(map[string]*mutexProc, n)}
	for i := 0; i < n; i++ {
		s := running(ProcName(i), 1)
		m.procs[s.Name] = &mutexProc{state: s}
	}
	return m
}

// Caller returns the manager itself.
func (m *Mutex) Caller() Caller { return m }

// Close does nothing: the design has no goroutine.
func (m *Mutex) Close() {}

func (m *Mutex) lookup(name string) *mutexProc {
	m.mu.RLock()
	p := m.procs[name]
	m.mu.RUnlock()
	return p
}

// Status takes the registry's read lock, then the process's, and copies the state out.
func (m *Mutex) Status(name string) (State, bool) {
	p := m.lookup(name)
	if p == nil {
		return State{}, false
	}
	p.mu.RLock()
	s := p.state
	p.mu.RUnlock()
	return s, true
}

// Restart takes the process's write lock once per transition, as the Rust mutex design does.
func (m *Mutex) Restart(name string) bool {
	p := m.lookup(name)
	if p == nil {
		return false
	}
	for _, apply := range restartSteps {
		p.mu.Lock()
		ok := apply(&p.state)
		p.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// List collects the processes under the registry's read lock, sorts the handles by name, then
// copies each state under its own read lock.
func (m *Mutex) List() []State {
	m.mu.RLock()
	procs := make([]namedMutex, 0, len(m.procs))
	for name, p := range m.procs {
		procs = append(procs, namedMutex{name, p})
	}
	m.mu.RUnlock()
	sort.Slice(procs, func(i, j int) bool { return procs[i].name < procs[j].name })
	out := make([]State, len(procs))
	for i, p := range procs {
		p.proc.mu.RLock()
		out[i] = p.proc.state
		p.proc.mu.RUnlock()
	}
	return out
}

type namedMutex struct {
	name string
	proc *mutexProc
}

// ---- actor: one owner goroutine, request/reply over channels ----

type opKind uint8

const (
	opStatus opKind = iota
	opRestart
	opList
)

type request struct {
	op    opKind
	name  string
	reply chan reply
}

type reply struct {
	state State
	ok    bool
	list  []State
}

// Actor is the channel design: nothing is shared; the owner goroutine answers every request.
type Actor struct {
	requests chan request
	fresh    bool
	done     chan struct{}
}

// mailbox is the request channel's capacity: many callers can queue without blocking, as the
// Rust actor's unbounded flume mailbox lets them.
const mailbox = 1024

// NewActor starts the owner goroutine with n running processes; fresh makes every request
// carry a newly allocated reply channel (the seed's form) instead of the caller's own.
func NewActor(n int, fresh bool) *Actor {
	a := &Actor{requests: make(chan request, mailbox), fresh: fresh, done: make(chan struct{})}
	states := make(map[string]*State, n)
	names := make([]string, 0, n)
	for i := 0; i < n; i++ {
		s := running(ProcName(i), 1)
		states[s.Name] = &s
		names = append(names, s.Name)
	}
	sort.Strings(names)
	go a.own(states, names)
	return a
}

func (a *Actor) own(states map[string]*State, names []string) {
	defer close(a.done)
	for req := range a.requests {
		var r reply
		switch req.op {
		case opStatus:
			if s, ok := states[req.name]; ok {
				r = reply{state: *s, ok: true}
			}
		case opRestart:
			if s, ok := states[req.name]; ok {
				r.ok = true
				for _, apply := range restartSteps {
					if !apply(s) {
						r.ok = false
						break
					}
				}
			}
		case opList:
			// The owner keeps its names sorted, so a list is copies in order, no sort.
			r.list = make([]State, 0, len(names))
			for _, n := range names {
				r.list = append(r.list, *states[n])
			}
			r.ok = true
		}
		req.reply <- r
	}
}

// Caller returns a handle with its own reply channel (or none, for the fresh variant).
func (a *Actor) Caller() Caller {
	c := &actorCaller{a: a}
	if !a.fresh {
		c.reply = make(chan reply, 1)
	}
	return c
}

// Close stops the owner goroutine and waits for it.
func (a *Actor) Close() {
	close(a.requests)
	<-a.done
}

type actorCaller struct {
	a     *Actor
	reply chan reply
}

func (c *actorCaller) call(op opKind, name string) reply {
	ch := c.reply
	if ch == nil {
		ch = make(chan reply, 1)
	}
	c.a.requests <- request{op: op, name: name, reply: ch}
	return <-ch
}

// Status is a round trip to the owner.
func (c *actorCaller) Status(name string) (State, bool) {
	r := c.call(opStatus, name)
	return r.state, r.ok
}

// Restart is a round trip to the owner, which applies the four transitions.
func (c *actorCaller) Restart(name string) bool { return c.call(opRestart, name).ok }

// List is a round trip to the owner, which copies every state in name order.
func (c *actorCaller) List() []State { return c.call(opList, "").list }
