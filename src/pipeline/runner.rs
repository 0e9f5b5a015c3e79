//! Runs jobs in parallel in input order: a batch at a time on a rayon pool, results handed
//! to a sink in the order the jobs came, so outputs (JSONL lines, logs) are deterministic.

use rayon::prelude::*;

/// Processes `jobs` with `work` on `threads` threads; `sink` sees each job with its result in
/// input order. Memory holds one batch of jobs and results.
pub fn run_ordered<J, R>(
    jobs: impl Iterator<Item = J>,
    threads: usize,
    work: impl Fn(&J) -> R + Sync,
    mut sink: impl FnMut(J, R),
) -> Result<(), rayon::ThreadPoolBuildError>
where
    J: Send + Sync,
    R: Send,
{
    let threads = threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    // Several jobs per thread, so one long video does not idle the others for long.
    let batch_size = threads * 4;
    let mut jobs = jobs.peekable();
    while jobs.peek().is_some() {
        let batch: Vec<J> = jobs.by_ref().take(batch_size).collect();
        let results: Vec<R> = pool.install(|| batch.par_iter().map(&work).collect());
        for (job, result) in batch.into_iter().zip(results) {
            sink(job, result);
        }
    }
    Ok(())
}

/// Threads to use: the flag if given, else every core.
pub fn threads(flag: Option<usize>) -> usize {
    flag.filter(|&n| n > 0).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}
