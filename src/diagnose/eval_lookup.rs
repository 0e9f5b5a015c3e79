//! The one emulation of evaluation's offline asset lookup (`llava_ov_encoder.py`,
//! `_offline_load_visuals_and_positions` and its helpers; SPEC 1.5). `check`, `doctor` and
//! the TUI all ask this module which folder, which images and which positions evaluation
//! would use for a video, and why.
//!
//! The emulation works on strings the way Python does (the root is `rstrip("/")`-ed, paths
//! are joined with `os.path.join`, images are found with `glob.glob`, so glob characters in a
//! root or a stem are patterns), walks the root like `os.walk` (listing order, top-down, a
//! directory's files before its subdirectories, symlinked directories not entered) and opens
//! every image in full, failing where PIL's `Image.open(p).convert("RGB")` fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::finding::{Finding, Severity};

/// Default of `LLAVA_CODEC_NUM_IMAGES`.
pub const DEFAULT_NUM_IMAGES: usize = 8;

/// Patches in one full 576/16 frame.
pub const S_TOTAL: usize = 1296;

/// Image patterns evaluation prefers, in its order, then the extensions it globs.
pub const IMAGE_PREFIXES: [&str; 4] = ["mosaic*", "pack*", "grid*", "image*"];
pub const IMAGE_EXTS: [&str; 4] = ["*.jpg", "*.jpeg", "*.png", "*.webp"];

/// Positions file names evaluation tries, in order, before `*position*.npy`.
pub const POSITION_NAMES: [&str; 8] = [
    "position.npy",
    "positions.npy",
    "position_ids.npy",
    "patch_positions.npy",
    "patch_positions.pt.npy",
    "position_ids.pt.npy",
    "positions_thw.npy",
    "positions_thw_int32.npy",
];

// ---------------------------------------------------------------------------------------------
// Environment as evaluation reads it
// ---------------------------------------------------------------------------------------------

/// `_env_truthy`: exactly `1`, `true`, `True`, `YES`, `yes`.
pub fn env_truthy(v: Option<&str>) -> bool {
    matches!(v, Some("1" | "true" | "True" | "YES" | "yes"))
}

/// `max(1, int(LLAVA_CODEC_NUM_IMAGES or "8"))`; `Err` where evaluation's `int()` raises.
pub fn parse_num_images(raw: Option<&str>) -> Result<usize, String> {
    match raw {
        None => Ok(DEFAULT_NUM_IMAGES),
        Some(s) => match py::py_int(s) {
            Some(n) => Ok(n.max(1) as usize),
            None => Err(format!(
                "LLAVA_CODEC_NUM_IMAGES={s:?} is not an integer: evaluation raises ValueError on every video"
            )),
        },
    }
}

/// What evaluation's model process sees in its environment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalEnv {
    pub use_offline_raw: Option<String>,
    pub root_raw: Option<String>,
    pub num_images_raw: Option<String>,
    pub debug_raw: Option<String>,
}

impl EvalEnv {
    pub fn from_process_env() -> Self {
        let get = |k: &str| std::env::var(k).ok();
        EvalEnv {
            use_offline_raw: get("LLAVA_CODEC_USE_OFFLINE"),
            root_raw: get("LLAVA_CODEC_OFFLINE_ROOT"),
            num_images_raw: get("LLAVA_CODEC_NUM_IMAGES"),
            debug_raw: get("LLAVA_CODEC_DEBUG"),
        }
    }

    pub fn use_offline(&self) -> bool {
        env_truthy(self.use_offline_raw.as_deref())
    }

    pub fn num_images(&self) -> Result<usize, String> {
        parse_num_images(self.num_images_raw.as_deref())
    }
}

// ---------------------------------------------------------------------------------------------
// The root string
// ---------------------------------------------------------------------------------------------

/// What is wrong with the root string itself, before any lookup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RootProblem {
    /// Stable code: `root-unset`, `root-missing`, `root-not-dir`, `root-captured-output`,
    /// `root-path-list`, `root-glob-magic`.
    pub code: &'static str,
    pub message: String,
    pub hint: String,
    /// Directories found inside a root that holds captured shell text or a `:`-joined list.
    pub hidden_dirs: Vec<String>,
}

/// The root as `_candidate_offline_dirs` uses it: `rstrip("/")`.
pub fn eval_root(root_raw: &str) -> &str {
    root_raw.trim_end_matches('/')
}

/// Checks the root string the way evaluation will use it. `None` when it names a directory.
pub fn root_problem(root_raw: &str) -> Option<RootProblem> {
    let root = eval_root(root_raw);
    if root.is_empty() {
        let message = if root_raw.is_empty() {
            "the offline root is empty: evaluation builds no candidate folder".to_string()
        } else {
            format!("the offline root {root_raw:?} is empty after evaluation strips trailing '/': no candidate folder")
        };
        return Some(RootProblem {
            code: "root-unset",
            message,
            hint: "set LLAVA_CODEC_OFFLINE_ROOT (or --root) to the precompute `assets/` folder"
                .into(),
            hidden_dirs: vec![],
        });
    }
    let p = Path::new(root);
    if p.is_dir() {
        if py::has_magic(root) {
            return Some(RootProblem {
                code: "root-glob-magic",
                message: format!(
                    "the root {root:?} contains glob characters (*, ? or [): evaluation finds images with glob.glob, \
                     which reads them as patterns"
                ),
                hint: "rename or symlink the asset root to a path without *, ? or [".into(),
                hidden_dirs: vec![],
            });
        }
        return None;
    }
    let captured = root.contains('\n')
        || root.contains('\r')
        || root.contains("[OK]")
        || root.contains("Found:");
    if captured {
        let hidden = hidden_dirs_in_text(root);
        let fix = match hidden.last() {
            Some(d) => format!("export LLAVA_CODEC_OFFLINE_ROOT={d} (capture only the path, not the function's messages)"),
            None => "capture only the path in the root variable, not the function's messages".into(),
        };
        return Some(RootProblem {
            code: "root-captured-output",
            message: format!(
                "the root holds captured shell text ({} line(s), {:?}), not a directory: every video MISSes silently{}",
                root.lines().count(),
                shorten(root, 80),
                match hidden.last() {
                    Some(d) => format!("; the directory hidden inside it is {d}"),
                    None => String::new(),
                }
            ),
            hint: fix,
            hidden_dirs: hidden,
        });
    }
    if root.contains(':') {
        let parts: Vec<String> = root
            .split(':')
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let hidden: Vec<String> = parts
            .iter()
            .filter(|s| Path::new(s).is_dir())
            .cloned()
            .collect();
        if !hidden.is_empty() || parts.len() > 1 {
            return Some(RootProblem {
                code: "root-path-list",
                message: format!(
                    "the root is a ':'-joined list of {} paths; evaluation takes ONE directory, so the whole string \
                     is no directory and every video MISSes{}",
                    parts.len(),
                    if hidden.is_empty() { String::new() } else { format!(" (existing: {})", hidden.join(", ")) }
                ),
                hint: match hidden.first() {
                    Some(d) => format!("export LLAVA_CODEC_OFFLINE_ROOT={d} (one folder; merge the asset folders into it)"),
                    None => "point LLAVA_CODEC_OFFLINE_ROOT at one existing `assets/` folder".into(),
                },
                hidden_dirs: hidden,
            });
        }
    }
    if p.exists() {
        return Some(RootProblem {
            code: "root-not-dir",
            message: format!("the root {root} exists but is not a directory: every video MISSes"),
            hint: "point LLAVA_CODEC_OFFLINE_ROOT at the precompute `assets/` folder".into(),
            hidden_dirs: vec![],
        });
    }
    let parent_hint = nearest_existing_ancestor(root);
    Some(RootProblem {
        code: "root-missing",
        message: format!("the root {root} does not exist: every video MISSes"),
        hint: match parent_hint {
            Some(a) => format!("check the path (the nearest existing ancestor is {a}); it must be the precompute `assets/` folder"),
            None => "check the path; it must be the precompute `assets/` folder".into(),
        },
        hidden_dirs: vec![],
    })
}

