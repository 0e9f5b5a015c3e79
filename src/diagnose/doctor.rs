//! `doctor`: per-video verdicts of evaluation's offline lookup, why a video MISSes and how
//! to fix it (nearest keys and stems), what is wrong inside a HIT folder, evaluation's own
//! verdict from its log beside ours, and a summary.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::asset_root::{self as ar};
use super::eval_log::{EvalLog, LogVerdict, VideoLog};
use super::eval_lookup::{
    self as el, py, AssetIndex, CandidateSource, DirListing, LookupOptions, LookupResult,
    LookupStatus, Rejection,
};
use super::finding::{Finding, Severity};

/// One video to diagnose, with the precompute key when the input JSONL gave one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoInput {
    pub video: String,
    pub key: Option<String>,
}

/// How doctor emulates evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorConfig {
    /// The root string as evaluation gets it (`None`: unset).
    pub root: Option<String>,
    /// `LLAVA_CODEC_USE_OFFLINE` on (otherwise nothing is looked up).
    pub use_offline: bool,
    /// `max(1, LLAVA_CODEC_NUM_IMAGES)`.
    pub num_images: usize,
    /// Open images in full, as evaluation does.
    pub decode: bool,
    /// `--expect` asset parameters.
    pub expect: Vec<(String, Value)>,
    /// Also report every asset folder of the root (not only those the videos use).
    pub all_folders: bool,
}

/// A name in the root close to a stem that was not found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub name: String,
    /// The folder the name leads to.
    pub folder: String,
    /// How it differs from the stem evaluation looks up.
    pub relation: String,
}

/// Evaluation's verdict from its log beside ours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub eval: LogVerdict,
    pub agrees: bool,
    pub note: String,
    pub log: VideoLog,
}

/// Everything doctor says about one video.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoReport {
    pub video: String,
    pub key: Option<String>,
    pub lookup: LookupResult,
    pub findings: Vec<Finding>,
    pub fix: Option<String>,
    pub suggestions: Vec<Suggestion>,
    pub eval_log: Option<Agreement>,
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub videos: usize,
    pub hits: usize,
    pub misses: usize,
    pub silent_misses: usize,
    pub off: usize,
    /// Miss reasons with counts, most frequent first.
    pub reasons: Vec<(String, usize)>,
    /// Findings (root and videos) by severity after `--strict`.
    pub errors: usize,
    pub warnings: usize,
    /// Findings by code with counts, most frequent first.
    pub finding_codes: Vec<(String, usize)>,
    pub disagreements: usize,
    pub index_metas: usize,
    pub index_entries: usize,
    pub index_dirs: usize,
    pub walk_ms: u128,
}

/// The whole diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub config: DoctorConfig,
    pub root_findings: Vec<Finding>,
    pub videos: Vec<VideoReport>,
    pub summary: Summary,
}

impl DoctorReport {
    /// SPEC 5: 1 when any video misses (silent ones included), when the root is no directory,
    /// or, with `strict`, when any finding is a warning or an error; else 0.
    pub fn exit_code(&self, strict: bool) -> u8 {
        let miss = self.videos.iter().any(|v| !v.lookup.status.is_hit());
        let root_broken = self
            .root_findings
            .iter()
            .any(|f| f.code.starts_with("root-") && f.severity == Severity::Error);
        let strict_fail = strict && (self.summary.errors > 0 || self.summary.warnings > 0);
        u8::from(miss || root_broken || strict_fail)
    }
}

/// Diagnoses `videos` against the root in `cfg`, building the index once; `log` adds
/// evaluation's own verdicts. Findings are promoted to errors with `strict`.
pub fn run_doctor(
    cfg: &DoctorConfig,
    videos: &[VideoInput],
    log: Option<&EvalLog>,
    strict: bool,
) -> DoctorReport {
    let index = index_for(cfg);
    run_doctor_with_index(cfg, &index, videos, log, strict)
}

fn root_scan(index: &AssetIndex, cfg: &DoctorConfig) -> Vec<Finding> {
    if cfg.all_folders {
        ar::root_findings_with_index(index, cfg.num_images)
    } else {
        ar::root_level_findings(index, cfg.num_images)
    }
}

