//! How the process asks its allocator to keep memory: one glibc malloc
//! arena instead of one per thread, so a long-running daemon's resident
//! memory follows what it holds, not what each of its threads once freed;
//! and what a daemon cycle freed given back before the next
//! ([`give_back_free_memory`]).
//!
//! glibc gives each thread that meets a locked arena its own (up to eight
//! per core), and memory freed in one arena is only reused by the threads
//! of that arena. A daemon's threads (the runtime's, the blocking pool's
//! cycles, rayon's, sled's and tantivy's) each kept their own: at a
//! million listings, 525 MiB resident over four cycles against 355 MiB with
//! one arena (BENCHMARKS.md "Stop 35"). Matching threads allocated for
//! every alignment probe and then waited on the one arena (+21% wall time
//! on a matching-heavy cycle); the probes now reuse per-thread buffers
//! (`imagehash::plane`, `imagehash::verify`), which leaves +5%.
//!
//! `MALLOC_ARENA_MAX` (or `GLIBC_TUNABLES` naming `arena_max`) in the
//! environment wins: a deployment that would rather trade memory for
//! parallel decoding sets it.

/// Asks glibc's malloc for one arena, unless the environment sets the
/// number. Call it first thing in `main`, before any thread starts (arenas
/// already made stay). Does nothing on other C libraries.
pub fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set_by_env = std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var_os("GLIBC_TUNABLES")
                .is_some_and(|t| t.to_string_lossy().contains("arena_max"));
        if !set_by_env {
            // SAFETY: mallopt only sets one of malloc's parameters; glibc
            // takes its own lock to do so.
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
        }
    }
}

/// Gives the pages of freed heap memory back to the system (glibc's
/// `malloc_trim`), for a daemon between cycles. A cycle's passes free
/// most of what they allocate, but glibc only returns memory at the top
/// of its heap: the freed pages below stay resident until reused. At a
/// million listings a daemon held ~480 MiB between cycles without it and
/// ~350–420 MiB with it, for ~10 ms a cycle (BENCHMARKS.md, "Stop 36").
/// Does nothing on other C libraries.
pub fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let started = std::time::Instant::now();
        // SAFETY: malloc_trim takes malloc's own locks; it only advises the
        // kernel about pages of free chunks.
        let released = unsafe { libc::malloc_trim(0) };
        tracing::debug!(
            released = released == 1,
            seconds = started.elapsed().as_secs_f64(),
            "freed memory given back"
        );
    }
}
