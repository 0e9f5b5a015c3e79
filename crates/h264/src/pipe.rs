//! Reconstruction on a thread of its own. Parsing (syntax, motion derivation,
//! the coded-block state) needs no samples, so the decoder's thread parses
//! while this one predicts, transforms and deblocks the macroblocks parsed
//! before, and crops the pictures that leave the decoder.
//!
//! Everything reaches the reconstruction side as messages, in decode order;
//! the parsing side learns of results only through the pictures it is handed
//! back. Errors are found and reported by the parsing side (see
//! [`crate::recon::check_refs`]), so both sides stop at the same macroblock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::deblock::{deblock_picture, Parsed};
use crate::decoder::{crop, Pending, Picture};
use crate::error::{Error, Result};
use crate::frame::{MbInfo, PicData, RefPic, Samples, SliceDeblock};
use crate::mb::MbRecord;
use crate::recon::{reconstruct, ReconEnv};
use crate::slice::Weight;
use crate::transform::{Dequant, Mode};

/// Macroblocks handed over at a time: few enough that reconstruction follows
/// closely, enough that handing over costs nothing beside them.
const BATCH: usize = 64;

/// Batches that may wait for reconstruction before parsing waits in turn
/// (about 2.5 MB of records).
const QUEUE: usize = 16;

/// What reconstruction needs of a slice.
pub struct SliceRecon {
    pub mode: Mode,
    pub chroma_qp_offset: [i32; 2],
    pub dequant: Box<Dequant>,
    pub refs: [Vec<RefPic>; 2],
    /// Explicit weights (per list, per reference index), luma and chroma log2 denominators.
    pub explicit: Option<([Vec<Weight>; 2], u32, u32)>,
    /// Implicit bi-prediction weights w0 indexed [ref0 * 32 + ref1].
    pub implicit: Option<Vec<i32>>,
}

/// One parsed macroblock and what its reconstruction needs besides the slice.
#[derive(Clone, Default)]
pub struct MbJob {
    pub rec: MbRecord,
    /// Neighbour availability for intra prediction (see `recon::mb_avail`).
    pub avail: [bool; 4],
    /// Coded-block state a skipped macroblock inherits (see `ReconEnv::skip_residue`).
    pub skip_residue: Option<(u8, [u8; 24])>,
}

enum Msg {
    /// A picture to reconstruct starts.
    Start {
        mb_w: usize,
        mb_h: usize,
        chroma: bool,
    },
    Slice(Arc<SliceRecon>),
    /// The first `n` jobs of the batch.
    Mbs(Vec<MbJob>, usize),
    /// The picture is parsed: deblock it and give it its samples.
    Finish {
        pic: Arc<PicData>,
        mbs: Vec<MbInfo>,
        slices: Vec<SliceDeblock>,
    },
    /// A picture leaves the decoder.
    Output(Box<Pending>),
    /// Answer once everything before has been done.
    Sync(SyncSender<()>),
}

/// The reconstruction side's state.
struct Recon {
    samples: Option<Samples>,
    slice: Option<Arc<SliceRecon>>,
    out: Sender<Picture>,
    spare: Sender<Vec<MbJob>>,
}