fn nearest_existing_ancestor(p: &str) -> Option<String> {
    let mut cur = Path::new(p).parent();
    while let Some(c) = cur {
        if !c.as_os_str().is_empty() && c.is_dir() {
            return Some(c.display().to_string());
        }
        cur = c.parent();
    }
    None
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n).collect::<String>())
    }
}

/// Directories named inside captured shell text: whole lines, the text after `->` or
/// `Found:`, and whitespace-separated words, in order of appearance, each once.
pub fn hidden_dirs_in_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        let s = s
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .trim_end_matches('/');
        if !s.is_empty() && Path::new(s).is_dir() && !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    };
    for line in text.lines() {
        push(line);
        if let Some((_, r)) = line.rsplit_once("->") {
            push(r);
        }
        if let Some((_, r)) = line.split_once("Found:") {
            push(r);
        }
        for w in line.split_whitespace().filter(|w| w.contains('/')) {
            push(w);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The meta.json index
// ---------------------------------------------------------------------------------------------

/// How a meta.json read went.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MetaRead {
    Ok,
    /// `open`/`json.load` raised: evaluation skips the file.
    Unreadable {
        error: String,
    },
    /// Valid JSON but not an object: `meta.get` raises outside the `try`, the whole index
    /// build fails and evaluation uses no index at all (and rebuilds it for every video).
    NotObject,
}

/// One meta.json met by the walk, in walk order.
#[derive(Debug, Clone, Serialize)]
pub struct MetaEntry {
    /// The folder, as `os.walk` names it (root joined with the relative path).
    pub dir: String,
    pub read: MetaRead,
    /// `str(meta.video or meta.video_path)` when truthy.
    pub video: Option<String>,
    /// `Path(video).stem` (empty stems are not indexed).
    pub stem: Option<String>,
    /// `str(meta.key)` when truthy.
    pub key: Option<String>,
    /// `meta.cfg` (asset parameters), when present.
    pub cfg: Option<Value>,
    /// Depth below the root (1 = a direct child).
    pub depth: usize,
}

/// Which field of a meta gave an index name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    Stem,
    Key,
}

/// A claim on an index name: entry `meta` (index into `metas`) via its stem or key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Claim {
    pub meta: usize,
    pub via: Via,
}

/// One directory the walk visited (for findings about the root without a second walk).
#[derive(Debug, Clone, Serialize)]
pub struct DirListing {
    pub dir: String,
    pub depth: usize,
    /// Non-directory entry names in listing order.
    pub files: Vec<String>,
    /// Subdirectory names in listing order (symlinked ones included, as `os.walk` lists them).
    pub subdirs: Vec<String>,
    /// Every entry name in listing order (kept for the root only: globs match folders too).
    #[serde(skip)]
    pub entries: Vec<String>,
}

/// Evaluation's meta.json index of one root, built once by one walk and reused for every
/// video. Also keeps what the walk saw, so findings need no second walk.
#[derive(Debug, Clone, Serialize)]
pub struct AssetIndex {
    /// The root as evaluation passes it to the walk (`rstrip("/")`).
    pub root: String,
    /// Every meta.json, in walk order.
    pub metas: Vec<MetaEntry>,
    /// Every name (stems and keys share one dictionary) with all claims in walk order; the
    /// first claim is the one evaluation uses.
    pub claims: HashMap<String, Vec<Claim>>,
    /// Every directory visited, in walk order.
    pub dirs: Vec<DirListing>,
    /// Set when a non-object meta.json made evaluation's index build raise: it then has no
    /// index at all. Holds that meta's position in `metas`.
    pub crashed_at: Option<usize>,
    /// Every image evaluation's globs find directly in the root (the flat candidate), in its
    /// order: the same for every video, so listed once.
    pub root_images: Vec<String>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl AssetIndex {
    /// An index of nothing (used when the root is unusable).
    pub fn empty(root: &str) -> Self {
        AssetIndex {
            root: root.to_string(),
            metas: vec![],
            claims: HashMap::new(),
            dirs: vec![],
            crashed_at: None,
            root_images: vec![],
            elapsed: Duration::ZERO,
        }
    }

    /// Walks `root` (a string, as evaluation has it) once, reading meta.json files in parallel
    /// while keeping the walk's first-seen order.
    pub fn build(root_raw: &str) -> Self {
        let t0 = Instant::now();
        let root = eval_root(root_raw).to_string();
        let mut idx = AssetIndex::empty(&root);
        if root.is_empty() || !Path::new(&root).exists() {
            idx.elapsed = t0.elapsed();
            return idx;
        }
        let walked = io_pool().install(|| walk(&root, 0));
        let mut metas: Vec<MetaEntry> = Vec::new();
        for (d, m) in walked {
            idx.dirs.push(d);
            if let Some(m) = m {
                metas.push(m);
            }
        }
        for (i, m) in metas.iter().enumerate() {
            if m.read == MetaRead::NotObject && idx.crashed_at.is_none() {
                idx.crashed_at = Some(i);
            }
            if let Some(s) = &m.stem {
                idx.claims.entry(s.clone()).or_default().push(Claim {
                    meta: i,
                    via: Via::Stem,
                });
            }
            if let Some(k) = &m.key {
                idx.claims.entry(k.clone()).or_default().push(Claim {
                    meta: i,
                    via: Via::Key,
                });
            }
        }
        idx.metas = metas;
        idx.root_images = match idx.dirs.first() {
            Some(d) if !py::has_magic(&root) => image_list_from_names(&root, &d.entries),
            _ => eval_image_list(&root),
        };
        idx.elapsed = t0.elapsed();
        idx
    }

    /// Whether evaluation ends up with a usable index (`false` after a build crash).
    pub fn usable(&self) -> bool {
        self.crashed_at.is_none()
    }

    /// `len(index)` as evaluation logs it (`entries=N`); 0 when its build crashed.
    pub fn eval_entries(&self) -> usize {
        if self.usable() {
            self.claims.len()
        } else {
            0
        }
    }

    /// The folder evaluation's index maps `name` to (first claim), if any.
    pub fn get(&self, name: &str) -> Option<&MetaEntry> {
        if !self.usable() {
            return None;
        }
        self.claims
            .get(name)
            .and_then(|c| c.first())
            .map(|c| &self.metas[c.meta])
    }

    /// All names with more than one distinct folder claiming them.
    pub fn duplicates(&self) -> Vec<(&String, &Vec<Claim>)> {
        let mut v: Vec<_> = self
            .claims
            .iter()
            .filter(|(_, c)| {
                let first = &self.metas[c[0].meta].dir;
                c.iter().any(|x| &self.metas[x.meta].dir != first)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// `os.walk(root)` top-down: yield a directory (its files in listing order) before entering
/// its subdirectories in listing order; symlinked directories are listed but not entered;
/// an unreadable directory yields nothing.
fn walk(dir: &str, depth: usize) -> Vec<(DirListing, Option<MetaEntry>)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    let mut entries = Vec::new();
    // Subdirectories os.walk enters: not symlinks (its `islink` check).
    let mut enter = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if depth == 0 {
            entries.push(name.clone());
        }
        let (is_dir, is_link) = match e.file_type() {
            Ok(ft) if ft.is_symlink() => (e.path().is_dir(), true),
            Ok(ft) => (ft.is_dir(), false),
            Err(_) => (false, false),
        };
        if is_dir {
            if !is_link {
                enter.push(py::join(dir, &name));
            }
            subdirs.push(name);
        } else {
            files.push(name);
        }
    }
    let meta = files
        .iter()
        .any(|f| f == "meta.json")
        .then(|| read_meta(dir, depth));
    let mut out = vec![(
        DirListing {
            dir: dir.to_string(),
            depth,
            files,
            subdirs,
            entries,
        },
        meta,
    )];
    // Subtrees in parallel, reassembled in listing order: os.walk's top-down order.
    let subtrees: Vec<Vec<(DirListing, Option<MetaEntry>)>> =
        enter.par_iter().map(|p| walk(p, depth + 1)).collect();
    for t in subtrees {
        out.extend(t);
    }
    out
}

/// A pool for file-system work, which waits on I/O more than it computes.
pub fn io_pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        rayon::ThreadPoolBuilder::new()
            .num_threads((n * 4).clamp(4, 32))
            .build()
            .expect("thread pool")
    })
}

