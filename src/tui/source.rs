//! What a path opens as: one sample, or a list of samples indexed in the background (rows
//! arrive in batches, so a million-line JSONL shows its first screen at once).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use rayon::prelude::*;

use super::sample::{self, LoadOptions, SampleData};
use crate::diagnose::paths::PathResolver;
use crate::diagnose::records::{self, FileFindings, RecordContext, RecordRules};
use crate::diagnose::{stage1 as lints, Finding, Severity};
use crate::formats::dataset::{Record, RecordStream};
use crate::formats::discover::{discover, stage1_outputs_in, Discovered, Stage1Files};
use crate::formats::{meta, naming, npy};

/// What a browser row opens.
#[derive(Debug, Clone)]
pub enum Target {
    Stage1(Stage1Files),
    Folder {
        dir: PathBuf,
        asset: bool,
    },
    Training {
        images: Vec<PathBuf>,
        positions: Option<PathBuf>,
    },
    Video(PathBuf),
    Nothing(String),
}

/// One browser row.
#[derive(Debug, Clone)]
pub struct Entry {
    pub ordinal: usize,
    pub label: String,
    pub video: String,
    pub frames: Option<usize>,
    pub k: Option<usize>,
    pub findings: Vec<Finding>,
    pub target: Target,
}

impl Entry {
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// Rows coming from a background indexer.
pub struct Index {
    rx: Receiver<Vec<Entry>>,
    done: Arc<AtomicBool>,
    pub read: Arc<AtomicU64>,
}

impl Index {
    /// Rows that arrived since the last call.
    pub fn drain(&self) -> Vec<Entry> {
        let mut v = Vec::new();
        while let Ok(mut b) = self.rx.try_recv() {
            v.append(&mut b);
        }
        v
    }

    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    /// Waits until the indexer finishes (tests, `show`); returns every row.
    pub fn collect_all(&self) -> Vec<Entry> {
        let mut v = Vec::new();
        while let Ok(mut b) = self.rx.recv() {
            v.append(&mut b);
        }
        v
    }
}

/// What a path opened as.
pub enum Opened {
    One(Box<SampleData>),
    Many {
        title: String,
        kind: String,
        index: Index,
        asset_root: Option<PathBuf>,
    },
}

fn spawn_index(f: impl FnOnce(&Sender<Vec<Entry>>, &AtomicU64) + Send + 'static) -> Index {
    let (tx, rx) = channel();
    let done = Arc::new(AtomicBool::new(false));
    let read = Arc::new(AtomicU64::new(0));
    let (d, r) = (done.clone(), read.clone());
    std::thread::Builder::new()
        .name("codecscope-index".into())
        .spawn(move || {
            f(&tx, &r);
            d.store(true, Ordering::SeqCst);
        })
        .expect("spawn the indexer");
    Index { rx, done, read }
}

/// Opens `path` as `discover` names it.
pub fn open(path: &Path, opts: &LoadOptions) -> Result<Opened, String> {
    let found = discover(path);
    let title = path.display().to_string();
    let kind = found.what.kind_name().to_string();
    Ok(match found.what {
        Discovered::Unknown { path, reason } => {
            return Err(format!("{}: {reason}", path.display()));
        }
        Discovered::Video { path } => Opened::One(Box::new(sample::load_video(&path, None, opts))),
        Discovered::Stage1Output { files } => {
            Opened::One(Box::new(sample::load_stage1(&files, opts)))
        }
        Discovered::Stage2Folder {
            dir,
            images,
            positions,
        } => Opened::One(Box::new(sample::load_folder(
            &dir,
            &images,
            positions.as_deref(),
            false,
            opts,
        ))),
        Discovered::AssetFolder {
            dir,
            images,
            positions,
            ..
        } => Opened::One(Box::new(sample::load_folder(
            &dir,
            &images,
            positions.as_deref(),
            true,
            opts,
        ))),
        Discovered::Stage1Root { dir, outputs } => {
            let num_images = opts.num_images;
            let index = spawn_index(move |tx, read| {
                let outputs = if outputs.is_empty() {
                    nested_stage1(&dir)
                } else {
                    outputs
                };
                for (n, chunk) in outputs.chunks(256).enumerate() {
                    let rows: Vec<Entry> = chunk
                        .par_iter()
                        .enumerate()
                        .map(|(i, f)| stage1_entry(n * 256 + i, f, num_images))
                        .collect();
                    read.fetch_add(rows.len() as u64, Ordering::SeqCst);
                    if tx.send(rows).is_err() {
                        return;
                    }
                }
            });
            Opened::Many {
                title,
                kind,
                index,
                asset_root: None,
            }
        }
        Discovered::AssetRoot { dir, out_root, .. } => {
            let root = if out_root { dir.join("assets") } else { dir };
            let r2 = root.clone();
            let num_images = opts.num_images;
            let index = spawn_index(move |tx, read| {
                let mut folders: Vec<PathBuf> = std::fs::read_dir(&r2)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect();
                folders.sort();
                for (n, chunk) in folders.chunks(256).enumerate() {
                    let rows: Vec<Entry> = chunk
                        .par_iter()
                        .enumerate()
                        .map(|(i, d)| asset_entry(n * 256 + i, d, num_images))
                        .collect();
                    read.fetch_add(rows.len() as u64, Ordering::SeqCst);
                    if tx.send(rows).is_err() {
                        return;
                    }
                }
            });
            Opened::Many {
                title,
                kind,
                index,
                asset_root: Some(root),
            }
        }
        Discovered::TrainingJsonl { path }
        | Discovered::RawDataset { path }
        | Discovered::PrecomputeInput { path } => {
            let training = kind == "training JSONL";
            let opts = opts.clone();
            let index =
                spawn_index(move |tx, read| index_dataset(&path, training, &opts, tx, read));
            Opened::Many {
                title,
                kind,
                index,
                asset_root: None,
            }
        }
        Discovered::VideoFolder { dir, .. } => {
            let index = spawn_index(move |tx, read| {
                let mut vids: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && crate::formats::discover::is_video_path(p))
                    .collect();
                vids.sort();
                let rows: Vec<Entry> = vids
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| Entry {
                        ordinal: i,
                        label: naming::stem(&v.to_string_lossy()).to_string(),
                        video: v.display().to_string(),
                        frames: None,
                        k: None,
                        findings: Vec::new(),
                        target: Target::Video(v),
                    })
                    .collect();
                read.fetch_add(rows.len() as u64, Ordering::SeqCst);
                let _ = tx.send(rows);
            });
            Opened::Many {
                title,
                kind,
                index,
                asset_root: None,
            }
        }
    })
}

