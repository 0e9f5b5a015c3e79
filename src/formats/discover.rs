//! Says what a path is (video, stage 1 output, stage 2 folder, eval assets, dataset) and
//! what is missing from it. Everything that opens a path (`check`, the TUI) starts here.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dataset::{Record, RecordStream};

/// File suffixes of stage 1's three outputs.
pub const STAGE1_SUFFIXES: [&str; 3] = [".visidx_thw.npy", ".frame_ids.npy", ".meta.json"];

/// Container suffixes treated as videos without opening them.
pub const VIDEO_EXTENSIONS: [&str; 12] = [
    "mp4", "mkv", "avi", "mov", "webm", "m4v", "ts", "mts", "flv", "mpg", "mpeg", "3gp",
];

/// Image suffixes eval takes (SPEC 1.5), lower-case as its globs are case-sensitive.
pub const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// A stage 1 output: three files sharing one prefix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage1Files {
    /// The path without the suffix, e.g. `out/sample_X__v__12345678__9abcdef0_T64_square576_p16_K10368`.
    pub prefix: PathBuf,
    pub visidx: PathBuf,
    pub frame_ids: PathBuf,
    pub meta: PathBuf,
}

impl Stage1Files {
    pub fn from_prefix(prefix: &Path) -> Self {
        let with = |s: &str| PathBuf::from(format!("{}{s}", prefix.display()));
        Stage1Files {
            prefix: prefix.to_path_buf(),
            visidx: with(STAGE1_SUFFIXES[0]),
            frame_ids: with(STAGE1_SUFFIXES[1]),
            meta: with(STAGE1_SUFFIXES[2]),
        }
    }

    /// Files of the three that do not exist.
    pub fn missing(&self) -> Vec<PathBuf> {
        [&self.visidx, &self.frame_ids, &self.meta]
            .into_iter()
            .filter(|p| !p.is_file())
            .cloned()
            .collect()
    }
}

/// What a path is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Discovered {
    Video {
        path: PathBuf,
    },
    Stage1Output {
        files: Stage1Files,
    },
    Stage1Root {
        dir: PathBuf,
        outputs: Vec<Stage1Files>,
    },
    Stage2Folder {
        dir: PathBuf,
        images: Vec<PathBuf>,
        positions: Option<PathBuf>,
    },
    AssetFolder {
        dir: PathBuf,
        images: Vec<PathBuf>,
        positions: Option<PathBuf>,
        meta: Option<PathBuf>,
    },
    /// A folder of asset folders; `out_root` when it is the precompute `out_root` (holding
    /// `assets/`) rather than `assets/` itself.
    AssetRoot {
        dir: PathBuf,
        folders: usize,
        out_root: bool,
    },
    /// Stage 2's JSONL: records with `image` (codec and image-only samples mixed).
    TrainingJsonl {
        path: PathBuf,
    },
    /// Stage 1's input: records with `video` and `conversations`.
    RawDataset {
        path: PathBuf,
    },
    /// The offline precompute's input: records with `video` and `key`.
    PrecomputeInput {
        path: PathBuf,
    },
    /// A folder of videos (precompute takes one).
    VideoFolder {
        dir: PathBuf,
        videos: usize,
    },
    Unknown {
        path: PathBuf,
        reason: String,
    },
}

impl Discovered {
    /// A short human name for the kind.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Discovered::Video { .. } => "video",
            Discovered::Stage1Output { .. } => "stage 1 output",
            Discovered::Stage1Root { .. } => "stage 1 output root",
            Discovered::Stage2Folder { .. } => "stage 2 sample folder",
            Discovered::AssetFolder { .. } => "eval asset folder",
            Discovered::AssetRoot { .. } => "eval asset root",
            Discovered::TrainingJsonl { .. } => "training JSONL",
            Discovered::RawDataset { .. } => "raw video dataset",
            Discovered::PrecomputeInput { .. } => "precompute input JSONL",
            Discovered::VideoFolder { .. } => "folder of videos",
            Discovered::Unknown { .. } => "unknown",
        }
    }
}