/// Whether the root in `cfg` is walked at all (offline on, the root a directory).
pub fn root_usable(cfg: &DoctorConfig) -> bool {
    let root_raw = cfg.root.clone().unwrap_or_default();
    cfg.use_offline
        && el::root_problem(&root_raw)
            .map(|p| p.code == "root-glob-magic")
            .unwrap_or(true)
}

/// The index evaluation would build for `cfg` (empty when nothing is walked).
pub fn index_for(cfg: &DoctorConfig) -> AssetIndex {
    let root_raw = cfg.root.clone().unwrap_or_default();
    if root_usable(cfg) {
        AssetIndex::build(&root_raw)
    } else {
        AssetIndex::empty(el::eval_root(&root_raw))
    }
}

/// Videos named by the root's meta.json files (video, else key), in walk order: what to
/// diagnose when no video is given.
pub fn videos_in_index(index: &AssetIndex) -> Vec<VideoInput> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in &index.metas {
        let v = m.video.clone().or_else(|| m.key.clone());
        if let Some(v) = v {
            if seen.insert(v.clone()) {
                out.push(VideoInput {
                    video: v,
                    key: m.key.clone(),
                });
            }
        }
    }
    out
}

/// [`run_doctor`] on an index already built.
pub fn run_doctor_with_index(
    cfg: &DoctorConfig,
    index: &AssetIndex,
    videos: &[VideoInput],
    log: Option<&EvalLog>,
    strict: bool,
) -> DoctorReport {
    let root_raw = cfg.root.clone().unwrap_or_default();
    let root_problem = el::root_problem(&root_raw);
    let usable_root = root_usable(cfg);
    let mut root_findings = Vec::new();
    if !cfg.use_offline {
        root_findings.push(
            Finding::error(
                "offline-disabled",
                "LLAVA_CODEC_USE_OFFLINE",
                "LLAVA_CODEC_USE_OFFLINE is not 1/true/True/YES/yes: evaluation looks nothing up and extracts frames for every video",
            )
            .with_hint("export LLAVA_CODEC_USE_OFFLINE=1"),
        );
    } else if let Some(p) = &root_problem {
        root_findings.push(ar::root_problem_finding(&root_raw, p));
        if p.code == "root-glob-magic" {
            root_findings.extend(
                root_scan(index, cfg)
                    .into_iter()
                    .filter(|f| f.code != p.code),
            );
        }
    } else {
        root_findings.extend(root_scan(index, cfg));
    }
    if usable_root && !cfg.expect.is_empty() {
        root_findings.extend(ar::expect_findings(index, &cfg.expect));
    }
    if let Some(l) = log {
        for (r, n) in &l.index_builds {
            if el::eval_root(r) == index.root && *n != index.eval_entries() && usable_root {
                root_findings.push(Finding::warning(
                    "log-index-entries",
                    r.clone(),
                    format!(
                        "evaluation's log says its meta.json index had {n} entries; the root has {} now (assets \
                         changed since, or another file system listing)",
                        index.eval_entries()
                    ),
                ));
            }
        }
    }
    let suggest = SuggestIndex::new(index);
    let opts = LookupOptions { decode: cfg.decode };
    let out_root = ar::out_root_finding(index).is_some();
    let allow_edit = videos.len().saturating_mul(suggest.names.len()) <= 50_000_000;
    let mut reports: Vec<VideoReport> = el::io_pool().install(|| {
        videos
            .par_iter()
            .map(|v| {
                diagnose_video(
                    cfg,
                    &root_raw,
                    index,
                    &suggest,
                    v,
                    opts,
                    root_problem.as_ref(),
                    out_root,
                    allow_edit,
                )
            })
            .collect()
    });
    if let Some(l) = log {
        for r in &mut reports {
            if let Some(vl) = l.get(&r.video) {
                r.eval_log = Some(compare(r, vl));
            }
        }
    }
    if strict {
        for f in root_findings
            .iter_mut()
            .chain(reports.iter_mut().flat_map(|r| r.findings.iter_mut()))
        {
            if f.severity == Severity::Warning {
                f.severity = Severity::Error;
            }
        }
    }
    let summary = summarise(&root_findings, &reports, index);
    DoctorReport {
        config: cfg.clone(),
        root_findings,
        videos: reports,
        summary,
    }
}

