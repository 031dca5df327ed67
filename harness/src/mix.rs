//! The client operations, named after the MCP tools an agent calls, and how a client picks the
//! next one: a weighted [`Mix`] sampled with a small seeded [`XorShift64`] generator, so a run
//! is reproducible from its seed and sampling costs a few nanoseconds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One client operation, named after the MCP tool that causes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `scripts_status` for one process, by name: [`procman_core::ProcessManager::status`].
    ScriptsStatus,
    /// `scripts_status` without a name (every process): [`procman_core::ProcessManager::list`].
    ScriptsStatusAll,
    /// `scripts_run`: start a process (an already live one is returned as it is).
    ScriptsRun,
    /// `scripts_stop`: stop a process and wait until it is gone.
    ScriptsStop,
    /// `scripts_restart`: stop (if live) and start again.
    ScriptsRestart,
    /// `logs_stream`: read a process's log from the client's cursor.
    LogsStream,
    /// `logs_search`: search every process's log.
    LogsSearch,
}

impl Op {
    /// Every operation, in the order tables and result files list them.
    pub const ALL: [Op; 7] = [
        Op::ScriptsStatus,
        Op::ScriptsStatusAll,
        Op::ScriptsRun,
        Op::ScriptsStop,
        Op::ScriptsRestart,
        Op::LogsStream,
        Op::LogsSearch,
    ];

    /// How many operations there are (the length of per-op arrays).
    pub const COUNT: usize = Op::ALL.len();

