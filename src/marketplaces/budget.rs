//! A per-page CPU-time budget for parsing: a page that costs more than
//! [`PAGE_CPU_BUDGET`] of the parsing thread's CPU is reported as over the
//! limit instead of holding a scan or a daemon cycle.
//!
//! The structural limits ([`super::MAX_MARKUP_DEPTH`], the linear
//! embedded-object scan, [`super::jsobject::MAX_LITERAL_DEPTH`]) keep every
//! known input fast; this is the backstop for the inputs nobody found yet.
//! It is cooperative: [`spent`] is asked between the stages of a parse and
//! in the loops that walk a page (markers, cards, DOM nodes), and once the
//! budget is gone every later ask says so, so the parse winds down in the
//! time of one step. It counts the thread's CPU time, not the wall clock, so
//! a busy machine (a scan parses on every core) does not push a normal
//! page over.

use std::cell::Cell;
use std::time::Duration;

/// CPU time one page may take to decode, pre-check, parse and classify.
/// Real pages take 5–150 ms (the 8 MiB page cap included); the slowest
/// fuzz inputs after the structural fixes take under 1 s.
pub const PAGE_CPU_BUDGET: Duration = Duration::from_secs(3);

thread_local! {
    /// The CPU-time reading at which the current page's budget runs out.
    static DEADLINE: Cell<Option<Duration>> = const { Cell::new(None) };
    /// Set when a check found the budget gone; stays set for the page.
    static SPENT: Cell<bool> = const { Cell::new(false) };
}

/// This thread's CPU time so far.
#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a
    // constant every Unix libc defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return wall_clock();
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Duration {
    wall_clock()
}

/// Monotonic wall time since the first call: the fallback clock.
fn wall_clock() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// A page's budget, running from [`start`] until dropped (which restores
/// the budget of an enclosing page, if a parse nests another).
pub struct Budget {
    previous: (Option<Duration>, bool),
    limit: Duration,
}

/// Starts a budget of `limit` CPU time for the page parsed on this thread.
pub fn start(limit: Duration) -> Budget {
    let deadline = thread_cpu_time().saturating_add(limit);
    let previous = (DEADLINE.replace(Some(deadline)), SPENT.replace(false));
    Budget { previous, limit }
}

impl Budget {
    /// True when the page used up its budget (asked once more now).
    pub fn exceeded(&self) -> bool {
        spent()
    }

    /// The limit this budget was started with.
    pub fn limit(&self) -> Duration {
        self.limit
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        DEADLINE.set(self.previous.0);
        SPENT.set(self.previous.1);
    }
}

/// Has the current page used up its budget? False when no budget runs
/// (a parser called directly, as unit tests do).
pub fn spent() -> bool {
    if SPENT.get() {
        return true;
    }
    match DEADLINE.get() {
        Some(deadline) if thread_cpu_time() >= deadline => {
            SPENT.set(true);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_budget_is_never_spent() {
        assert!(!spent());
    }

    #[test]
    fn a_zero_budget_is_spent_and_stays_spent_until_dropped() {
        {
            let b = start(Duration::ZERO);
            assert!(b.exceeded());
            assert!(spent());
        }
        assert!(!spent());
    }

    #[test]
    fn a_budget_runs_out_on_cpu_work() {
        let b = start(Duration::from_millis(20));
        assert!(!b.exceeded());
        let mut x = 0u64;
        let mut rounds = 0u64;
        while !spent() {
            for i in 0..10_000u64 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
            rounds += 1;
            assert!(rounds < 100_000_000, "the budget never ran out ({x})");
        }
        assert!(b.exceeded());
    }

    #[test]
    fn sleeping_costs_no_cpu() {
        let b = start(Duration::from_millis(30));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!b.exceeded(), "a sleep is wall time, not CPU time");
    }

    #[test]
    fn an_inner_budget_restores_the_outer_one() {
        let outer = start(Duration::from_secs(60));
        {
            let _inner = start(Duration::ZERO);
            assert!(spent());
        }
        assert!(!outer.exceeded());
    }
}