/// What `discover` found, and what it expected but could not find.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovery {
    #[serde(flatten)]
    pub what: Discovered,
    pub missing: Vec<PathBuf>,
}

fn has_ext(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

pub fn is_video_path(path: &Path) -> bool {
    has_ext(path, &VIDEO_EXTENSIONS)
}

/// Eval's image rule: case-sensitive lower-case suffix, no dotfiles.
pub fn is_eval_image_name(name: &str) -> bool {
    !name.starts_with('.')
        && IMAGE_EXTENSIONS
            .iter()
            .any(|e| name.ends_with(&format!(".{e}")))
}

fn stage1_prefix_of(path: &Path) -> Option<PathBuf> {
    let s = path.to_str()?;
    STAGE1_SUFFIXES
        .iter()
        .find_map(|suf| s.strip_suffix(suf))
        .map(PathBuf::from)
}

fn looks_like_stage1_name(prefix: &Path) -> bool {
    prefix
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("sample_") && n.contains("_K"))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

fn images_in(dir: &Path) -> Vec<PathBuf> {
    let mut imgs: Vec<PathBuf> = sorted_entries(dir)
        .into_iter()
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_eval_image_name)
        })
        .collect();
    imgs.sort_by(|a, b| {
        super::naming::natural_cmp(
            &a.file_name().unwrap().to_string_lossy(),
            &b.file_name().unwrap().to_string_lossy(),
        )
    });
    imgs
}

/// Stage 1 outputs directly in `dir`, by their `.meta.json` or `.visidx_thw.npy`.
pub fn stage1_outputs_in(dir: &Path) -> Vec<Stage1Files> {
    let mut prefixes: Vec<PathBuf> = sorted_entries(dir)
        .iter()
        .filter_map(|p| stage1_prefix_of(p))
        .filter(|p| looks_like_stage1_name(p))
        .collect();
    prefixes.dedup();
    prefixes
        .iter()
        .map(|p| Stage1Files::from_prefix(p))
        .collect()
}

fn is_asset_folder(dir: &Path) -> bool {
    let names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names
        .iter()
        .any(|n| n.starts_with("mosaic_") && is_eval_image_name(n))
        || (names.iter().any(|n| n == "meta.json")
            && names.iter().any(|n| n == "visible_indices.npy"))
        || names.iter().any(|n| n == "error.json")
}

fn classify_dataset(path: &Path) -> Discovered {
    let Ok(stream) = RecordStream::open(path) else {
        return Discovered::Unknown {
            path: path.to_path_buf(),
            reason: "cannot be read".into(),
        };
    };
    let (mut images, mut videos, mut keys, mut parsed) = (0, 0, 0, 0);
    for rec in stream.take(50).flatten() {
        let Ok(r) = Record::parse(&rec.text) else {
            continue;
        };
        parsed += 1;
        images += r.image.is_some() as usize;
        videos += r.video.is_some() as usize;
        keys += (r.key.is_some() && r.conversations.is_none()) as usize;
    }
    let path = path.to_path_buf();
    if parsed == 0 {
        Discovered::Unknown {
            path,
            reason: "no JSON record could be read from it".into(),
        }
    } else if images > 0 {
        Discovered::TrainingJsonl { path }
    } else if keys > 0 {
        Discovered::PrecomputeInput { path }
    } else if videos > 0 {
        Discovered::RawDataset { path }
    } else {
        Discovered::Unknown {
            path,
            reason: "its records have neither `image` nor `video`".into(),
        }
    }
}