#[allow(clippy::too_many_arguments)]
fn diagnose_video(
    cfg: &DoctorConfig,
    root_raw: &str,
    index: &AssetIndex,
    suggest: &SuggestIndex,
    v: &VideoInput,
    opts: LookupOptions,
    root_problem: Option<&el::RootProblem>,
    out_root: bool,
    allow_edit: bool,
) -> VideoReport {
    let n = cfg.num_images;
    let mut report = VideoReport {
        video: v.video.clone(),
        key: v.key.clone(),
        lookup: LookupResult {
            video: v.video.clone(),
            stem: el::video_stem(&v.video),
            status: LookupStatus::Off,
            reason: None,
            message: String::new(),
            chosen: None,
            candidates: vec![],
            images: vec![],
            opened: vec![],
            num_images: n,
            positions: None,
        },
        findings: vec![],
        fix: None,
        suggestions: vec![],
        eval_log: None,
    };
    if !cfg.use_offline {
        report.lookup.status = LookupStatus::Off;
        report.lookup.reason = Some("offline-disabled");
        report.lookup.message =
            "LLAVA_CODEC_USE_OFFLINE is off: nothing is looked up, frames are extracted".into();
        report.fix = Some("export LLAVA_CODEC_USE_OFFLINE=1".into());
        return report;
    }
    let lr = el::lookup_with(index, root_raw, &v.video, n, opts);
    report.lookup = lr;
    let stem = report.lookup.stem.clone();
    if let Some(p) = root_problem.filter(|p| p.code != "root-glob-magic") {
        if !report.lookup.status.is_hit() {
            report.lookup.reason = Some(p.code);
            report.lookup.message = p.message.clone();
            report.fix = Some(p.hint.clone());
            return report;
        }
    }
    match report.lookup.status {
        LookupStatus::Hit => hit_findings(cfg, index, &mut report, out_root),
        _ => {
            let reason = report.lookup.reason.unwrap_or("not-found");
            report.findings.push(Finding::error(
                reason,
                v.video.clone(),
                report.lookup.message.clone(),
            ));
            if matches!(
                reason,
                "not-found" | "no-images" | "error-json" | "index-unusable"
            ) {
                report.suggestions = suggest.nearest(&stem, v.key.as_deref(), index, allow_edit);
            }
            report.fix = Some(miss_fix(&report, index));
            if let Some(f) = report.findings.last_mut() {
                f.hint = report.fix.clone().unwrap_or_default();
            }
        }
    }
    report
}

fn listing_of(dir: &str) -> DirListing {
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = match e.file_type() {
                Ok(ft) if ft.is_symlink() => e.path().is_dir(),
                Ok(ft) => ft.is_dir(),
                Err(_) => false,
            };
            if is_dir {
                subdirs.push(name);
            } else {
                files.push(name);
            }
        }
    }
    DirListing {
        dir: dir.to_string(),
        depth: 1,
        files,
        subdirs,
        entries: vec![],
    }
}

