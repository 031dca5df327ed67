package peer

import (
	"sync"
	"testing"
)

// Every design answers the same operations the same way: a status is a running run, a
// restart moves to the next generation, a list is every process in name order.
func TestDesignsAgree(t *testing.T) {
	for _, d := range Designs {
		m := d.New(12)
		c := m.Caller()
		st, ok := c.Status("proc-3")
		if !ok || st.Status != Running || st.Gen != 1 || st.ID != "proc-3#1" {
			t.Fatalf("%s: status of proc-3 = %+v, %v", d.Name, st, ok)
		}
		if _, ok := c.Status("nope"); ok {
			t.Fatalf("%s: status of an unknown name succeeded", d.Name)
		}
		if !c.Restart("proc-3") || !c.Restart("proc-3") {
			t.Fatalf("%s: restart refused", d.Name)
		}
		st, _ = c.Status("proc-3")
		if st.Status != Running || st.Gen != 3 || st.ID != "proc-3#3" || st.Restarts != 2 {
			t.Fatalf("%s: after two restarts: %+v", d.Name, st)
		}
		l := c.List()
		if len(l) != 12 {
			t.Fatalf("%s: list has %d entries", d.Name, len(l))
		}
		for i := 1; i < len(l); i++ {
			if l[i-1].Name >= l[i].Name {
				t.Fatalf("%s: list not sorted at %d: %s, %s", d.Name, i, l[i-1].Name, l[i].Name)
			}
		}
		m.Close()
	}
}

// Readers beside restarting writers only ever see a state the status machine allows with
// the fields that status implies (run with -race to check the designs' synchronisation).
func TestConcurrentReadsAreConsistent(t *testing.T) {
	for _, d := range Designs {
		m := d.New(2)
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := m.Caller()
				for i := 0; i < 200; i++ {
					c.Restart("proc-1")
				}
			}()
		}
		for r := 0; r < 2; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := m.Caller()
				for i := 0; i < 2000; i++ {
					st, ok := c.Status("proc-1")
					if !ok {
						t.Errorf("%s: proc-1 vanished", d.Name)
						return
					}
					if st.Status == Running && st.Pid == 0 {
						t.Errorf("%s: running without a pid: %+v", d.Name, st)
						return
					}
					if st.Status == Stopped && !st.HasExit {
						t.Errorf("%s: stopped without exit info: %+v", d.Name, st)
						return
					}
				}
			}()
		}
		wg.Wait()
		m.Close()
	}
}