fn read_meta(dir: &str, depth: usize) -> MetaEntry {
    let mut m = MetaEntry {
        dir: dir.to_string(),
        read: MetaRead::Ok,
        video: None,
        stem: None,
        key: None,
        cfg: None,
        depth,
    };
    let path = py::join(dir, "meta.json");
    let v = match std::fs::read(&path) {
        Err(e) => {
            m.read = MetaRead::Unreadable {
                error: e.to_string(),
            };
            return m;
        }
        Ok(bytes) => match py::py_json_load(&bytes) {
            Err(e) => {
                m.read = MetaRead::Unreadable { error: e };
                return m;
            }
            Ok(v) => v,
        },
    };
    let Value::Object(obj) = &v else {
        m.read = MetaRead::NotObject;
        return m;
    };
    let video = obj
        .get("video")
        .filter(|v| py::truthy(v))
        .or_else(|| obj.get("video_path").filter(|v| py::truthy(v)));
    if let Some(v) = video {
        let s = py::py_str(v);
        let st = py::path_stem(&s);
        m.video = Some(s);
        if !st.is_empty() {
            m.stem = Some(st);
        }
    }
    if let Some(k) = obj.get("key").filter(|v| py::truthy(v)) {
        let k = py::py_str(k);
        if !k.is_empty() {
            m.key = Some(k);
        }
    }
    m.cfg = obj.get("cfg").cloned();
    m
}

// ---------------------------------------------------------------------------------------------
// Images and positions in one candidate folder
// ---------------------------------------------------------------------------------------------

/// `_find_offline_images(dir)` before truncation: every image evaluation's globs match, in
/// its merged order, then stably natural-sorted by base name.
pub fn eval_image_list(dir: &str) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push_all = |list: Vec<String>, merged: &mut Vec<String>| {
        for p in list {
            if seen.insert(p.clone()) {
                merged.push(p);
            }
        }
    };
    if py::has_magic(dir) {
        for pat in IMAGE_PREFIXES {
            for ext in IMAGE_EXTS {
                push_all(
                    py::glob(&py::join(dir, &format!("{pat}{}", &ext[1..]))),
                    &mut merged,
                );
            }
        }
        for ext in IMAGE_EXTS {
            push_all(py::glob(&py::join(dir, ext)), &mut merged);
        }
    } else {
        return image_list_from_names(dir, &py::listdir(dir, false));
    }
    merged.sort_by(|a, b| py::eval_nat_cmp(py::basename(a), py::basename(b)));
    merged
}

/// [`eval_image_list`] for a directory without glob characters whose entry names (in
/// listing order) are already known: one listing serves every pattern.
pub fn image_list_from_names(dir: &str, names: &[String]) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push_all = |list: Vec<String>, merged: &mut Vec<String>| {
        for p in list {
            if seen.insert(p.clone()) {
                merged.push(p);
            }
        }
    };
    {
        for pat in IMAGE_PREFIXES {
            for ext in IMAGE_EXTS {
                let p = format!("{pat}{}", &ext[1..]);
                let l = py::filter_names(names, &p)
                    .into_iter()
                    .map(|n| py::join(dir, n))
                    .collect();
                push_all(l, &mut merged);
            }
        }
        for ext in IMAGE_EXTS {
            let l = py::filter_names(names, ext)
                .into_iter()
                .map(|n| py::join(dir, n))
                .collect();
            push_all(l, &mut merged);
        }
    }
    merged.sort_by(|a, b| py::eval_nat_cmp(py::basename(a), py::basename(b)));
    merged
}

/// The images a folder holds by literal listing (what evaluation would see without glob
/// characters in the path).
pub fn eval_image_list_literal(dir: &str) -> Vec<String> {
    let names = py::listdir(dir, false);
    let mut v: Vec<String> = names
        .iter()
        .filter(|n| !n.starts_with('.') && IMAGE_EXTS.iter().any(|e| py::fnmatch(n, e)))
        .map(|n| py::join(dir, n))
        .collect();
    v.sort_by(|a, b| py::eval_nat_cmp(py::basename(a), py::basename(b)));
    v
}

/// `_find_offline_images(dir, n)`: the images evaluation takes, in its order.
pub fn eval_images(dir: &str, num_images: usize) -> Vec<String> {
    let mut l = eval_image_list(dir);
    l.truncate(num_images.max(1));
    l
}

/// `_find_positions_npy(dir)`: the positions file evaluation picks, if any.
pub fn eval_positions_file(dir: &str) -> Option<String> {
    if !py::has_magic(dir) {
        return positions_file_from_names(dir, &py::listdir(dir, false));
    }
    for n in POSITION_NAMES {
        let p = py::join(dir, n);
        if Path::new(&p).exists() {
            return Some(p);
        }
    }
    let mut hits = py::glob(&py::join(dir, "*position*.npy"));
    hits.sort();
    hits.into_iter().next()
}

/// [`eval_positions_file`] for a directory without glob characters whose entry names are
/// known: a name not listed does not exist; a listed one must still exist through symlinks.
pub fn positions_file_from_names(dir: &str, names: &[String]) -> Option<String> {
    for n in POSITION_NAMES {
        if names.iter().any(|x| x == n) {
            let p = py::join(dir, n);
            if Path::new(&p).exists() {
                return Some(p);
            }
        }
    }
    let mut hits: Vec<String> = py::filter_names(names, "*position*.npy")
        .into_iter()
        .map(|n| py::join(dir, n))
        .collect();
    hits.sort();
    hits.into_iter().next()
}

/// Header of a `.npy` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NpyInfo {
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

/// What evaluation makes of a positions file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionsInfo {
    pub path: String,
    /// The array's shape when numpy can load it.
    pub shape: Option<Vec<usize>>,
    pub dtype: Option<String>,
    /// Evaluation uses the file (`[S,3]` or `[1,S,3]`, loadable, a dtype torch takes).
    pub used: bool,
    /// The shape evaluation logs (`pos_shape`), `(1, S, 3)` when used.
    pub eval_shape: Option<Vec<usize>>,
    /// Why evaluation ignores it (then it silently uses uniform positions).
    pub ignored_because: Option<String>,
    /// Row count S when used.
    pub rows: Option<usize>,
}