    /// The MCP tool name, as scenario files and result files spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Op::ScriptsStatus => "scripts_status",
            Op::ScriptsStatusAll => "scripts_status_all",
            Op::ScriptsRun => "scripts_run",
            Op::ScriptsStop => "scripts_stop",
            Op::ScriptsRestart => "scripts_restart",
            Op::LogsStream => "logs_stream",
            Op::LogsSearch => "logs_search",
        }
    }

    /// The operation called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The valid names, comma-separated, for error messages.
    pub fn valid_names() -> String {
        Op::ALL.map(Op::name).join(", ")
    }

    /// Its position in [`Op::ALL`] (the index of per-op arrays).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether it changes state (run, stop, restart). Writes may block for as long as a spawn or
    /// a stop takes; the tokio driver therefore sends them through `spawn_blocking`.
    pub const fn is_write(self) -> bool {
        matches!(self, Op::ScriptsRun | Op::ScriptsStop | Op::ScriptsRestart)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators,
/// scrambled", 2016): 64 bits of state, a handful of instructions per number, good enough
/// statistics for picking operations and targets. Not for cryptography.
#[derive(Clone, Debug)]
pub struct XorShift64 {
    /// Never zero.
    state: u64,
}

impl XorShift64 {
    /// A generator seeded from `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        // splitmix64 spreads nearby seeds (client 0, 1, 2...) over the state space and never
        // yields the all-zero state xorshift cannot leave.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift64 { state: z.max(1) }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`), by Lemire's multiply-shift (bias below 2^-32 for the `n`
    /// used here).
    #[inline]
    pub fn below(&mut self, n: u32) -> u32 {
        scale(self.next_u64() >> 32, n)
    }

    /// A uniform number in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Maps a uniform 32-bit number `x` to `0..n` (Lemire's multiply-shift).
#[inline]
pub fn scale(x: u64, n: u32) -> u32 {
    (((x & 0xFFFF_FFFF) * u64::from(n)) >> 32) as u32
}

/// A validated operation mix: each operation's share, sampled in constant time per draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Mix {
    /// The operations with a non-zero share and their percentages, in [`Op::ALL`] order.
    shares: Vec<(Op, f64)>,
    /// Cumulative upper bounds on the 2^32 scale, one per entry of `shares`; the last is 2^32.
    bounds: Vec<u64>,
}

impl Mix {
    /// A mix from `(op, percent)` pairs. The caller has checked the percentages (each in
    /// `0..=100`, summing to 100); zero shares are dropped.
    pub fn new(percentages: &[(Op, f64)]) -> Self {
        let mut shares: Vec<(Op, f64)> = percentages
            .iter()
            .copied()
            .filter(|&(_, p)| p > 0.0)
            .collect();
        shares.sort_by_key(|&(op, _)| op);
        let total: f64 = shares.iter().map(|&(_, p)| p).sum();
        let scale = (1u64 << 32) as f64;
        let mut acc = 0.0;
        let mut bounds: Vec<u64> = shares
            .iter()
            .map(|&(_, p)| {
                acc += p;
                ((acc / total) * scale).round() as u64
            })
            .collect();
        if let Some(last) = bounds.last_mut() {
            *last = 1 << 32;
        }
        Mix { shares, bounds }
    }

    /// The operations with a non-zero share and their percentages.
    pub fn shares(&self) -> &[(Op, f64)] {
        &self.shares
    }

    /// The share of writes (run, stop, restart), in percent.
    pub fn write_percent(&self) -> f64 {
        self.shares
            .iter()
            .filter(|(op, _)| op.is_write())
            .map(|&(_, p)| p)
            .sum()
    }

    /// Draws the next operation.
    #[inline]
    pub fn sample(&self, rng: &mut XorShift64) -> Op {
        self.pick(rng.next_u64() >> 32)
    }

    /// The operation for a uniform 32-bit number `x` (so that one 64-bit draw can pick both the
    /// operation, from its high half, and a target, from its low half).
    #[inline]
    pub fn pick(&self, x: u64) -> Op {
        for (i, &bound) in self.bounds.iter().enumerate() {
            if x < bound {
                return self.shares[i].0;
            }
        }
        // Unreachable for a non-empty mix (the last bound is 2^32 > x); a validated scenario
        // never has an empty one.
        self.shares[self.shares.len() - 1].0
    }

    /// A short description such as `scripts_status 90%, logs_stream 10%`.
    pub fn describe(&self) -> String {
        self.shares
            .iter()
            .map(|(op, p)| format!("{op} {p}%"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_index_matches_position() {
        for (i, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert_eq!(op.index(), i);
        }
        assert_eq!(Op::from_name("scripts_list"), None);
    }

    #[test]
    fn same_seed_same_sequence_different_seed_different_sequence() {
        let a: Vec<u64> = {
            let mut r = XorShift64::new(7);
            (0..16).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = XorShift64::new(7);
            (0..16).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = XorShift64::new(8);
            (0..16).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut zero = XorShift64::new(0);
        assert_ne!(zero.next_u64(), 0);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = XorShift64::new(1);
        let mut seen = [0u32; 50];
        for _ in 0..100_000 {
            let x = r.below(50) as usize;
            seen[x] += 1;
        }
        // Each bucket expects 2000; 5 sigma is about 220.
        for (i, &n) in seen.iter().enumerate() {
            assert!((1700..2300).contains(&n), "bucket {i}: {n}");
        }
    }

    #[test]
    fn sampling_matches_percentages() {
        let mix = Mix::new(&[
            (Op::ScriptsStatus, 60.0),
            (Op::ScriptsStatusAll, 10.0),
            (Op::ScriptsRun, 7.0),
            (Op::ScriptsStop, 7.0),
            (Op::ScriptsRestart, 6.0),
            (Op::LogsStream, 9.5),
            (Op::LogsSearch, 0.5),
        ]);
        let mut rng = XorShift64::new(42);
        let n = 1_000_000u32;
        let mut counts = [0u32; Op::COUNT];
        for _ in 0..n {
            counts[mix.sample(&mut rng).index()] += 1;
        }
        for &(op, percent) in mix.shares() {
            let observed = f64::from(counts[op.index()]) * 100.0 / f64::from(n);
            // Binomial sigma at 1e6 draws is at most 0.05 percentage points; allow ~4 sigma.
            assert!(
                (observed - percent).abs() < 0.2,
                "{op}: expected {percent}%, sampled {observed}%"
            );
        }
        assert!((mix.write_percent() - 20.0).abs() < 1e-9);
    }

    #[test]
    fn zero_shares_are_never_drawn_and_single_op_always_is() {
        let mix = Mix::new(&[(Op::ScriptsStatus, 100.0), (Op::LogsSearch, 0.0)]);
        let mut rng = XorShift64::new(3);
        assert!((0..10_000).all(|_| mix.sample(&mut rng) == Op::ScriptsStatus));
        assert_eq!(mix.describe(), "scripts_status 100%");
    }

    #[test]
    fn unit_is_in_zero_one() {
        let mut r = XorShift64::new(9);
        assert!(
            (0..10_000)
                .map(|_| r.unit())
                .all(|u| (0.0..1.0).contains(&u))
        );
    }
}