/// Says what `path` is and what is missing.
pub fn discover(path: &Path) -> Discovery {
    let mut missing = Vec::new();
    let what = if path.is_file() {
        if let Some(prefix) = stage1_prefix_of(path).filter(|p| looks_like_stage1_name(p)) {
            let files = Stage1Files::from_prefix(&prefix);
            missing = files.missing();
            Discovered::Stage1Output { files }
        } else if is_video_path(path) {
            Discovered::Video {
                path: path.to_path_buf(),
            }
        } else if has_ext(path, &["json", "jsonl"]) {
            classify_dataset(path)
        } else {
            Discovered::Unknown {
                path: path.to_path_buf(),
                reason: "not a video, dataset or pipeline output".into(),
            }
        }
    } else if path.is_dir() {
        discover_dir(path, &mut missing)
    } else if looks_like_stage1_name(path) && Stage1Files::from_prefix(path).missing().len() < 3 {
        let files = Stage1Files::from_prefix(path);
        missing = files.missing();
        Discovered::Stage1Output { files }
    } else {
        Discovered::Unknown {
            path: path.to_path_buf(),
            reason: "no such file or directory".into(),
        }
    };
    Discovery { what, missing }
}

fn discover_dir(dir: &Path, missing: &mut Vec<PathBuf>) -> Discovered {
    let dirp = dir.to_path_buf();
    let outputs = stage1_outputs_in(dir);
    if !outputs.is_empty() {
        missing.extend(outputs.iter().flat_map(Stage1Files::missing));
        return Discovered::Stage1Root { dir: dirp, outputs };
    }
    let positions = dir.join("positions_thw.npy");
    let positions = positions.is_file().then_some(positions);
    if is_asset_folder(dir) {
        let meta = dir.join("meta.json");
        for f in [
            "meta.json",
            "positions_thw.npy",
            "visible_indices.npy",
            "frame_ids.npy",
        ] {
            if !dir.join(f).is_file() {
                missing.push(dir.join(f));
            }
        }
        return Discovered::AssetFolder {
            dir: dirp,
            images: images_in(dir),
            meta: meta.is_file().then_some(meta),
            positions,
        };
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let images = images_in(dir);
    if (name.starts_with("sample_") || name.starts_with("video__"))
        && (!images.is_empty() || positions.is_some())
    {
        if positions.is_none() {
            missing.push(dir.join("positions_thw.npy"));
        }
        return Discovered::Stage2Folder {
            dir: dirp,
            images,
            positions,
        };
    }
    let subdirs: Vec<PathBuf> = sorted_entries(dir)
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    let asset_folders = subdirs.iter().filter(|d| is_asset_folder(d)).count();
    if asset_folders > 0 {
        return Discovered::AssetRoot {
            dir: dirp,
            folders: asset_folders,
            out_root: false,
        };
    }
    let assets = dir.join("assets");
    if assets.is_dir() {
        let folders = sorted_entries(&assets)
            .iter()
            .filter(|d| d.is_dir() && is_asset_folder(d))
            .count();
        return Discovered::AssetRoot {
            dir: dirp,
            folders,
            out_root: true,
        };
    }
    if !images.is_empty() {
        // Images directly in a folder: eval's flat layout, or a stage 2 folder renamed.
        return Discovered::AssetFolder {
            dir: dirp,
            images,
            positions,
            meta: None,
        };
    }
    let videos = sorted_entries(dir)
        .iter()
        .filter(|p| p.is_file() && is_video_path(p))
        .count();
    if videos > 0 {
        return Discovered::VideoFolder { dir: dirp, videos };
    }
    let nested = subdirs.iter().any(|d| !stage1_outputs_in(d).is_empty());
    if nested {
        return Discovered::Stage1Root {
            dir: dirp,
            outputs: Vec::new(),
        };
    }
    let stage2 = subdirs
        .iter()
        .filter(|d| {
            d.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("sample_"))
        })
        .count();
    if stage2 > 0 {
        return Discovered::Unknown {
            path: dirp,
            reason: format!("a folder of {stage2} stage 2 sample folders: open one of them, or the training JSONL"),
        };
    }
    Discovered::Unknown {
        path: dirp,
        reason: "no video, dataset or pipeline output in it".into(),
    }
}