fn hit_findings(cfg: &DoctorConfig, index: &AssetIndex, report: &mut VideoReport, out_root: bool) {
    let lr = &report.lookup;
    let chosen = lr.chosen.clone().unwrap_or_default();
    let stem = lr.stem.clone();
    let mut out = Vec::new();
    let src = lr
        .candidates
        .iter()
        .find(|c| c.path == chosen)
        .map(|c| c.source.clone());
    if src == Some(CandidateSource::FlatRoot) {
        out.push(
            Finding::warning(
                "hit-flat-root",
                chosen.clone(),
                "HIT on the root itself: images lie directly in the root, so every video without its own folder \
                 gets these same images",
            )
            .with_hint("move the images into assets/<key>/ folders; an empty precompute `key` writes them into assets/"),
        );
    }
    for c in &lr.candidates {
        if let Some(Rejection::ImagesFailed { image, error }) = &c.rejected {
            out.push(Finding::warning(
                "candidate-skipped",
                image.clone(),
                format!(
                    "evaluation skipped {} ({} fails: {error}) and used {chosen}",
                    c.path,
                    py::basename(image)
                ),
            ));
        }
    }
    if matches!(src, Some(CandidateSource::Index { .. })) && out_root {
        out.push(
            Finding::warning(
                "root-is-out-root",
                chosen.clone(),
                format!(
                    "found only through the meta.json index because the root is the precompute out_root ({} folders \
                     walked); a stale copy under the root could win",
                    index.dirs.len()
                ),
            )
            .with_hint(format!("export LLAVA_CODEC_OFFLINE_ROOT={}", py::join(&index.root, "assets"))),
        );
    }
    if let Some(claims) = index.claims.get(&stem) {
        let dirs: Vec<&str> = claims
            .iter()
            .map(|c| index.metas[c.meta].dir.as_str())
            .collect();
        let first = dirs[0];
        let mut shadowed: Vec<&str> = dirs.iter().copied().filter(|d| *d != first).collect();
        shadowed.dedup();
        if !shadowed.is_empty() {
            let used_index = matches!(src, Some(CandidateSource::Index { .. }));
            out.push(
                Finding::warning(
                    "duplicate-name",
                    first.to_string(),
                    format!(
                        "{} folders claim {stem:?}: the index maps it to {first} (first in walk order), shadowing {}{}",
                        shadowed.len() + 1,
                        shadowed.join(", "),
                        if used_index { "" } else { "; evaluation used another candidate before the index" }
                    ),
                )
                .with_hint("remove stale copies from the root"),
            );
        }
    }
    if py::has_magic(&chosen) {
        out.push(Finding::warning(
            "glob-magic",
            chosen.clone(),
            "the folder path contains glob characters: evaluation's glob matched images elsewhere or partly",
        ));
    }
    let listing = listing_of(&chosen);
    let folder_cfg = ar::folder_cfg(&chosen);
    out.extend(ar::listing_findings(
        &listing,
        cfg.num_images,
        true,
        folder_cfg.as_ref(),
        Some(lr.positions.as_ref()),
    ));
    let square = Some(
        folder_cfg
            .as_ref()
            .and_then(|c| c.get("square_size"))
            .and_then(|v| v.as_u64())
            .unwrap_or(576) as u32,
    );
    for o in &lr.opened {
        out.extend(ar::image_findings(o, square));
    }
    if !cfg.expect.is_empty() {
        let mism = ar::cfg_mismatches(folder_cfg.as_ref(), &cfg.expect);
        if !mism.is_empty() {
            let desc: Vec<String> = mism
                .iter()
                .map(|(k, want, got)| {
                    format!(
                        "{k}={} (expected {want})",
                        got.clone().unwrap_or_else(|| "not recorded".into())
                    )
                })
                .collect();
            out.push(
                Finding::error(
                    "config-mismatch",
                    py::join(&chosen, "meta.json"),
                    format!(
                        "assets were made with {}: evaluation never checks",
                        desc.join(", ")
                    ),
                )
                .with_hint("re-run precompute with the expected parameters (--overwrite)"),
            );
        }
    }
    report.findings = out;
}

fn miss_fix(report: &VideoReport, index: &AssetIndex) -> String {
    let lr = &report.lookup;
    let stem = &lr.stem;
    let root = &index.root;
    match lr.reason.unwrap_or("") {
        "images-unreadable" => {
            let (img, err) = lr
                .candidates
                .iter()
                .find_map(|c| match &c.rejected {
                    Some(Rejection::ImagesFailed { image, error }) => Some((image.clone(), error.clone())),
                    _ => None,
                })
                .unwrap_or_default();
            format!("replace or remove {img} ({err}); re-run precompute for this key with --overwrite")
        }
        "error-json" => {
            let dir = lr.candidates.iter().find(|c| c.rejected == Some(Rejection::NoImages) && c.source != CandidateSource::FlatRoot);
            let detail = dir
                .and_then(|c| std::fs::read(py::join(&c.path, "error.json")).ok())
                .and_then(|b| py::py_json_load(&b).ok())
                .and_then(|v| v.get("error").map(py::py_str))
                .unwrap_or_default();
            format!("precompute failed: {detail}; fix it and re-run precompute for key {stem:?} with --overwrite")
        }
        "no-images" => format!("re-run precompute for key {stem:?} with --overwrite (the folder holds no mosaic)"),
        "glob-magic" => "rename the folder (and the video) without *, ? or [, or give the root a path without them".into(),
        "index-unusable" => {
            let at = index.crashed_at.map(|i| py::join(&index.metas[i].dir, "meta.json")).unwrap_or_default();
            format!("fix or remove {at} (not a JSON object) so evaluation's index builds")
        }
        "stem-outside-root" => "rename the video: its stem '..' makes evaluation look in the root's parent".into(),
        _ => match report.suggestions.first() {
            Some(s) if s.relation.contains("key") => format!(
                "evaluation looks up the video stem {stem:?}: rename {} to {}/{stem} or give it the meta.json precompute \
                 writes (with `video`)",
                s.folder,
                root
            ),
            Some(s) => format!("rename {} to {}/{stem} (it {}), or re-run precompute with key {stem:?}", s.folder, root, s.relation),
            None => format!("precompute this video with key {stem:?} (input JSONL `key`) into {root}"),
        },
    }
}

