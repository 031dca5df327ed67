//! From the clients' records to the result types: histograms merged per group and op, rates
//! per second of the run's window, allocations per op.

use std::collections::BTreeMap;

use crate::call::ErrorKind;
use crate::driver::client::{ClientRecord, OpRecord};
use crate::measure::alloc::AllocCounts;
use crate::measure::histogram::LatencyHistogram;
use crate::mix::Op;
use crate::results::{GroupResult, OpResult, OpStats, ProcessAllocs};
use crate::scenario::{Pacing, Scenario};

/// One [`GroupResult`] per group of `s` at sweep point `swept`, from the records of its
/// clients, rates per `window_ns`.
pub fn aggregate_groups(
    s: &Scenario,
    swept: usize,
    records: &[ClientRecord],
    window_ns: u64,
) -> Vec<GroupResult> {
    let secs = (window_ns as f64 / 1e9).max(f64::MIN_POSITIVE);
    s.groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let mine: Vec<&ClientRecord> = records.iter().filter(|r| r.group == g).collect();
            let mut per_op: Vec<Option<OpRecord>> = vec![None; Op::COUNT];
            let mut lag: Option<LatencyHistogram> = None;
            let (mut due, mut not_sent) = (0, 0);
            for r in &mine {
                for (slot, rec) in per_op.iter_mut().zip(&r.ops) {
                    if let Some(rec) = rec {
                        slot.get_or_insert_with(OpRecord::default).merge(rec);
                    }
                }
                if let Some(l) = &r.send_lag {
                    lag.get_or_insert_with(LatencyHistogram::new).merge(l);
                }
                due += r.due;
                not_sent += r.due_not_sent;
            }
            let mut total = OpRecord::default();
            let ops: Vec<OpResult> = Op::ALL
                .into_iter()
                .filter_map(|op| {
                    let rec = per_op[op.index()].as_ref()?;
                    total.merge(rec);
                    Some(OpResult {
                        op,
                        stats: op_stats(rec, secs),
                    })
                })
                .collect();
            let total = op_stats(&total, secs);
            let open = match group.pacing {
                Pacing::Open { rate_per_client } => Some(rate_per_client),
                Pacing::Closed => None,
            };
            let clients = group.count_at(swept);
            GroupResult {
                group: group.name.clone(),
                clients,
                pacing: if open.is_some() { "open" } else { "closed" }.into(),
                target_ops_per_sec: open.map(|r| r * clients as f64),
                achieved_ops_per_sec: total.ops_per_sec,
                due: open.map(|_| due),
                due_not_sent: open.map(|_| not_sent),
                send_lag: lag.map(|l| l.summary()),
                total,
                ops,
            }
        })
        .collect()
}

/// The reported figures of one merged op record over `secs` seconds.
pub fn op_stats(rec: &OpRecord, secs: f64) -> OpStats {
    let count = rec.latency.count();
    let per_op = |x: u64| {
        if count == 0 {
            0.0
        } else {
            x as f64 / count as f64
        }
    };
    let errors: BTreeMap<ErrorKind, u64> = ErrorKind::ALL
        .into_iter()
        .filter(|k| rec.errors[k.index()] > 0)
        .map(|k| (k, rec.errors[k.index()]))
        .collect();
    OpStats {
        count,
        ops_per_sec: count as f64 / secs,
        latency: rec.latency.summary(),
        stalls: rec.stalls,
        errors_total: errors.values().sum(),
        errors,
        client_allocs_per_op: per_op(rec.allocs.allocs),
        client_bytes_per_op: per_op(rec.allocs.bytes),
        histogram: rec.latency.to_buckets(),
    }
}

/// Process-wide allocations `counts` spread over `ops` ops.
pub fn process_allocs(counts: AllocCounts, ops: u64) -> ProcessAllocs {
    let per = |x: u64| if ops == 0 { 0.0 } else { x as f64 / ops as f64 };
    ProcessAllocs {
        allocs: counts.allocs,
        bytes: counts.bytes,
        allocs_per_op: per(counts.allocs),
        bytes_per_op: per(counts.bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_stats_divides_by_count_and_window() {
        let mut rec = OpRecord::default();
        for v in [100, 200, 300, 400] {
            rec.latency.record(v);
        }
        rec.allocs = AllocCounts {
            allocs: 8,
            bytes: 400,
        };
        rec.errors[ErrorKind::Busy.index()] = 3;
        rec.stalls = 1;
        let s = op_stats(&rec, 2.0);
        assert_eq!(s.count, 4);
        assert_eq!(s.ops_per_sec, 2.0);
        assert_eq!(s.client_allocs_per_op, 2.0);
        assert_eq!(s.client_bytes_per_op, 100.0);
        assert_eq!(s.errors_total, 3);
        assert_eq!(s.errors.get(&ErrorKind::Busy), Some(&3));
        assert_eq!(s.stalls, 1);
        let empty = op_stats(&OpRecord::default(), 1.0);
        assert_eq!(empty.client_allocs_per_op, 0.0);
        assert_eq!(process_allocs(AllocCounts::default(), 0).allocs_per_op, 0.0);
    }
}
