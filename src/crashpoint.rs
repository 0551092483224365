//! Named crash points for the crash-safety tests.
//!
//! `CALLREC_TEST_CRASH_AT=<step>` makes a debug build abort (like `kill -9`: no destructors, no
//! cleanup) when it reaches the named step; `<step>#<n>` aborts at the n-th time it is reached
//! (for steps inside loops, e.g. `file#3`). Release builds ignore the variable: the check
//! compiles to nothing. The steps are listed in [`STEPS`].

/// Every crash point, in the order a run reaches them.
pub const STEPS: &[&str] = &[
    "locked", "staging", "file", "merged", "pages", "rewrite", "linked", "state", "manifest",
    "snapshot", "pointer", "cleaned",
];

/// Aborts the process here when `CALLREC_TEST_CRASH_AT` names this step (debug builds only).
#[inline]
pub fn crash_point(step: &str) {
    #[cfg(debug_assertions)]
    imp::check(step);
    #[cfg(not(debug_assertions))]
    let _ = step;
}

#[cfg(debug_assertions)]
mod imp {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
    static HITS: AtomicU64 = AtomicU64::new(0);

    pub fn check(step: &str) {
        let target = TARGET.get_or_init(|| {
            let v = std::env::var("CALLREC_TEST_CRASH_AT").ok()?;
            let (name, n) = match v.split_once('#') {
                Some((name, n)) => (name.to_owned(), n.parse().unwrap_or(1)),
                None => (v, 1),
            };
            Some((name, n.max(1)))
        });
        if let Some((name, n)) = target {
            if name == step && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n {
                eprintln!("callrec: test crash at {step}");
                std::process::abort();
            }
        }
    }
}