fn compare(r: &VideoReport, vl: &VideoLog) -> Agreement {
    let eval = vl.verdict();
    let ours = r.lookup.status;
    let (agrees, note) = match eval {
        LogVerdict::Unknown => (true, "the log ends before evaluation's outcome".to_string()),
        LogVerdict::Hit if ours.is_hit() => {
            let chosen = r.lookup.chosen.clone().unwrap_or_default();
            if vl.dirs.is_empty() || vl.dirs.iter().any(|d| d == &chosen) {
                (true, "evaluation HIT as well".to_string())
            } else {
                (false, format!("evaluation used {} but doctor picks {chosen} (root or walk order differ)", vl.dirs.join(", ")))
            }
        }
        LogVerdict::Miss if !ours.is_hit() => (true, "evaluation missed as well".to_string()),
        LogVerdict::Hit => (
            false,
            format!(
                "evaluation HIT ({}), doctor says {}: the root or its contents changed since the run",
                vl.dirs.join(", "),
                ours.as_str()
            ),
        ),
        LogVerdict::Miss => (
            false,
            "evaluation missed, doctor HITs: assets added after evaluation built its index (it is built once per \
             process), another root or NUM_IMAGES, or images that failed then"
                .to_string(),
        ),
        LogVerdict::Mixed => (
            false,
            format!(
                "evaluation hit {} time(s) and missed {} time(s): processes saw different assets (the index is built \
                 once per process)",
                vl.hits,
                vl.misses + vl.silent_misses
            ),
        ),
    };
    Agreement {
        eval,
        agrees,
        note,
        log: vl.clone(),
    }
}

