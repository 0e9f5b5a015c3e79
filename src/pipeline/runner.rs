//! Runs jobs in parallel in input order: a batch at a time on `threads` worker threads,
//! results handed to a sink in the order the jobs came, so outputs (JSONL lines, logs) are
//! deterministic.
//!
//! The workers are plain threads, not a rayon pool of their own: the parallel work inside a
//! job (scoring, colour conversion, the residual emulator) then runs on the global pool, so
//! a run with fewer workers than cores still uses every core.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::video::set_job_workers;

/// Processes `jobs` with `work` on `threads` threads; `sink` sees each job with its result in
/// input order. Memory holds one batch of jobs and results. Fails only when a thread cannot
/// be started.
pub fn run_ordered<J, R>(
    jobs: impl Iterator<Item = J>,
    threads: usize,
    work: impl Fn(&J) -> R + Sync,
    mut sink: impl FnMut(J, R),
) -> std::io::Result<()>
where
    J: Send + Sync,
    R: Send,
{
    let threads = threads.max(1);
    // Several jobs per thread, so one long video does not idle the others for long.
    let batch_size = threads * 4;
    let mut jobs = jobs.peekable();
    while jobs.peek().is_some() {
        let batch: Vec<J> = jobs.by_ref().take(batch_size).collect();
        let results = run_batch(&batch, threads, &work)?;
        for (job, result) in batch.into_iter().zip(results) {
            sink(job, result);
        }
    }
    Ok(())
}

/// One batch: each worker takes the next job not yet taken until none is left.
fn run_batch<J, R>(
    batch: &[J],
    threads: usize,
    work: &(impl Fn(&J) -> R + Sync),
) -> std::io::Result<Vec<R>>
where
    J: Sync,
    R: Send,
{
    let results: Vec<Mutex<Option<R>>> = batch.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    // A batch smaller than the worker count (a short dataset, the last batch) leaves cores
    // to each video's picture reads.
    let workers = threads.min(batch.len());
    std::thread::scope(|scope| -> std::io::Result<()> {
        let run = || {
            set_job_workers(workers);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = batch.get(i) else { break };
                let r = work(job);
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            }
        };
        for w in 0..workers {
            std::thread::Builder::new()
                .name(format!("job-{w}"))
                .spawn_scoped(scope, run)?;
        }
        Ok(())
    })?;
    Ok(results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every job of a finished batch has a result")
        })
        .collect())
}

/// Threads to use: the flag if given, else every core.
pub fn threads(flag: Option<usize>) -> usize {
    flag.filter(|&n| n > 0).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order_on_any_worker_count() {
        for threads in [1, 2, 3, 8] {
            let mut seen = Vec::new();
            run_ordered(
                0..37u64,
                threads,
                |&j| {
                    // Later jobs finish first.
                    std::thread::sleep(std::time::Duration::from_micros(50 * (37 - j)));
                    j * j
                },
                |j, r| seen.push((j, r)),
            )
            .expect("threads start");
            let want: Vec<(u64, u64)> = (0..37).map(|j| (j, j * j)).collect();
            assert_eq!(seen, want, "{threads} workers");
        }
    }

    #[test]
    fn at_most_the_given_number_of_jobs_run_at_once() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        run_ordered(
            0..24,
            3,
            |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
            },
            |_, _| {},
        )
        .expect("threads start");
        let most = most.load(Ordering::SeqCst);
        assert!((1..=3).contains(&most), "{most} jobs at once");
    }
}
