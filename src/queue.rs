//! The order in which workers take input files: each worker starts on its own contiguous share
//! of the file list (split by bytes) and, when done, takes the back half of the largest share
//! left.
//!
//! Archives are mostly listed in date order (a folder per day), and every worker writes its own
//! part files per date. Handing out files one by one in turn would make every worker touch
//! every date: a part file per table, date *and* worker, and as many small row groups. With
//! contiguous shares a date is split between workers only where two shares meet, so the
//! dataset has about one part per table and date, with larger row groups. Which worker reads
//! a file does not change any row. One lock per file taken, never per record.

use std::sync::Mutex;

pub struct WorkQueue {
    /// Per worker, the half-open range of positions it has left.
    shares: Mutex<Vec<(usize, usize)>>,
}

impl WorkQueue {
    /// Splits positions `0..sizes.len()` into `workers` contiguous shares of about equal bytes.
    pub fn new(sizes: &[u64], workers: usize) -> WorkQueue {
        let workers = workers.max(1);
        let total: u64 = sizes.iter().sum::<u64>().max(1);
        let mut shares = Vec::with_capacity(workers);
        let mut start = 0;
        let mut seen = 0u64;
        let mut i = 0;
        for w in 1..=workers {
            // The share ends at the first position whose bytes reach w/workers of the total.
            let goal = (total as u128 * w as u128 / workers as u128) as u64;
            while i < sizes.len() && (seen < goal || w == workers) {
                seen += sizes[i];
                i += 1;
            }
            shares.push((start, i));
            start = i;
        }
        WorkQueue {
            shares: Mutex::new(shares),
        }
    }

    /// The next position for `worker`, or `None` when every share is done.
    pub fn next(&self, worker: usize) -> Option<usize> {
        let mut shares = self
            .shares
            .lock()
            .expect("no worker panicked holding the queue");
        let (s, e) = shares[worker];
        if s < e {
            shares[worker].0 += 1;
            return Some(s);
        }
        // Own share done: take the back half of the largest one left.
        let (victim, left) = shares
            .iter()
            .enumerate()
            .map(|(i, (s, e))| (i, e - s))
            .max_by_key(|&(i, left)| (left, std::cmp::Reverse(i)))?;
        if left == 0 {
            return None;
        }
        let (vs, ve) = shares[victim];
        let mid = vs + left / 2;
        shares[victim].1 = mid;
        shares[worker] = (mid + 1, ve);
        Some(mid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn shares_are_contiguous_and_split_by_bytes() {
        let q = WorkQueue::new(&[10, 10, 10, 10, 40, 10, 10], 2);
        // 100 bytes: the first share ends where 50 are reached (positions 0..5).
        assert_eq!(*q.shares.lock().unwrap(), vec![(0, 5), (5, 7)]);
        assert_eq!(q.next(0), Some(0));
        assert_eq!(q.next(1), Some(5));
        assert_eq!(q.next(0), Some(1));
    }

    #[test]
    fn every_position_is_handed_out_once_with_stealing() {
        for workers in 1..6 {
            for n in [0usize, 1, 2, 7, 100] {
                let sizes: Vec<u64> = (0..n as u64).map(|i| 1 + i % 7).collect();
                let q = WorkQueue::new(&sizes, workers);
                let mut got = Vec::new();
                // Worker 0 is slow: it takes one item per round, the others three.
                'outer: loop {
                    let mut any = false;
                    for w in 0..workers {
                        for _ in 0..if w == 0 { 1 } else { 3 } {
                            match q.next(w) {
                                Some(i) => {
                                    got.push(i);
                                    any = true;
                                }
                                None => continue,
                            }
                        }
                    }
                    if !any {
                        break 'outer;
                    }
                }
                let set: BTreeSet<usize> = got.iter().copied().collect();
                assert_eq!(got.len(), n, "workers {workers}, n {n}");
                assert_eq!(set, (0..n).collect(), "workers {workers}, n {n}");
            }
        }
    }

    #[test]
    fn an_idle_worker_takes_the_back_half_of_the_largest_share() {
        let q = WorkQueue::new(&[1; 10], 2);
        for _ in 0..5 {
            q.next(0);
        }
        // Worker 0 is done with 0..5; worker 1 has 5..10 untouched: 0 takes 7, 1 keeps 5..7.
        assert_eq!(q.next(0), Some(7));
        assert_eq!(*q.shares.lock().unwrap(), vec![(8, 10), (5, 7)]);
    }
}