fn summarise(root_findings: &[Finding], reports: &[VideoReport], index: &AssetIndex) -> Summary {
    let mut s = Summary {
        videos: reports.len(),
        ..Default::default()
    };
    let mut reasons: HashMap<String, usize> = HashMap::new();
    let mut codes: HashMap<String, usize> = HashMap::new();
    for r in reports {
        match r.lookup.status {
            LookupStatus::Hit => s.hits += 1,
            LookupStatus::Miss => s.misses += 1,
            LookupStatus::SilentMiss => {
                s.misses += 1;
                s.silent_misses += 1
            }
            LookupStatus::Off => {
                s.misses += 1;
                s.off += 1
            }
        }
        if let Some(reason) = r.lookup.reason {
            *reasons.entry(reason.to_string()).or_default() += 1;
        }
        if r.eval_log.as_ref().map(|a| !a.agrees).unwrap_or(false) {
            s.disagreements += 1;
        }
    }
    for f in root_findings
        .iter()
        .chain(reports.iter().flat_map(|r| r.findings.iter()))
    {
        match f.severity {
            Severity::Error => s.errors += 1,
            Severity::Warning => s.warnings += 1,
            Severity::Info => {}
        }
        *codes.entry(f.code.to_string()).or_default() += 1;
    }
    let sort = |m: HashMap<String, usize>| {
        let mut v: Vec<(String, usize)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    s.reasons = sort(reasons);
    s.finding_codes = sort(codes);
    s.index_metas = index.metas.len();
    s.index_entries = index.eval_entries();
    s.index_dirs = index.dirs.len();
    s.walk_ms = index.elapsed.as_millis();
    s
}

// ---------------------------------------------------------------------------------------------
// Nearest keys and stems
// ---------------------------------------------------------------------------------------------

const VIDEO_EXTS: [&str; 12] = [
    ".mp4", ".mkv", ".avi", ".webm", ".mov", ".m4v", ".flv", ".ts", ".mpg", ".mpeg", ".wmv", ".3gp",
];

/// Names in a root (index names and folder names) keyed by loosened forms, built once.
pub struct SuggestIndex {
    /// `(name, folder)`.
    pub names: Vec<(String, String)>,
    by_canon: HashMap<String, Vec<usize>>,
    by_alnum: HashMap<String, Vec<usize>>,
}

/// A name with case, `v_` prefixes, video extensions and hash decorations removed.
pub fn canon(name: &str) -> String {
    let mut s = name.to_lowercase();
    if s.starts_with("sample_") {
        let parts: Vec<&str> = s.split("__").collect();
        if parts.len() >= 3 {
            s = parts[1].to_string();
        }
    }
    loop {
        let before = s.len();
        for e in VIDEO_EXTS {
            if s.len() > e.len() && s.ends_with(e) {
                s.truncate(s.len() - e.len());
            }
        }
        if s.len() == before {
            break;
        }
    }
    if let Some(t) = strip_hash(&s) {
        s = t.to_string();
    }
    if let Some(t) = s.strip_prefix("v_") {
        if !t.is_empty() {
            s = t.to_string();
        }
    }
    s
}

fn strip_hash(s: &str) -> Option<&str> {
    let i = s.rfind(['_', '-'])?;
    let tail = &s[i + 1..];
    let head = s[..i].trim_end_matches(['_', '-']);
    (tail.len() >= 8
        && tail.len() <= 40
        && tail.chars().all(|c| c.is_ascii_hexdigit())
        && !head.is_empty())
    .then_some(head)
}

fn alnum(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

impl SuggestIndex {
    pub fn new(index: &AssetIndex) -> Self {
        let mut names: Vec<(String, String)> = Vec::new();
        let mut seen = HashSet::new();
        if index.usable() {
            let mut claimed: Vec<(&String, usize)> =
                index.claims.iter().map(|(k, c)| (k, c[0].meta)).collect();
            claimed.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
            for (k, m) in claimed {
                if seen.insert(k.clone()) {
                    names.push((k.clone(), index.metas[m].dir.clone()));
                }
            }
        }
        // Folder names directly under the root (and under root/assets for an out_root).
        let assets = py::join(&index.root, "assets");
        for d in &index.dirs {
            if d.depth == 0 || (d.dir == assets && d.depth == 1) {
                for s in &d.subdirs {
                    if seen.insert(s.clone()) {
                        names.push((s.clone(), py::join(&d.dir, s)));
                    }
                }
            }
        }
        let mut by_canon: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_alnum: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (n, _)) in names.iter().enumerate() {
            let c = canon(n);
            by_alnum.entry(alnum(&c)).or_default().push(i);
            by_canon.entry(c).or_default().push(i);
        }
        SuggestIndex {
            names,
            by_canon,
            by_alnum,
        }
    }

    /// Up to five names close to `stem`, each with how it differs. `key` is the precompute
    /// key the input JSONL gave for this video.
    pub fn nearest(
        &self,
        stem: &str,
        key: Option<&str>,
        index: &AssetIndex,
        allow_edit: bool,
    ) -> Vec<Suggestion> {
        let mut out: Vec<Suggestion> = Vec::new();
        let push = |out: &mut Vec<Suggestion>, name: &str, folder: &str, relation: String| {
            if out.len() < 5 && !out.iter().any(|s| s.folder == folder) {
                out.push(Suggestion {
                    name: name.to_string(),
                    folder: folder.to_string(),
                    relation,
                });
            }
        };
        if let Some(k) = key.filter(|k| !k.is_empty() && *k != stem) {
            let dir = py::join(&index.root, k);
            let alt = py::join(&py::join(&index.root, "assets"), k);
            let found = [dir, alt].into_iter().find(|d| {
                crate::formats::naming::check_component(k).is_ok() && Path::new(d).is_dir()
            });
            if let Some(d) = found {
                let meta = std::fs::read(py::join(&d, "meta.json"))
                    .ok()
                    .and_then(|b| py::py_json_load(&b).ok());
                let why = match meta {
                    None => "the folder has no readable meta.json, so evaluation's index cannot map the stem to it".to_string(),
                    Some(m) => match m.get("video").filter(|v| py::truthy(v)).map(py::py_str) {
                        Some(v) => format!("its meta.json names video {v:?} (stem {:?})", py::path_stem(&v)),
                        None => "its meta.json names no video".to_string(),
                    },
                };
                push(
                    &mut out,
                    k,
                    &d,
                    format!("is the precompute key (sample id) of this video, not its stem: evaluation looks up {stem:?}; {why}"),
                );
            }
        }
        let c = canon(stem);
        let a = alnum(&c);
        let hits: Vec<usize> = self
            .by_canon
            .get(&c)
            .into_iter()
            .flatten()
            .chain(self.by_alnum.get(&a).into_iter().flatten())
            .copied()
            .collect();
        for i in hits {
            let (n, f) = &self.names[i];
            if n != stem {
                push(&mut out, n, f, relation(stem, n));
            }
        }
        if out.is_empty() && allow_edit && !stem.is_empty() {
            let max = (stem.chars().count() / 4).clamp(1, 4);
            let lc = stem.to_lowercase();
            let mut best: Vec<(usize, usize)> = Vec::new();
            for (i, (n, _)) in self.names.iter().enumerate() {
                let nl = n.to_lowercase();
                if nl.len().abs_diff(lc.len()) > max {
                    continue;
                }
                if let Some(d) = bounded_levenshtein(&lc, &nl, max) {
                    best.push((d, i));
                }
            }
            best.sort();
            for (d, i) in best.into_iter().take(5) {
                let (n, f) = &self.names[i];
                push(
                    &mut out,
                    n,
                    f,
                    format!("is a similar name (edit distance {d})"),
                );
            }
        }
        out
    }
}

/// How a found `name` differs from the looked-up `stem`.
pub fn relation(stem: &str, name: &str) -> String {
    let (sl, nl) = (stem.to_lowercase(), name.to_lowercase());
    if sl == nl {
        return "differs only in case (lookup is case-sensitive)".into();
    }
    if let Some(rest) = name.strip_prefix(stem) {
        if VIDEO_EXTS
            .iter()
            .any(|e| rest.to_lowercase().starts_with(e))
        {
            return format!("keeps the video extension {rest:?}: its key was made from the file name, not the stem");
        }
    }
    if let Some(rest) = stem.strip_prefix(name) {
        if VIDEO_EXTS
            .iter()
            .any(|e| rest.to_lowercase().starts_with(e))
        {
            return format!(
                "lacks {rest:?}: the video path has a doubled extension, so its stem keeps one"
            );
        }
    }
    if nl == format!("v_{sl}") {
        return "has a `v_` prefix the video stem lacks".into();
    }
    if sl == format!("v_{nl}") {
        return "lacks the `v_` prefix of the video stem".into();
    }
    if nl.starts_with("sample_") && nl.contains(&sl) {
        return "is a hashed stage-2 style folder name (sample_<id>__<stem>__<hash>); evaluation looks up the bare stem".into();
    }
    if strip_hash(&nl).is_some() && nl.contains(&sl) {
        return "is a hashed folder name; evaluation looks up the bare stem".into();
    }
    if canon(stem) == canon(name) {
        return "matches after case, `v_`, extension and hash decorations are removed".into();
    }
    "differs only in punctuation or separators".into()
}

/// Levenshtein distance if it is at most `max`.
pub fn bounded_levenshtein(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canon_forms() {
        assert_eq!(canon("V_Abc.mp4"), "abc");
        assert_eq!(canon("abc.mp4.mp4"), "abc");
        assert_eq!(canon("sample_12__abc__deadbeef"), "abc");
        assert_eq!(canon("abc_0123abcd"), "abc");
        assert_eq!(canon("ytb_XwB-dkS5BVM"), "ytb_xwb-dks5bvm");
    }

    #[test]
    fn relations() {
        assert!(relation("abc", "ABC").contains("case"));
        assert!(relation("abc", "abc.mp4").contains("extension"));
        assert!(relation("abc.mp4", "abc").contains("doubled"));
        assert!(relation("abc", "v_abc").contains("v_"));
        assert!(relation("abc", "sample_1__abc__0123abcd").contains("stage-2"));
        assert_eq!(bounded_levenshtein("kitten", "sitting", 3), Some(3));
        assert_eq!(bounded_levenshtein("kitten", "sitting", 2), None);
    }
}