/// Parses a `.npy` header; `Err` where `np.load` (without pickles) raises or returns no array.
pub fn read_npy_header(bytes: &[u8]) -> Result<(NpyInfo, usize), String> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err("an .npz archive, not an array (np.load returns an NpzFile)".into());
    }
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err("not an .npy file (np.load would need a pickle, which it refuses)".into());
    }
    if bytes.len() < 10 {
        return Err("truncated .npy header".into());
    }
    let major = bytes[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated .npy header".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    if bytes.len() < start + hlen {
        return Err("truncated .npy header".into());
    }
    let header = String::from_utf8_lossy(&bytes[start..start + hlen]).to_string();
    let descr = dict_value(&header, "descr").ok_or("no descr in .npy header")?;
    let descr = descr
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .to_string();
    let fortran = dict_value(&header, "fortran_order")
        .map(|s| s.trim() == "True")
        .unwrap_or(false);
    let shape_s = dict_value(&header, "shape").ok_or("no shape in .npy header")?;
    let inner = shape_s.trim().trim_start_matches('(').trim_end_matches(')');
    let mut shape = Vec::new();
    for part in inner.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        shape.push(
            p.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| format!("bad shape {shape_s}"))?,
        );
    }
    Ok((
        NpyInfo {
            descr,
            fortran_order: fortran,
            shape,
        },
        start + hlen,
    ))
}

fn dict_value(header: &str, key: &str) -> Option<String> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    if rest.starts_with('(') {
        let end = rest.find(')')?;
        Some(rest[..=end].to_string())
    } else if rest.starts_with('[') {
        let end = rest.find(']')?;
        Some(rest[..=end].to_string())
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

/// Item size of a simple dtype and whether `torch.from_numpy` accepts it.
fn dtype_info(descr: &str) -> Option<(usize, bool)> {
    let (order, code) = match descr.chars().next()? {
        c @ ('<' | '>' | '|' | '=') => (c, &descr[1..]),
        _ => ('=', descr),
    };
    let size = match code {
        "b1" | "?" | "u1" | "i1" | "B" | "b" => 1,
        "i2" | "u2" | "f2" => 2,
        "i4" | "u4" | "f4" => 4,
        "i8" | "u8" | "f8" | "c8" => 8,
        "c16" => 16,
        _ => return None,
    };
    let big = order == '>' && size > 1;
    let torch_ok = !big && !matches!(code, "u2" | "u4" | "u8");
    Some((size, torch_ok))
}

/// `_load_patch_positions_from_npy`: what evaluation gets from `path`.
pub fn eval_positions(path: &str) -> PositionsInfo {
    let mut info = PositionsInfo {
        path: path.to_string(),
        shape: None,
        dtype: None,
        used: false,
        eval_shape: None,
        ignored_because: None,
        rows: None,
    };
    let (bytes, file_len) = match read_head(path, 4096) {
        Ok(b) => b,
        Err(e) => {
            info.ignored_because = Some(format!("np.load fails: {e}"));
            return info;
        }
    };
    let (h, off) = match read_npy_header(&bytes) {
        Ok(x) => x,
        Err(e) => {
            info.ignored_because = Some(format!("np.load fails: {e}"));
            return info;
        }
    };
    info.dtype = Some(h.descr.clone());
    let Some((size, torch_ok)) = dtype_info(&h.descr) else {
        info.ignored_because = Some(format!(
            "dtype {} cannot be loaded without pickles or by torch",
            h.descr
        ));
        info.shape = Some(h.shape.clone());
        return info;
    };
    let count: usize = h.shape.iter().product();
    if file_len.saturating_sub(off as u64) < (count * size) as u64 {
        info.ignored_because = Some(format!(
            "file truncated: {} data bytes for shape {:?} of {} (np.load fails)",
            file_len.saturating_sub(off as u64),
            h.shape,
            h.descr
        ));
        return info;
    }
    info.shape = Some(h.shape.clone());
    let s = &h.shape;
    let rows = if s.len() == 2 && s[1] == 3 {
        Some(s[0])
    } else if s.len() == 3 && s[0] == 1 && s[2] == 3 {
        Some(s[1])
    } else {
        None
    };
    match rows {
        None => {
            info.ignored_because = Some(format!(
            "shape {s:?} is neither [S,3] nor [1,S,3]: evaluation silently uses uniform positions"
        ))
        }
        Some(_) if !torch_ok => {
            info.ignored_because = Some(format!("dtype {} is refused by torch.from_numpy", h.descr))
        }
        Some(r) => {
            info.used = true;
            info.rows = Some(r);
            info.eval_shape = Some(vec![1, r, 3]);
        }
    }
    info
}

/// The first `max` bytes of a file and its length.
fn read_head(path: &str, max: usize) -> std::io::Result<(Vec<u8>, u64)> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if f.metadata()?.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let mut buf = Vec::with_capacity(max.min(len as usize));
    let mut f = f;
    (&mut f).take(max as u64).read_to_end(&mut buf)?;
    // A header longer than the first read (rare): read up to its end.
    if buf.len() >= 12 && buf.starts_with(b"\x93NUMPY") {
        let need = match buf[6] {
            1 => 10 + u16::from_le_bytes([buf[8], buf[9]]) as usize,
            _ => 12 + u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize,
        };
        if need > buf.len() && need as u64 <= len {
            (&mut f)
                .take((need - buf.len()) as u64)
                .read_to_end(&mut buf)?;
        }
    }
    Ok((buf, len))
}

/// Reads positions rows as `(t, h, w)` when the file is a little-endian int32/int64 array
/// evaluation uses (for checks beyond evaluation's own).
pub fn read_positions_rows(path: &str) -> Option<Vec<[i64; 3]>> {
    let bytes = std::fs::read(path).ok()?;
    let (h, off) = read_npy_header(&bytes).ok()?;
    let size = match h.descr.as_str() {
        "<i4" => 4,
        "<i8" => 8,
        _ => return None,
    };
    let n: usize = h.shape.iter().product();
    if !n.is_multiple_of(3) || bytes.len() - off < n * size {
        return None;
    }
    let vals: Vec<i64> = (0..n)
        .map(|i| {
            let b = &bytes[off + i * size..off + (i + 1) * size];
            if size == 4 {
                i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64
            } else {
                i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            }
        })
        .collect();
    let rows = n / 3;
    if h.fortran_order {
        Some(
            (0..rows)
                .map(|r| [vals[r], vals[rows + r], vals[2 * rows + r]])
                .collect(),
        )
    } else {
        Some(vals.chunks(3).map(|c| [c[0], c[1], c[2]]).collect())
    }
}

/// Result of opening one image as `Image.open(p).convert("RGB")` does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageOpen {
    pub path: String,
    pub ok: bool,
    pub width: u32,
    pub height: u32,
    /// Why it fails (PIL raises), or a note when PIL opens a format not verified here.
    pub error: Option<String>,
}

/// Opens an image in full; fails where PIL fails (unidentified, truncated, a directory).
pub fn open_image(path: &str) -> ImageOpen {
    let mut r = ImageOpen {
        path: path.to_string(),
        ok: false,
        width: 0,
        height: 0,
        error: None,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            r.error = Some(e.to_string());
            return r;
        }
    };
    let fmt = image::guess_format(&bytes);
    match fmt {
        Ok(image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP) => {}
        _ => {
            if let Some(name) = pil_only_format(&bytes) {
                r.ok = true;
                r.error = Some(format!("{name} image: PIL opens it; not decoded here"));
            } else {
                r.error = Some(format!("cannot identify image file {path:?}"));
            }
            return r;
        }
    }
    if fmt.ok() == Some(image::ImageFormat::Jpeg) {
        if let Err(e) = jpeg_complete(&bytes) {
            r.error = Some(e);
            return r;
        }
    }
    match image::load_from_memory(&bytes) {
        Ok(img) => {
            r.ok = true;
            r.width = img.width();
            r.height = img.height();
        }
        Err(e) => r.error = Some(e.to_string()),
    }
    r
}

fn pil_only_format(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("GIF")
    } else if b.starts_with(b"BM") && b.len() > 26 {
        Some("BMP")
    } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        Some("TIFF")
    } else {
        None
    }
}