fn nested_stage1(dir: &Path) -> Vec<Stage1Files> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        out.extend(stage1_outputs_in(&d));
        if let Ok(rd) = std::fs::read_dir(&d) {
            let mut subs: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subs.sort();
            stack.extend(subs.into_iter().rev());
        }
    }
    out
}

fn stage1_entry(ordinal: usize, f: &Stage1Files, num_images: usize) -> Entry {
    let m = meta::read_stage1_meta(&f.meta).ok();
    Entry {
        ordinal,
        label: m.as_ref().map(|m| m.sample_id.clone()).unwrap_or_else(|| {
            f.prefix
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        }),
        video: m.as_ref().map(|m| m.video.clone()).unwrap_or_default(),
        frames: m.as_ref().map(|m| m.t),
        k: m.as_ref().map(|m| m.k),
        findings: lints::lint_stage1(f, num_images),
        target: Target::Stage1(f.clone()),
    }
}

fn asset_entry(ordinal: usize, d: &Path, num_images: usize) -> Entry {
    let label = d
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    match discover(d).what {
        Discovered::AssetFolder {
            dir,
            images,
            positions,
            meta: m,
        } => {
            let om = m.and_then(|m| meta::read_offline_meta(&m).ok());
            let k = positions
                .as_deref()
                .and_then(|p| npy::inspect(p).ok())
                .and_then(|i| i.shape.first().copied());
            Entry {
                ordinal,
                label,
                video: om.as_ref().map(|m| m.video.clone()).unwrap_or_default(),
                frames: om.as_ref().map(|m| m.cfg.seq_len_frames.max(0) as usize),
                k,
                findings: lints::lint_stage2_folder(
                    &dir,
                    &images,
                    positions.as_deref(),
                    num_images,
                    576,
                    false,
                ),
                target: Target::Folder { dir, asset: true },
            }
        }
        _ => Entry {
            ordinal,
            label,
            video: String::new(),
            frames: None,
            k: None,
            findings: vec![Finding::warning(
                "not-an-asset-folder",
                d.display().to_string(),
                "no mosaics, meta.json or error.json in this folder",
            )],
            target: Target::Nothing("not an asset folder".into()),
        },
    }
}