impl Recon {
    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Start { mb_w, mb_h, chroma } => {
                self.samples = Some(Samples::new(mb_w, mb_h, chroma))
            }
            Msg::Slice(s) => self.slice = Some(s),
            Msg::Mbs(jobs, n) => {
                if let (Some(px), Some(s)) = (self.samples.as_mut(), self.slice.as_deref()) {
                    for job in &jobs[..n] {
                        let env = ReconEnv {
                            mode: s.mode,
                            chroma_qp_offset: s.chroma_qp_offset,
                            dequant: &s.dequant,
                            refs: &s.refs,
                            explicit: s.explicit.as_ref().map(|(w, l, c)| (w, *l, *c)),
                            implicit: s.implicit.as_deref(),
                            skip_residue: job.skip_residue,
                        };
                        // An error was reported by the parsing side already; what
                        // was written before it stays, as when decoding stops there.
                        let _ = reconstruct(&env, px, &job.rec, job.avail);
                    }
                }
                let _ = self.spare.send(jobs);
            }
            Msg::Finish { pic, mbs, slices } => {
                if let Some(mut px) = self.samples.take() {
                    deblock_picture(&Parsed::new(&pic, &mbs, &slices), &mut px);
                    let _ = pic.samples.set(px);
                }
                self.slice = None;
            }
            Msg::Output(p) => {
                let _ = self.out.send(crop(&p));
            }
            Msg::Sync(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// How messages reach reconstruction.
enum Route {
    Thread {
        tx: Option<SyncSender<Msg>>,
        handle: Option<JoinHandle<()>>,
        /// Set when the decoder is dropped: what is still queued is not wanted.
        abandoned: Arc<AtomicBool>,
    },
    /// On the caller's thread, as each message is sent.
    Inline(Recon),
}

/// The parsing side's end: batches macroblocks and sends them with the other
/// messages, and receives the pictures that leave the decoder.
pub struct Pipe {
    route: Route,
    out: Receiver<Picture>,
    spare: Receiver<Vec<MbJob>>,
    batch: Vec<MbJob>,
    filled: usize,
}

impl Pipe {
    /// Reconstruction on a thread of its own when `threaded` (and a thread can
    /// be started), else on the caller's.
    pub fn new(threaded: bool) -> Pipe {
        let (out_tx, out) = channel();
        let (spare_tx, spare) = channel();
        let recon = || Recon {
            samples: None,
            slice: None,
            out: out_tx.clone(),
            spare: spare_tx.clone(),
        };
        let mut route = Route::Inline(recon());
        if threaded {
            let (tx, rx) = sync_channel::<Msg>(QUEUE);
            let mut r = recon();
            let abandoned = Arc::new(AtomicBool::new(false));
            let stop = Arc::clone(&abandoned);
            let spawned = std::thread::Builder::new()
                .name("h264-recon".into())
                .spawn(move || {
                    for msg in rx {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        r.handle(msg);
                    }
                });
            // Without a thread, reconstruction stays on the caller's.
            if let Ok(handle) = spawned {
                route = Route::Thread {
                    tx: Some(tx),
                    handle: Some(handle),
                    abandoned,
                };
            }
        }
        Pipe {
            route,
            out,
            spare,
            batch: Vec::new(),
            filled: 0,
        }
    }

    fn send(&mut self, msg: Msg) -> Result<()> {
        match &mut self.route {
            Route::Inline(r) => {
                r.handle(msg);
                Ok(())
            }
            Route::Thread { tx, .. } => tx
                .as_ref()
                .and_then(|tx| tx.send(msg).ok())
                .ok_or_else(|| Error::invalid("the reconstruction thread stopped")),
        }
    }

    /// Sends the macroblocks parsed so far.
    fn flush_batch(&mut self) -> Result<()> {
        if self.filled == 0 {
            return Ok(());
        }
        let next = self.spare.try_recv().unwrap_or_default();
        let full = std::mem::replace(&mut self.batch, next);
        let n = std::mem::take(&mut self.filled);
        self.send(Msg::Mbs(full, n))
    }

    /// Sends a message after the macroblocks parsed before it.
    fn send_after_batch(&mut self, msg: Msg) -> Result<()> {
        self.flush_batch()?;
        self.send(msg)
    }

    pub fn start(&mut self, mb_w: usize, mb_h: usize, chroma: bool) -> Result<()> {
        self.send_after_batch(Msg::Start { mb_w, mb_h, chroma })
    }

    pub fn slice(&mut self, s: SliceRecon) -> Result<()> {
        self.send_after_batch(Msg::Slice(Arc::new(s)))
    }

    /// The job the next macroblock is parsed into (its record still holds an
    /// earlier macroblock's: reset it).
    pub fn slot(&mut self) -> &mut MbJob {
        if self.filled == self.batch.len() {
            self.batch.push(MbJob::default());
        }
        &mut self.batch[self.filled]
    }

    /// Hands the macroblock in [`Pipe::slot`] over to reconstruction.
    pub fn commit(&mut self) -> Result<()> {
        self.filled += 1;
        if self.filled >= BATCH {
            self.flush_batch()?;
        }
        Ok(())
    }

    pub fn finish(
        &mut self,
        pic: Arc<PicData>,
        mbs: Vec<MbInfo>,
        slices: Vec<SliceDeblock>,
    ) -> Result<()> {
        self.send_after_batch(Msg::Finish { pic, mbs, slices })
    }

    pub fn output(&mut self, p: Pending) -> Result<()> {
        self.send_after_batch(Msg::Output(Box::new(p)))
    }

    /// A picture that has left the decoder, if one is ready.
    pub fn try_picture(&mut self) -> Option<Picture> {
        self.out.try_recv().ok()
    }

    /// Waits until everything sent so far is done.
    pub fn sync(&mut self) -> Result<()> {
        if matches!(self.route, Route::Inline(_)) {
            return self.flush_batch();
        }
        let (done, wait) = sync_channel(1);
        self.send_after_batch(Msg::Sync(done))?;
        wait.recv()
            .map_err(|_| Error::invalid("the reconstruction thread stopped"))
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        if let Route::Thread {
            tx,
            handle,
            abandoned,
        } = &mut self.route
        {
            abandoned.store(true, Ordering::Relaxed);
            drop(tx.take());
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}