/// PIL (libjpeg) fails with "image file is truncated" unless the data reaches the EOI
/// marker; the decoder used here would pad a truncated scan silently, so walk the markers.
fn jpeg_complete(b: &[u8]) -> Result<(), String> {
    let trunc = || Err("image file is truncated".to_string());
    if b.len() < 4 || b[0] != 0xFF || b[1] != 0xD8 {
        return Err("not a JPEG".into());
    }
    let mut i = 2;
    loop {
        while i < b.len() && b[i] != 0xFF {
            i += 1;
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        if i >= b.len() {
            return trunc();
        }
        let m = b[i];
        i += 1;
        match m {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {
                if i + 2 > b.len() {
                    return trunc();
                }
                let len = u16::from_be_bytes([b[i], b[i + 1]]) as usize;
                if len < 2 || i + len > b.len() {
                    return trunc();
                }
                i += len;
                if m == 0xDA {
                    // Entropy-coded data until a marker other than stuffing or restart.
                    loop {
                        if i + 1 >= b.len() {
                            return trunc();
                        }
                        if b[i] == 0xFF
                            && b[i + 1] != 0x00
                            && !(0xD0..=0xD7).contains(&b[i + 1])
                            && b[i + 1] != 0xFF
                        {
                            break;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The lookup
// ---------------------------------------------------------------------------------------------

/// Evaluation's verdict for one video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookupStatus {
    /// Offline visuals are used.
    Hit,
    /// `MISS (no assets found)`: frame extraction.
    Miss,
    /// Images were found but none opened: no MISS line, frame extraction all the same.
    SilentMiss,
    /// `LLAVA_CODEC_USE_OFFLINE` is off: nothing is looked up.
    Off,
}

impl LookupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LookupStatus::Hit => "HIT",
            LookupStatus::Miss => "MISS",
            LookupStatus::SilentMiss => "SILENT-MISS",
            LookupStatus::Off => "OFF",
        }
    }

    pub fn is_hit(self) -> bool {
        self == LookupStatus::Hit
    }
}

/// Where a candidate folder came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CandidateSource {
    /// `root/{stem}`.
    StemFolder,
    /// `root` itself (flat layout).
    FlatRoot,
    /// The meta.json index (`via` the meta's video stem or key; `meta_dir` the folder).
    Index { via: Via },
}

/// Why a candidate was not used.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Rejection {
    /// `os.path.exists` is false: never a candidate.
    Missing,
    /// Same string as an earlier candidate.
    Duplicate,
    /// No image matches evaluation's globs.
    NoImages,
    /// An image failed to open (the first failure; evaluation moves on).
    ImagesFailed { image: String, error: String },
    /// An earlier candidate won.
    NotTried,
    /// The path would leave the root (a stem of `..`); not looked at.
    OutsideRoot,
}

/// One candidate folder in evaluation's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub path: String,
    pub source: CandidateSource,
    /// `None` for the chosen folder.
    pub rejected: Option<Rejection>,
    /// The images evaluation's globs took here (already cut to N).
    pub images: Vec<String>,
}

/// Everything the lookup found for one video: plain data for `doctor` and the TUI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LookupResult {
    pub video: String,
    /// `Path(video).stem`, the only thing evaluation looks up.
    pub stem: String,
    pub status: LookupStatus,
    /// Stable code of the reason for a miss (`None` on a hit).
    pub reason: Option<&'static str>,
    /// One-line reason.
    pub message: String,
    /// The folder evaluation chose (also set on a silent miss: the failing folder).
    pub chosen: Option<String>,
    pub candidates: Vec<Candidate>,
    /// Images evaluation loads, in its order (empty unless HIT).
    pub images: Vec<String>,
    /// Every image's open result in the chosen folder (size, errors).
    pub opened: Vec<ImageOpen>,
    pub num_images: usize,
    /// The positions file and what evaluation makes of it (HIT only).
    pub positions: Option<PositionsInfo>,
}

/// Lookup options beyond evaluation's inputs.
#[derive(Debug, Clone, Copy)]
pub struct LookupOptions {
    /// Open images in full (as evaluation does). Without it only the format is sniffed and
    /// truncated files are not noticed.
    pub decode: bool,
}

impl Default for LookupOptions {
    fn default() -> Self {
        LookupOptions { decode: true }
    }
}

/// `_offline_load_visuals_and_positions(video)` with `USE_OFFLINE` on, for `root` (the raw
/// root string as a path) and `num_images` (already `max(1, N)`-ed or not: both work).
pub fn lookup(index: &AssetIndex, root: &Path, video: &str, num_images: usize) -> LookupResult {
    lookup_with(
        index,
        &root.to_string_lossy(),
        video,
        num_images,
        LookupOptions::default(),
    )
}

