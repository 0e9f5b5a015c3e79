//! The doctor pane's rows: for an eval asset root, what evaluation does for each video the
//! root's metas name (HIT, MISS, silent MISS) and why, through the project's emulation of
//! evaluation's lookup. Built in the background like the sample list.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;

use crate::diagnose::doctor::videos_in_index;
use crate::diagnose::eval_lookup::{lookup, AssetIndex, LookupStatus};

/// One video's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorRow {
    pub video: String,
    pub status: LookupStatus,
    /// Machine-readable reason (`None` for a plain HIT).
    pub reason: Option<String>,
    pub message: String,
    /// The folder evaluation would use (also set on a silent MISS).
    pub chosen: Option<PathBuf>,
    pub images: usize,
}

/// Rows arriving from the background.
pub struct DoctorIndex {
    rx: Receiver<Vec<DoctorRow>>,
    done: Arc<AtomicBool>,
}

impl DoctorIndex {
    pub fn drain(&self) -> Vec<DoctorRow> {
        let mut v = Vec::new();
        while let Ok(mut b) = self.rx.try_recv() {
            v.append(&mut b);
        }
        v
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }
}

/// Verdicts for every video named under `root`, as evaluation with
/// `LLAVA_CODEC_OFFLINE_ROOT=root` and `num_images` would reach them.
pub fn verdicts(root: &Path, num_images: usize) -> Vec<DoctorRow> {
    let index = AssetIndex::build(&root.to_string_lossy());
    videos_in_index(&index)
        .into_iter()
        .map(|v| {
            let r = lookup(&index, root, &v.video, num_images);
            DoctorRow {
                video: v.video,
                status: r.status,
                reason: r.reason.map(str::to_string),
                message: r.message,
                chosen: r.chosen.map(PathBuf::from),
                images: r.images.len(),
            }
        })
        .collect()
}

/// Starts [`verdicts`] on a thread.
pub fn start(root: PathBuf, num_images: usize) -> DoctorIndex {
    let (tx, rx) = channel();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    std::thread::Builder::new()
        .name("codecscope-doctor".into())
        .spawn(move || {
            let _ = tx.send(verdicts(&root, num_images));
            d.store(true, Ordering::SeqCst);
        })
        .expect("spawn the doctor thread");
    DoctorIndex { rx, done }
}
