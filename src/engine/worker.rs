//! A generic background worker: one job at a time, at most one pending request, and the
//! newest request replaces a queued one (latest wins). A running job sees through its
//! [`Control`] that a newer request arrived and may stop early; its result is then dropped.
//! An unchanged request (same hash as the last finished one) is answered `Unchanged` without
//! running. Results are pulled by the owner after a small `Copy` notification.
//!
//! `Mode::Synchronous` runs each request inline, for tests: the notification is waiting in the
//! channel when `request` returns.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// How requests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Background,
    Synchronous,
}

/// What the worker tells its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notification {
    /// The result of request `generation` is ready to be taken.
    Finished { generation: u64 },
    /// The request equals the last finished one: the result on hand still holds.
    Unchanged,
}

/// Progress of the running job, read by the UI.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgressState {
    pub busy: bool,
    pub label: String,
    pub done: usize,
    pub total: usize,
}

struct Shared<Req, Out> {
    pending: Mutex<Option<(u64, u64, Req)>>,
    wake: Condvar,
    generation: AtomicU64,
    result: Mutex<Option<(u64, Out)>>,
    progress: Mutex<ProgressState>,
    last_finished_hash: Mutex<Option<u64>>,
    shutdown: AtomicBool,
}

/// Handed to a running job: cancellation and progress.
pub struct Control<'a> {
    generation: u64,
    generation_now: &'a AtomicU64,
    progress: &'a Mutex<ProgressState>,
}

impl Control<'_> {
    /// True once a newer request has arrived: the job may return `None`.
    pub fn cancelled(&self) -> bool {
        self.generation_now.load(Ordering::SeqCst) != self.generation
    }

    pub fn progress(&self, label: &str, done: usize, total: usize) {
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        p.busy = true;
        if p.label != label {
            p.label = label.to_string();
        }
        p.done = done;
        p.total = total;
    }
}