/// [`lookup`] with options and the root as evaluation's string.
pub fn lookup_with(
    index: &AssetIndex,
    root_raw: &str,
    video: &str,
    num_images: usize,
    opts: LookupOptions,
) -> LookupResult {
    let n = num_images.max(1);
    let stem = py::path_stem(video);
    let mut res = LookupResult {
        video: video.to_string(),
        stem: stem.clone(),
        status: LookupStatus::Miss,
        reason: None,
        message: String::new(),
        chosen: None,
        candidates: vec![],
        images: vec![],
        opened: vec![],
        num_images: n,
        positions: None,
    };
    let root = eval_root(root_raw);
    if root.is_empty() {
        res.reason = Some("root-unset");
        res.message = "no offline root: evaluation builds no candidate folder".into();
        return res;
    }
    // Candidates in evaluation's order: root/{stem}, root, the index's folder.
    let mut cands: Vec<(String, CandidateSource)> = vec![
        (py::join(root, &stem), CandidateSource::StemFolder),
        (root.to_string(), CandidateSource::FlatRoot),
    ];
    if !stem.is_empty() {
        if let Some(claims) = index.usable().then(|| index.claims.get(&stem)).flatten() {
            let c = claims[0];
            let d = &index.metas[c.meta].dir;
            if Path::new(d).exists() {
                cands.push((d.clone(), CandidateSource::Index { via: c.via }));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut live: Vec<usize> = Vec::new();
    for (path, source) in cands {
        let rejected = if stem == ".." && source == CandidateSource::StemFolder {
            Some(Rejection::OutsideRoot)
        } else if !seen.insert(path.clone()) {
            Some(Rejection::Duplicate)
        } else if !Path::new(&path).exists() {
            Some(Rejection::Missing)
        } else {
            None
        };
        if rejected.is_none() {
            live.push(res.candidates.len());
        }
        res.candidates.push(Candidate {
            path,
            source,
            rejected,
            images: vec![],
        });
    }
    let mut chosen: Option<usize> = None;
    let mut won = false;
    // The winning candidate's entry names, when it was listed here.
    let mut listing: Option<Vec<String>> = None;
    for &ci in &live {
        if won {
            res.candidates[ci].rejected = Some(Rejection::NotTried);
            continue;
        }
        listing = None;
        let imgs = if res.candidates[ci].source == CandidateSource::FlatRoot
            && index.root == root
            && !index.dirs.is_empty()
        {
            index.root_images.iter().take(n).cloned().collect()
        } else {
            let path = &res.candidates[ci].path;
            if py::has_magic(path) {
                eval_images(path, n)
            } else {
                let names = py::listdir(path, false);
                let mut l = image_list_from_names(path, &names);
                l.truncate(n);
                listing = Some(names);
                l
            }
        };
        res.candidates[ci].images = imgs.clone();
        if imgs.is_empty() {
            res.candidates[ci].rejected = Some(Rejection::NoImages);
            continue;
        }
        chosen = Some(ci);
        let mut opened = Vec::with_capacity(imgs.len());
        let mut failure = None;
        for p in &imgs {
            let o = if opts.decode {
                open_image(p)
            } else {
                sniff_image(p)
            };
            let bad = !o.ok;
            if bad && failure.is_none() {
                failure = Some((p.clone(), o.error.clone().unwrap_or_default()));
            }
            opened.push(o);
            if bad {
                break;
            }
        }
        res.opened = opened;
        if let Some((image, error)) = failure {
            res.candidates[ci].rejected = Some(Rejection::ImagesFailed { image, error });
            continue;
        }
        won = true;
    }
    if let Some(ci) = chosen {
        res.chosen = Some(res.candidates[ci].path.clone());
    }
    if won {
        let ci = chosen.expect("won implies chosen");
        let dir = res.candidates[ci].path.clone();
        res.status = LookupStatus::Hit;
        res.images = res.candidates[ci].images.clone();
        let file = match (&listing, py::has_magic(&dir)) {
            (Some(names), false) => positions_file_from_names(&dir, names),
            _ => eval_positions_file(&dir),
        };
        res.positions = file.map(|p| eval_positions(&p));
        res.message = match &res.candidates[ci].source {
            CandidateSource::StemFolder => format!("HIT {dir} (root/{stem})"),
            CandidateSource::FlatRoot => {
                format!("HIT {dir}: the root itself (flat layout; every video gets these images)")
            }
            CandidateSource::Index { via } => format!(
                "HIT {dir} through the meta.json index ({} {stem:?})",
                if *via == Via::Stem {
                    "video stem"
                } else {
                    "key"
                }
            ),
        };
        return res;
    }
    if let Some(ci) = chosen {
        // Images were found but none of the candidates opened: the failing folder comes back
        // without visuals and no MISS line is printed.
        res.status = LookupStatus::SilentMiss;
        res.reason = Some("images-unreadable");
        let (img, err) = res
            .candidates
            .iter()
            .rev()
            .find_map(|c| match &c.rejected {
                Some(Rejection::ImagesFailed { image, error }) => {
                    Some((image.clone(), error.clone()))
                }
                _ => None,
            })
            .unwrap_or_default();
        res.message = format!(
            "silent MISS: {} has images but {} fails to open ({err}); evaluation prints no MISS and extracts frames",
            res.candidates[ci].path,
            py::basename(&img)
        );
        res.opened.retain(|o| !o.path.is_empty());
        return res;
    }
    res.status = LookupStatus::Miss;
    let existing: Vec<&Candidate> = res
        .candidates
        .iter()
        .filter(|c| c.rejected == Some(Rejection::NoImages))
        .collect();
    let only_root = existing
        .iter()
        .all(|c| c.source == CandidateSource::FlatRoot);
    if res
        .candidates
        .iter()
        .any(|c| c.rejected == Some(Rejection::OutsideRoot))
        && existing.len() <= 1
        && only_root
    {
        res.reason = Some("stem-outside-root");
        res.message =
            format!("the stem {stem:?} would make evaluation look outside the root; not looked at");
    } else if (existing.is_empty() || only_root)
        && !index.usable()
        && index.claims.contains_key(&stem)
    {
        res.reason = Some("index-unusable");
        res.message = format!(
            "a meta.json names {stem:?}, but a meta.json that is not a JSON object makes evaluation's index build \
             raise, so it has no index"
        );
    } else if existing.is_empty() || only_root {
        res.reason = Some("not-found");
        res.message = format!("no folder for stem {stem:?}: neither root/{stem} nor a meta.json video/key of that name");
    } else {
        let c = existing
            .iter()
            .find(|c| c.source != CandidateSource::FlatRoot)
            .expect("non-root candidate");
        let has_err = Path::new(&py::join(&c.path, "error.json")).exists();
        if py::has_magic(&c.path) && !eval_image_list_literal(&c.path).is_empty() {
            res.reason = Some("glob-magic");
            res.message = format!(
                "{} holds images, but its path contains glob characters (*, ? or [) and evaluation's glob.glob \
                 reads them as a pattern, so it finds none there",
                c.path
            );
        } else if has_err {
            res.reason = Some("error-json");
            res.message = format!(
                "{} holds error.json and no image: precompute failed for this video",
                c.path
            );
        } else {
            res.reason = Some("no-images");
            res.message = format!(
                "{} exists but holds no image evaluation's globs match",
                c.path
            );
        }
        res.chosen = None;
    }
    res
}

/// Format check without decoding (for fast scans; truncation is not noticed).
pub fn sniff_image(path: &str) -> ImageOpen {
    let mut r = ImageOpen {
        path: path.to_string(),
        ok: false,
        width: 0,
        height: 0,
        error: None,
    };
    use std::io::Read;
    let mut buf = [0u8; 32];
    let n = match std::fs::File::open(path).and_then(|mut f| f.read(&mut buf)) {
        Ok(n) => n,
        Err(e) => {
            r.error = Some(e.to_string());
            return r;
        }
    };
    let b = &buf[..n];
    if image::guess_format(b).is_ok() || pil_only_format(b).is_some() {
        r.ok = true;
    } else {
        r.error = Some(format!("cannot identify image file {path:?}"));
    }
    r
}

/// A video's stem in evaluation's sense.
pub fn video_stem(video: &str) -> String {
    py::path_stem(video)
}

/// Finding for a missing/failed index build, if any.
pub fn index_findings(index: &AssetIndex) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(i) = index.crashed_at {
        out.push(
            Finding::new(
                Severity::Error,
                "meta-not-object",
                py::join(&index.metas[i].dir, "meta.json"),
                "meta.json is valid JSON but not an object: evaluation's index build raises, so it has no \
                 meta.json index at all (and walks the root again for every video)",
            )
            .with_hint("rewrite this meta.json as the JSON object precompute writes, or remove it"),
        );
    }
    out
}

/// Resolve a list of root-relative folder names to a path inside the root only.
pub fn inside_root(root: &str, name: &str) -> Option<PathBuf> {
    crate::formats::naming::check_component(name).ok()?;
    Some(PathBuf::from(py::join(root, name)))
}

pub mod py {
    //! The few Python standard-library behaviours evaluation's lookup depends on, rebuilt
    //! exactly: `os.path.join`/`split`, `pathlib` stems, `glob.glob` (non-recursive, hidden
    //! names skipped, case-sensitive `fnmatch`), `int()` of an environment string, `str()` and
    //! truthiness of JSON values, `json.load` (which accepts `NaN` and `Infinity`), and the
    //! natural-sort key of `_find_offline_images`.
    use std::path::Path;

    use serde_json::Value;

    use crate::formats::naming;

    /// `os.path.join(a, b)` for POSIX strings.
    pub fn join(a: &str, b: &str) -> String {
        if b.starts_with('/') {
            b.to_string()
        } else if a.is_empty() || a.ends_with('/') {
            format!("{a}{b}")
        } else {
            format!("{a}/{b}")
        }
    }

    /// `os.path.split(p)`: the head loses its trailing slashes unless it is all slashes.
    pub fn split(p: &str) -> (String, String) {
        let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (head, tail) = (&p[..i], &p[i..]);
        let trimmed = head.trim_end_matches('/');
        let head = if trimmed.is_empty() { head } else { trimmed };
        (head.to_string(), tail.to_string())
    }

    /// `os.path.basename(p)`.
    pub fn basename(p: &str) -> &str {
        p.rsplit('/').next().unwrap_or(p)
    }

    /// `pathlib.Path(s).stem`, as evaluation derives the lookup name of a video.
    pub fn path_stem(s: &str) -> String {
        naming::stem(&naming::pathlib_normalise(s)).to_string()
    }

    /// Python `int(s)` of a decimal string: surrounding whitespace, one sign, digits with single
    /// underscores between them. `None` where Python raises `ValueError`.
    pub fn py_int(s: &str) -> Option<i64> {
        let t = s.trim_matches(|c: char| c.is_whitespace());
        let (neg, digits) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        if digits.is_empty()
            || digits.starts_with('_')
            || digits.ends_with('_')
            || digits.contains("__")
        {
            return None;
        }
        if !digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return None;
        }
        let clean: String = digits.chars().filter(|c| *c != '_').collect();
        // Values beyond i64 are clamped: only `max(1, n)` matters downstream.
        let v = clean.parse::<i64>().unwrap_or(i64::MAX);
        Some(if neg { -v } else { v })
    }

    /// Python truthiness of a JSON value.
    pub fn truthy(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().map(|f| f != 0.0).unwrap_or(true),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        }
    }

    /// Python `str()` of a value `json.load` produced.
    pub fn py_str(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => py_repr(other),
        }
    }

    fn py_float(f: f64) -> String {
        if f.is_nan() {
            "nan".into()
        } else if f.is_infinite() {
            if f > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            }
        } else if f.fract() == 0.0 && f.abs() < 1e16 {
            format!("{f:.1}")
        } else {
            let s = format!("{f:e}");
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let exp: i32 = e.parse().unwrap_or(0);
            if (-4..16).contains(&exp) {
                format!("{f}")
            } else {
                format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
            }
        }
    }

    fn py_repr(v: &Value) -> String {
        match v {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Number(n) => {
                if n.is_i64() || n.is_u64() {
                    n.to_string()
                } else {
                    py_float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => {
                let q = if s.contains('\'') && !s.contains('"') {
                    '"'
                } else {
                    '\''
                };
                let mut out = String::new();
                out.push(q);
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if c == q => {
                            out.push('\\');
                            out.push(c);
                        }
                        c => out.push(c),
                    }
                }
                out.push(q);
                out
            }
            Value::Array(a) => {
                format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", "))
            }
            Value::Object(o) => format!(
                "{{{}}}",
                o.iter()
                    .map(|(k, v)| format!("{}: {}", py_repr(&Value::String(k.clone())), py_repr(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// `json.load` of a file opened as UTF-8: invalid UTF-8 fails; `NaN`, `Infinity` and
    /// `-Infinity` are accepted (read as null here, which no lookup field depends on).
    pub fn py_json_load(bytes: &[u8]) -> Result<Value, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
        match serde_json::from_str::<Value>(text) {
            Ok(v) => Ok(v),
            Err(e) => {
                let patched = replace_nonfinite(text);
                match patched {
                    Some(p) => serde_json::from_str::<Value>(&p).map_err(|_| e.to_string()),
                    None => Err(e.to_string()),
                }
            }
        }
    }

    fn replace_nonfinite(text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut in_str = false;
        let mut esc = false;
        let mut changed = false;
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if in_str {
                out.push(c);
                if esc {
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else if c == '"' {
                    in_str = false;
                }
                rest = &rest[c.len_utf8()..];
                continue;
            }
            if c == '"' {
                in_str = true;
                out.push(c);
                rest = &rest[1..];
                continue;
            }
            let mut matched = false;
            for tok in ["-Infinity", "Infinity", "NaN"] {
                if rest.starts_with(tok) {
                    out.push_str("null");
                    rest = &rest[tok.len()..];
                    changed = true;
                    matched = true;
                    break;
                }
            }
            if !matched {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        changed.then_some(out)
    }

    /// `glob.has_magic`.
    pub fn has_magic(s: &str) -> bool {
        s.contains(['*', '?', '['])
    }

    /// `fnmatch.fnmatchcase(name, pat)` (POSIX: case-sensitive).
    pub fn fnmatch(name: &str, pat: &str) -> bool {
        let n: Vec<char> = name.chars().collect();
        let p = compile(pat);
        match_from(&n, 0, &p, 0)
    }

    #[derive(Debug)]
    enum Tok {
        Lit(char),
        Any,
        Star,
        Set {
            neg: bool,
            items: Vec<(char, char)>,
            never: bool,
        },
    }

    fn compile(pat: &str) -> Vec<Tok> {
        let p: Vec<char> = pat.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < p.len() {
            let c = p[i];
            i += 1;
            match c {
                '*' => {
                    if !matches!(out.last(), Some(Tok::Star)) {
                        out.push(Tok::Star)
                    }
                }
                '?' => out.push(Tok::Any),
                '[' => {
                    let mut j = i;
                    if j < p.len() && p[j] == '!' {
                        j += 1;
                    }
                    if j < p.len() && p[j] == ']' {
                        j += 1;
                    }
                    while j < p.len() && p[j] != ']' {
                        j += 1;
                    }
                    if j >= p.len() {
                        out.push(Tok::Lit('['));
                    } else {
                        let stuff: Vec<char> = p[i..j].to_vec();
                        i = j + 1;
                        let (neg, body) = if stuff.first() == Some(&'!') {
                            (true, &stuff[1..])
                        } else {
                            (false, &stuff[..])
                        };
                        let mut items = Vec::new();
                        let mut k = 0;
                        while k < body.len() {
                            if k + 2 < body.len() && body[k + 1] == '-' {
                                items.push((body[k], body[k + 2]));
                                k += 3;
                            } else {
                                items.push((body[k], body[k]));
                                k += 1;
                            }
                        }
                        let never = stuff.is_empty() || (!neg && items.iter().all(|(a, b)| a > b));
                        items.retain(|(a, b)| a <= b);
                        out.push(Tok::Set { neg, items, never });
                    }
                }
                c => out.push(Tok::Lit(c)),
            }
        }
        out
    }

    fn match_from(n: &[char], ni: usize, p: &[Tok], pi: usize) -> bool {
        if pi == p.len() {
            return ni == n.len();
        }
        match &p[pi] {
            Tok::Star => (ni..=n.len()).any(|k| match_from(n, k, p, pi + 1)),
            tok => {
                if ni >= n.len() {
                    return false;
                }
                let c = n[ni];
                let ok = match tok {
                    Tok::Lit(l) => *l == c,
                    Tok::Any => true,
                    Tok::Set { neg, items, never } => {
                        if *never {
                            false
                        } else {
                            let inside = items.iter().any(|(a, b)| *a <= c && c <= *b);
                            inside != *neg
                        }
                    }
                    Tok::Star => unreachable!(),
                };
                ok && match_from(n, ni + 1, p, pi + 1)
            }
        }
    }

    /// Entry names of a directory in listing order (`os.scandir`), optionally directories only
    /// (`entry.is_dir()` follows symlinks). An unreadable directory lists nothing.
    pub fn listdir(dir: &str, dironly: bool) -> Vec<String> {
        let d = if dir.is_empty() { "." } else { dir };
        let Ok(rd) = std::fs::read_dir(d) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in rd.flatten() {
            if dironly {
                let is_dir = match e.file_type() {
                    Ok(ft) if ft.is_symlink() => e.path().is_dir(),
                    Ok(ft) => ft.is_dir(),
                    Err(_) => false,
                };
                if !is_dir {
                    continue;
                }
            }
            out.push(e.file_name().to_string_lossy().into_owned());
        }
        out
    }

    /// `glob` filtering of already listed names: hidden names skipped unless the pattern is hidden.
    pub fn filter_names<'a>(names: &'a [String], pattern: &str) -> Vec<&'a String> {
        let hidden_ok = pattern.starts_with('.');
        let p = compile(pattern);
        names
            .iter()
            .filter(|n| {
                (hidden_ok || !n.starts_with('.')) && {
                    let c: Vec<char> = n.chars().collect();
                    match_from(&c, 0, &p, 0)
                }
            })
            .collect()
    }

    /// `glob.glob(pathname)` (non-recursive), results in Python's order.
    pub fn glob(pathname: &str) -> Vec<String> {
        iglob(pathname, false)
    }

    fn iglob(pathname: &str, dironly: bool) -> Vec<String> {
        let (dirname, base) = split(pathname);
        if !has_magic(pathname) {
            if !base.is_empty() {
                if std::fs::symlink_metadata(pathname).is_ok() {
                    return vec![pathname.to_string()];
                }
            } else if Path::new(if dirname.is_empty() { "." } else { &dirname }).is_dir() {
                return vec![pathname.to_string()];
            }
            return Vec::new();
        }
        if dirname.is_empty() {
            return glob_in_dir("", &base, dironly);
        }
        let dirs = if dirname != pathname && has_magic(&dirname) {
            iglob(&dirname, true)
        } else {
            vec![dirname]
        };
        let mut out = Vec::new();
        for d in dirs {
            for name in glob_in_dir(&d, &base, dironly) {
                out.push(join(&d, &name));
            }
        }
        out
    }

    fn glob_in_dir(dir: &str, base: &str, dironly: bool) -> Vec<String> {
        if has_magic(base) {
            let names = listdir(dir, dironly);
            filter_names(&names, base).into_iter().cloned().collect()
        } else if !base.is_empty() {
            let p = join(if dir.is_empty() { "." } else { dir }, base);
            if std::fs::symlink_metadata(&p).is_ok() {
                vec![base.to_string()]
            } else {
                Vec::new()
            }
        } else if Path::new(if dir.is_empty() { "." } else { dir }).is_dir() {
            vec![base.to_string()]
        } else {
            Vec::new()
        }
    }

    /// One part of evaluation's natural-sort key: `re.split(r"(\d+)", name)` with digit runs as
    /// integers. Parts alternate text, number, text, ... so a comparison never mixes types.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum NatPart {
        Text(String),
        /// Digits with leading zeros removed (compared by length, then text).
        Num(String),
    }

    fn nat_key(name: &str) -> Vec<NatPart> {
        let mut parts = Vec::new();
        let mut cur = String::new();
        let mut in_num = false;
        for c in name.chars() {
            let d = c.is_ascii_digit();
            if d != in_num {
                parts.push(if in_num {
                    num_part(&cur)
                } else {
                    NatPart::Text(cur.clone())
                });
                cur.clear();
                in_num = d;
            }
            cur.push(c);
        }
        parts.push(if in_num {
            num_part(&cur)
        } else {
            NatPart::Text(cur)
        });
        if in_num {
            parts.push(NatPart::Text(String::new()));
        }
        parts
    }

    fn num_part(s: &str) -> NatPart {
        let t = s.trim_start_matches('0');
        NatPart::Num(t.to_string())
    }

    fn cmp_part(a: &NatPart, b: &NatPart) -> std::cmp::Ordering {
        match (a, b) {
            (NatPart::Text(x), NatPart::Text(y)) => x.cmp(y),
            (NatPart::Num(x), NatPart::Num(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
            // Cannot happen: both keys alternate the same way.
            (NatPart::Text(_), NatPart::Num(_)) => std::cmp::Ordering::Less,
            (NatPart::Num(_), NatPart::Text(_)) => std::cmp::Ordering::Greater,
        }
    }

    /// Evaluation's `_nat_key` comparison of two base names (Python list comparison).
    pub fn eval_nat_cmp(a: &str, b: &str) -> std::cmp::Ordering {
        let (ka, kb) = (nat_key(a), nat_key(b));
        for (x, y) in ka.iter().zip(kb.iter()) {
            let o = cmp_part(x, y);
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        ka.len().cmp(&kb.len())
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::cmp::Ordering;

        #[test]
        fn joins_and_splits() {
            assert_eq!(join("/r", "a"), "/r/a");
            assert_eq!(join("/r/", "a"), "/r/a");
            assert_eq!(join("/r", ""), "/r/");
            assert_eq!(join("/r", "/abs"), "/abs");
            assert_eq!(split("/a/b/c*.jpg"), ("/a/b".into(), "c*.jpg".into()));
            assert_eq!(split("/x"), ("/".into(), "x".into()));
            assert_eq!(split("x"), ("".into(), "x".into()));
            assert_eq!(split("a//b"), ("a".into(), "b".into()));
        }

        #[test]
        fn stems_like_pathlib() {
            assert_eq!(path_stem("videos/ytb_X.mp4"), "ytb_X");
            assert_eq!(path_stem("a/."), "a");
            assert_eq!(path_stem(".."), "..");
            assert_eq!(path_stem("/"), "");
            assert_eq!(path_stem("x.mp4.mp4"), "x.mp4");
        }

        #[test]
        fn ints() {
            assert_eq!(py_int(" 8 "), Some(8));
            assert_eq!(py_int("+8"), Some(8));
            assert_eq!(py_int("1_0"), Some(10));
            assert_eq!(py_int("-3"), Some(-3));
            assert_eq!(py_int("8.0"), None);
            assert_eq!(py_int(""), None);
            assert_eq!(py_int("_1"), None);
        }

        #[test]
        fn strs() {
            assert_eq!(py_str(&serde_json::json!(5)), "5");
            assert_eq!(py_str(&serde_json::json!(5.0)), "5.0");
            assert_eq!(py_str(&serde_json::json!(true)), "True");
            assert_eq!(py_str(&serde_json::json!(["a", 1])), "['a', 1]");
            assert!(!truthy(&serde_json::json!("")));
            assert!(!truthy(&serde_json::json!(0)));
        }

        #[test]
        fn json_nan() {
            let v = py_json_load(br#"{"a": NaN, "s": "NaN", "b": -Infinity}"#).unwrap();
            assert_eq!(v["s"], "NaN");
            assert!(v["a"].is_null());
            assert!(py_json_load(b"{\"a\": \xff}").is_err());
        }

        #[test]
        fn fnmatch_rules() {
            assert!(fnmatch("mosaic_000.jpg", "mosaic*.jpg"));
            assert!(!fnmatch("mosaic_000.JPG", "*.jpg"));
            assert!(fnmatch("video1", "video[1]"));
            assert!(!fnmatch("video[1]", "video[1]"));
            assert!(fnmatch("a[b", "a[b"));
            assert!(fnmatch("ab", "a[!c]"));
            assert!(!fnmatch("ac", "a[!c]"));
            assert!(fnmatch("a5", "a[0-9]"));
            assert!(fnmatch("x.jpg", "*.jpg"));
            assert!(!fnmatch("x.jpgx", "*.jpg"));
        }

        #[test]
        fn natural_key_like_python() {
            assert_eq!(
                eval_nat_cmp("0_preview.png", "mosaic_000.jpg"),
                Ordering::Less
            );
            assert_eq!(
                eval_nat_cmp("mosaic_2.jpg", "mosaic_010.jpg"),
                Ordering::Less
            );
            assert_eq!(
                eval_nat_cmp("mosaic_1.jpg", "mosaic_01.jpg"),
                Ordering::Equal
            );
            // Whole text parts compare: 'a' < 'a!' although '!' < '1'.
            assert_eq!(eval_nat_cmp("a1", "a!"), Ordering::Less);
            assert_eq!(eval_nat_cmp("B.jpg", "a.jpg"), Ordering::Less);
            assert_eq!(
                eval_nat_cmp("mosaic_000.jpg", "mosaic_000.tmp.jpg"),
                Ordering::Less
            );
        }
    }
}
