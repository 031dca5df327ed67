//! The open-loop schedule: when each op of a paced client is *due*.
//!
//! A paced client sends op `k` at `start + (phase + k) / rate`. It never skips an op: when an
//! op returns late, the ops that fell due meanwhile are sent at once, one after the other, and
//! each one's latency counts from its due time. A stall therefore shows in the latency of every
//! op that was due during it, as a user would feel it, instead of being hidden by the client
//! politely waiting (coordinated omission; Gil Tene, "How NOT to measure latency", 2015).
//!
//! The phases of the clients of one group are spread evenly over one interval, so that N
//! clients at rate r look like one source at N·r rather than N simultaneous bursts.

/// The due times of one paced client, in clock ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenSchedule {
    /// Tick of op 0.
    first: f64,
    /// Ticks between two ops.
    interval: f64,
    /// Index of the next op to send.
    next: u64,
}

impl OpenSchedule {
    /// Client `client` of `clients` sending `rate_per_sec` ops per second from tick `start`,
    /// on a clock of `hz` ticks per second.
    pub fn new(start: u64, hz: f64, rate_per_sec: f64, client: usize, clients: usize) -> Self {
        let interval = hz / rate_per_sec;
        let phase = client as f64 / clients.max(1) as f64;
        OpenSchedule {
            first: start as f64 + phase * interval,
            interval,
            next: 0,
        }
    }

    /// The due tick of op `k`.
    pub fn due(&self, k: u64) -> u64 {
        (self.first + k as f64 * self.interval).round() as u64
    }

    /// The due tick of the next op to send.
    #[inline]
    pub fn next_due(&self) -> u64 {
        self.due(self.next)
    }

    /// The next op has been sent.
    #[inline]
    pub fn advance(&mut self) {
        self.next += 1;
    }

    /// Ops sent so far.
    pub fn sent(&self) -> u64 {
        self.next
    }

    /// How many ops fall due in `[from, to)`.
    pub fn due_between(&self, from: u64, to: u64) -> u64 {
        self.first_at_or_after(to) - self.first_at_or_after(from)
    }

    /// How many ops were due before `deadline` but not sent.
    pub fn unsent_before(&self, deadline: u64) -> u64 {
        self.first_at_or_after(deadline).saturating_sub(self.next)
    }

    /// The index of the first op due at or after `tick`.
    fn first_at_or_after(&self, tick: u64) -> u64 {
        let t = tick as f64;
        if t <= self.first {
            return 0;
        }
        let mut k = ((t - self.first) / self.interval).ceil() as u64;
        // Float rounding can land one off either way; settle it against `due` itself.
        while k > 0 && self.due(k - 1) >= tick {
            k -= 1;
        }
        while self.due(k) < tick {
            k += 1;
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ: f64 = 1e9; // ticks are nanoseconds

    #[test]
    fn ops_are_due_at_the_rate() {
        let s = OpenSchedule::new(1_000, HZ, 1_000.0, 0, 1);
        assert_eq!(s.due(0), 1_000);
        assert_eq!(s.due(1), 1_001_000);
        assert_eq!(s.due(1_000), 1_000_001_000);
        assert_eq!(s.next_due(), 1_000);
    }

    #[test]
    fn clients_are_spread_over_one_interval() {
        let dues: Vec<u64> = (0..4)
            .map(|c| OpenSchedule::new(0, HZ, 100.0, c, 4).due(0))
            .collect();
        assert_eq!(dues, vec![0, 2_500_000, 5_000_000, 7_500_000]);
        // Together they form one source at 4 x 100 ops/s: 400 due in one second.
        let total: u64 = (0..4)
            .map(|c| OpenSchedule::new(0, HZ, 100.0, c, 4).due_between(0, 1_000_000_000))
            .sum();
        assert_eq!(total, 400);
    }

    #[test]
    fn a_late_client_keeps_every_due_time() {
        // The client is stuck for 10 intervals; afterwards it sends the backlog, each op still
        // carrying its own due time (latency = completion - due, never completion - send).
        let mut s = OpenSchedule::new(0, HZ, 1_000.0, 0, 1);
        let stall_over = 10_500_000;
        let mut latencies = Vec::new();
        let mut now = 0;
        while s.next_due() < 12_000_000 {
            let due = s.next_due();
            now = now.max(due);
            if s.sent() == 0 {
                now = stall_over; // op 0 takes until 10.5 ms
            } else {
                now += 1_000; // later ops take 1 us
            }
            latencies.push(now - due);
            s.advance();
        }
        assert_eq!(s.sent(), 12, "no op is skipped");
        assert_eq!(latencies[0], 10_500_000);
        assert_eq!(latencies[1], 10_500_000 - 1_000_000 + 1_000);
        assert_eq!(latencies[10], 10_500_000 - 10_000_000 + 10 * 1_000);
        assert_eq!(latencies[11], 1_000, "caught up");
    }

    #[test]
    fn due_between_and_unsent_count_boundaries_exactly() {
        let mut s = OpenSchedule::new(0, HZ, 1_000.0, 0, 1);
        assert_eq!(s.due_between(0, 1_000_000), 1); // op 0 at 0; op 1 at exactly 1 ms is out
        assert_eq!(s.due_between(0, 1_000_001), 2);
        assert_eq!(s.due_between(500, 3_000_000), 2);
        assert_eq!(s.unsent_before(5_000_000), 5);
        s.advance();
        s.advance();
        assert_eq!(s.unsent_before(5_000_000), 3);
        assert_eq!(s.unsent_before(0), 0);
    }

    #[test]
    fn non_integer_intervals_do_not_drift() {
        // 3 ops/s on a 1 GHz clock: 333_333_333.3 ticks apart.
        let s = OpenSchedule::new(0, HZ, 3.0, 0, 1);
        assert_eq!(s.due(3), 1_000_000_000);
        assert_eq!(s.due(3_000), 1_000_000_000_000);
        assert_eq!(s.due_between(0, 1_000_000_000_000), 3_000);
    }
}