type JobFn<Req, Out> = Box<dyn FnMut(Req, &Control<'_>) -> Option<Out> + Send>;

/// The worker handle. Dropping it stops the thread after the running job.
pub struct Worker<Req, Out> {
    shared: Arc<Shared<Req, Out>>,
    notify_tx: Sender<Notification>,
    notify_rx: Receiver<Notification>,
    mode: Mode,
    sync_job: Option<JobFn<Req, Out>>,
    thread: Option<JoinHandle<()>>,
}

fn hash_of<T: Hash>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

impl<Req, Out> Worker<Req, Out>
where
    Req: Hash + Send + 'static,
    Out: Send + 'static,
{
    pub fn new(
        mode: Mode,
        job: impl FnMut(Req, &Control<'_>) -> Option<Out> + Send + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            pending: Mutex::new(None),
            wake: Condvar::new(),
            generation: AtomicU64::new(0),
            result: Mutex::new(None),
            progress: Mutex::new(ProgressState::default()),
            last_finished_hash: Mutex::new(None),
            shutdown: AtomicBool::new(false),
        });
        let (notify_tx, notify_rx) = channel();
        let mut job: JobFn<Req, Out> = Box::new(job);
        let (sync_job, thread) = match mode {
            Mode::Synchronous => (Some(job), None),
            Mode::Background => {
                let sh = shared.clone();
                let tx = notify_tx.clone();
                let handle = std::thread::Builder::new()
                    .name("codecscope-engine".into())
                    .spawn(move || loop {
                        let (generation, hash, req) = {
                            let mut p = sh.pending.lock().unwrap_or_else(|e| e.into_inner());
                            loop {
                                if sh.shutdown.load(Ordering::SeqCst) {
                                    return;
                                }
                                if let Some(x) = p.take() {
                                    break x;
                                }
                                p = sh.wake.wait(p).unwrap_or_else(|e| e.into_inner());
                            }
                        };
                        run_one(&sh, &tx, &mut job, generation, hash, req);
                    })
                    .expect("spawn the engine thread");
                (None, Some(handle))
            }
        };
        Worker {
            shared,
            notify_tx,
            notify_rx,
            mode,
            sync_job,
            thread,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Queues `req`, replacing any queued one; returns its generation (0 when unchanged).
    pub fn request(&mut self, req: Req) -> u64 {
        let hash = hash_of(&req);
        let idle = !self.progress().busy
            && self
                .shared
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_none();
        if idle
            && *self
                .shared
                .last_finished_hash
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                == Some(hash)
        {
            let _ = self.notify_tx.send(Notification::Unchanged);
            return 0;
        }
        let generation = self.shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut p = self
                .shared
                .progress
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            p.busy = true;
            p.label = "queued".into();
            p.done = 0;
            p.total = 0;
        }
        match self.sync_job.as_mut() {
            Some(job) => run_one(&self.shared, &self.notify_tx, job, generation, hash, req),
            None => {
                *self
                    .shared
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some((generation, hash, req));
                self.shared.wake.notify_one();
            }
        }
        generation
    }

    /// The next notification, if any (never blocks).
    pub fn poll(&self) -> Option<Notification> {
        self.notify_rx.try_recv().ok()
    }

    /// Waits up to `timeout` for a notification (tests, `show`).
    pub fn wait(&self, timeout: std::time::Duration) -> Option<Notification> {
        self.notify_rx.recv_timeout(timeout).ok()
    }

    /// Takes the result of the latest request, if it is ready.
    pub fn take_result(&self) -> Option<Out> {
        let mut r = self.shared.result.lock().unwrap_or_else(|e| e.into_inner());
        match r.take() {
            Some((g, out)) if g == self.shared.generation.load(Ordering::SeqCst) => Some(out),
            _ => None,
        }
    }

    pub fn progress(&self) -> ProgressState {
        self.shared
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn run_one<Req, Out>(
    sh: &Shared<Req, Out>,
    tx: &Sender<Notification>,
    job: &mut JobFn<Req, Out>,
    generation: u64,
    hash: u64,
    req: Req,
) {
    let ctl = Control {
        generation,
        generation_now: &sh.generation,
        progress: &sh.progress,
    };
    let out = job(req, &ctl);
    let latest = !ctl.cancelled();
    if let (Some(out), true) = (out, latest) {
        *sh.result.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, out));
        *sh.last_finished_hash
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(hash);
        let mut p = sh.progress.lock().unwrap_or_else(|e| e.into_inner());
        let still_pending = sh
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if !still_pending {
            *p = ProgressState::default();
        }
        drop(p);
        let _ = tx.send(Notification::Finished { generation });
    }
}

impl<Req, Out> Drop for Worker<Req, Out> {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Make a running job stop early.
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            // The thread may be inside a long decode that checks `cancelled` now and then;
            // do not block the UI on it.
            drop(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn synchronous_runs_inline_and_answers_unchanged() {
        let mut w: Worker<u32, u32> = Worker::new(Mode::Synchronous, |x, _| Some(x * 2));
        let g = w.request(4);
        assert_eq!(w.poll(), Some(Notification::Finished { generation: g }));
        assert_eq!(w.take_result(), Some(8));
        assert_eq!(w.request(4), 0);
        assert_eq!(w.poll(), Some(Notification::Unchanged));
        w.request(5);
        assert!(matches!(w.poll(), Some(Notification::Finished { .. })));
        assert_eq!(w.take_result(), Some(10));
    }

    #[test]
    fn latest_request_wins() {
        let mut w: Worker<u64, u64> = Worker::new(Mode::Background, |x, ctl| {
            for _ in 0..50 {
                if ctl.cancelled() {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Some(x)
        });
        for x in 1..=5 {
            w.request(x);
        }
        let mut got = None;
        for _ in 0..100 {
            if let Some(Notification::Finished { .. }) = w.wait(Duration::from_millis(100)) {
                if let Some(r) = w.take_result() {
                    got = Some(r);
                    break;
                }
            }
        }
        assert_eq!(got, Some(5));
    }
}