fn index_dataset(
    path: &Path,
    training: bool,
    opts: &LoadOptions,
    tx: &Sender<Vec<Entry>>,
    read: &AtomicU64,
) {
    let Ok(mut stream) = RecordStream::open(path) else {
        return;
    };
    let resolver = PathResolver::new(opts.remaps.clone(), Some(path));
    let files = FileFindings::default();
    let rules = RecordRules {
        num_images: if opts.num_images == 0 {
            8
        } else {
            opts.num_images
        },
        ..RecordRules::default()
    };
    let display = path.display().to_string();
    let mut batch_size = 64;
    loop {
        let (batch, stream_error) = stream.next_batch(batch_size);
        if batch.is_empty() && stream_error.is_none() {
            return;
        }
        let rows: Vec<Entry> = batch
            .par_iter()
            .map(|rec| {
                let location = format!("{display}:{}", rec.line);
                let parsed = match Record::parse(&rec.text) {
                    Ok(p) => p,
                    Err(e) => {
                        return Entry {
                            ordinal: rec.ordinal as usize,
                            label: format!("line {}", rec.line),
                            video: String::new(),
                            frames: None,
                            k: None,
                            findings: vec![Finding::error(
                                "malformed-record",
                                location,
                                format!("not valid JSON: {e}"),
                            )],
                            target: Target::Nothing("malformed record".into()),
                        }
                    }
                };
                let cx = RecordContext {
                    rules: &rules,
                    resolver: &resolver,
                    files: &files,
                    location,
                };
                let findings = if training {
                    records::lint_training(&parsed, &cx)
                } else {
                    records::lint_raw(&parsed, &cx)
                };
                let video = parsed.video_str().unwrap_or_default().to_string();
                let label = parsed.id_string().unwrap_or_else(|| {
                    if video.is_empty() {
                        format!("line {}", rec.line)
                    } else {
                        naming::stem(&video).to_string()
                    }
                });
                let (target, k, video) = if training {
                    let images: Vec<PathBuf> = parsed
                        .images()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|s| resolver.resolve(s))
                        .collect();
                    let positions = match &parsed.positions_thw {
                        Some(serde_json::Value::String(s)) => Some(resolver.resolve(s)),
                        _ => None,
                    };
                    let k = positions
                        .as_deref()
                        .and_then(|p| npy::inspect(p).ok())
                        .and_then(|i| i.shape.first().copied());
                    let shown = images
                        .first()
                        .and_then(|p| p.parent())
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    (Target::Training { images, positions }, k, shown)
                } else if video.is_empty() {
                    (Target::Nothing("no video".into()), None, video)
                } else {
                    (Target::Video(resolver.resolve(&video)), None, video)
                };
                Entry {
                    ordinal: rec.ordinal as usize,
                    label,
                    video,
                    frames: None,
                    k,
                    findings,
                    target,
                }
            })
            .collect();
        read.fetch_add(rows.len() as u64, Ordering::SeqCst);
        if tx.send(rows).is_err() {
            return;
        }
        if let Some(e) = stream_error {
            let _ = tx.send(vec![Entry {
                ordinal: usize::MAX,
                label: format!("line {}", e.line),
                video: String::new(),
                frames: None,
                k: None,
                findings: vec![Finding::error(
                    "malformed-dataset",
                    format!("{}:{}", e.path.display(), e.line),
                    e.message,
                )],
                target: Target::Nothing("reading stopped here".into()),
            }]);
            return;
        }
        batch_size = (batch_size * 4).min(4096);
    }
}

/// Loads the sample a browser row points at.
pub fn load_entry(e: &Entry, opts: &LoadOptions) -> Result<SampleData, String> {
    match &e.target {
        Target::Stage1(f) => Ok(sample::load_stage1(f, opts)),
        Target::Folder { dir, asset } => match discover(dir).what {
            Discovered::AssetFolder {
                dir,
                images,
                positions,
                ..
            }
            | Discovered::Stage2Folder {
                dir,
                images,
                positions,
            } => Ok(sample::load_folder(
                &dir,
                &images,
                positions.as_deref(),
                *asset,
                opts,
            )),
            other => Err(format!("{}: {}", dir.display(), other.kind_name())),
        },
        Target::Training { images, positions } => {
            let dir = images
                .first()
                .and_then(|p| p.parent())
                .map(Path::to_path_buf)
                .ok_or("the record names no image")?;
            let mut s = sample::load_folder(&dir, images, positions.as_deref(), false, opts);
            s.title = e.label.clone();
            s.findings = e.findings.clone();
            Ok(s)
        }
        Target::Video(v) => Ok(sample::load_video(v, Some(e.label.clone()), opts)),
        Target::Nothing(why) => Err(why.clone()),
    }
}
