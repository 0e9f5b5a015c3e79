//! Stage 2 (`codecscope pack`): find each record's stage 1 output, pack its patches into
//! `num_images` mosaics, and write the training JSONL; or, in rewrite mode, only the JSONL
//! for packs that already exist.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::jobs::{rewrite_conversations, Job, JobStream, SkipCounts, Stage};
use super::logs::{failure_line, python_repr_error, AppendLog};
use super::runner::run_ordered;
use super::shard::Shard;
use crate::formats::atomic::temp_path_for;
use crate::formats::meta::{self, Stage1Meta};
use crate::formats::naming::{self, escape_component, h8, pathlib_normalise, stem, MAX_NAME_BYTES};
use crate::formats::{jpeg, npy, pyjson};
use crate::select::{self, Layout, PackParams, PaddingPolicy};
use crate::video;

/// Pack or rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pack,
    Rewrite,
}

#[derive(Debug, Clone)]
pub struct Stage2Run {
    pub mode: Mode,
    pub dataset: PathBuf,
    pub out_jsonl: PathBuf,
    pub out_image_root: PathBuf,
    pub visidx_root: Option<PathBuf>,
    pub num_images: usize,
    pub square_size: usize,
    pub t: usize,
    pub patch: usize,
    pub layout: Layout,
    pub first_full: bool,
    pub write_positions: bool,
    pub skip_missing: bool,
    pub export_patches: bool,
    pub include_positions: bool,
    pub skip_missing_packs: bool,
    pub force_shard_out: bool,
    pub fail_txt: Option<PathBuf>,
    pub shard: Shard,
    pub max_samples: u64,
    pub threads: usize,
    pub overwrite: bool,
    pub jpg_quality: u8,
}

impl Stage2Run {
    /// `{out_jsonl}.shard{ii}of{nn}.jsonl` with more than one shard or `--force_shard_out`.
    pub fn jsonl_path(&self) -> PathBuf {
        if self.shard.count > 1 || self.force_shard_out {
            PathBuf::from(format!(
                "{}.{}.jsonl",
                self.out_jsonl.display(),
                self.shard.suffix()
            ))
        } else {
            self.out_jsonl.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A JSONL line was written (`packed` false when an existing pack was reused).
    Line {
        line: String,
        packed: bool,
    },
    Skipped {
        reason: String,
    },
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub records: u64,
    pub lines: u64,
    pub packed: u64,
    pub reused: u64,
    pub skipped: u64,
    pub failed: u64,
    #[serde(flatten)]
    pub not_jobs: SkipCounts,
    pub jsonl: PathBuf,
    pub fail_log: PathBuf,
}

/// Stage 1 metas under a root, by file name (sorted, so a prefix is a range).
pub struct Stage1Index {
    by_name: BTreeMap<String, Vec<PathBuf>>,
}

impl Stage1Index {
    /// Walks `root` recursively once.
    pub fn build(root: &Path) -> Self {
        let mut by_name: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in rd.flatten() {
                let path = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(path);
                } else if name.starts_with("sample_") && name.ends_with(".meta.json") {
                    by_name.entry(name).or_default().push(path);
                }
            }
        }
        for v in by_name.values_mut() {
            v.sort();
        }
        Stage1Index { by_name }
    }

    /// Upstream's `find_stage1_meta`: `sample_{id}__{stem}__{h8}__*_T{T}*_p{P}*_K*.meta.json`,
    /// sorted by path, first wins; else the same without T and P.
    pub fn find(&self, id: &str, video: &str, t: usize, patch: usize) -> Option<PathBuf> {
        let norm = pathlib_normalise(video);
        let mut ids = vec![id.to_string()];
        let escaped = escape_component(id, MAX_NAME_BYTES);
        if escaped != id {
            ids.push(escaped);
        }
        for id in ids {
            let prefix = format!("sample_{id}__{}__{}__", stem(&norm), h8(&norm));
            let candidates: Vec<(&String, &PathBuf)> = self
                .by_name
                .range(prefix.clone()..)
                .take_while(|(n, _)| n.starts_with(&prefix))
                .flat_map(|(n, ps)| ps.iter().map(move |p| (n, p)))
                .collect();
            let strict = format!("_T{t}");
            let pp = format!("_p{patch}");
            let mut strict_hits: Vec<&PathBuf> = candidates
                .iter()
                .filter(|(n, _)| glob_in_order(&n[prefix.len()..], &[&strict, &pp, "_K"]))
                .map(|(_, p)| *p)
                .collect();
            strict_hits.sort();
            if let Some(p) = strict_hits.first() {
                return Some((*p).clone());
            }
            let mut loose: Vec<&PathBuf> = candidates.iter().map(|(_, p)| *p).collect();
            loose.sort();
            if let Some(p) = loose.first() {
                return Some((*p).clone());
            }
        }
        None
    }
}

/// Whether `parts` occur in `s` in this order (a glob `*a*b*c*`).
fn glob_in_order(s: &str, parts: &[&str]) -> bool {
    let mut rest = s;
    for p in parts {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// Packs under an image root, by `(stem, hash)` and by stem (upstream's rewrite index).
pub struct PackIndex {
    exact: HashMap<(String, String), PathBuf>,
    by_stem: HashMap<String, Vec<PathBuf>>,
}

impl PackIndex {
    pub fn build(root: &Path) -> Self {
        let mut exact = HashMap::new();
        let mut by_stem: HashMap<String, Vec<PathBuf>> = HashMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut subdirs: Vec<PathBuf> = Vec::new();
            for e in rd.flatten() {
                if !e.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let name = e.file_name().to_string_lossy().into_owned();
                let parts: Vec<&str> = name.split("__").collect();
                if (name.starts_with("sample_") || name.starts_with("video__")) && parts.len() >= 3
                {
                    exact
                        .entry((parts[1].to_string(), parts[2].to_string()))
                        .or_insert_with(|| e.path());
                    by_stem
                        .entry(parts[1].to_string())
                        .or_default()
                        .push(e.path());
                }
                subdirs.push(e.path());
            }
            stack.extend(subdirs);
        }
        for v in by_stem.values_mut() {
            v.sort();
        }
        PackIndex { exact, by_stem }
    }

    /// The mosaics (and positions) of a video's pack, as upstream's `resolve_pack_for_video`.
    pub fn resolve(
        &self,
        video: &str,
        num_images: usize,
    ) -> Option<(Vec<PathBuf>, Option<PathBuf>)> {
        let norm = pathlib_normalise(video);
        let (st, hash) = (stem(&norm).to_string(), h8(&norm));
        let dir = self
            .exact
            .get(&(st.clone(), hash))
            .filter(|d| d.is_dir())
            .or_else(|| {
                self.by_stem
                    .get(&st)
                    .and_then(|v| v.iter().find(|d| d.is_dir()))
            })?;
        let mut mosaics = Vec::with_capacity(num_images);
        for i in 0..num_images {
            let jpg = dir.join(format!("{st}_{i:03}.jpg"));
            let png = dir.join(format!("{st}_{i:03}.png"));
            mosaics.push(if jpg.is_file() {
                jpg
            } else if png.is_file() {
                png
            } else {
                return None;
            });
        }
        let pos = dir.join("positions_thw.npy");
        Some((mosaics, pos.is_file().then_some(pos)))
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Runs stage 2; `on_record` sees each record's outcome.
pub fn run(run: &Stage2Run, mut on_record: impl FnMut(&Job, &Outcome)) -> std::io::Result<Summary> {
    let jsonl = run.jsonl_path();
    let fail_log = AppendLog::new(
        run.fail_txt
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.fail.txt", jsonl.display()))),
    );
    if let Some(dir) = jsonl.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::create_dir_all(&run.out_image_root)?;
    let mut summary = Summary {
        jsonl: jsonl.clone(),
        fail_log: fail_log.path().to_path_buf(),
        ..Default::default()
    };
    let stage1 = match (run.mode, &run.visidx_root) {
        (Mode::Pack, Some(root)) => Some(Stage1Index::build(root)),
        (Mode::Pack, None) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "pack mode needs --visidx-root",
            ))
        }
        (Mode::Rewrite, _) => None,
    };
    let packs = (run.mode == Mode::Rewrite).then(|| PackIndex::build(&run.out_image_root));
    // The JSONL is written under a temporary name and renamed when the run ends.
    let tmp = temp_path_for(&jsonl);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let mut jobs = JobStream::open(&run.dataset, Stage::Pack, run.shard, run.max_samples)?;
    let mut io_error = None;
    let work = |job: &Job| match (run.mode, &stage1, &packs) {
        (Mode::Pack, Some(index), _) => pack_one(job, run, index),
        (_, _, Some(packs)) => rewrite_one(job, run, packs),
        _ => Outcome::Failed {
            message: "no index".into(),
        },
    };
    run_ordered(&mut jobs, run.threads, work, |job, outcome| {
        summary.records += 1;
        let res = match &outcome {
            Outcome::Line { line, packed } => {
                summary.lines += 1;
                if *packed {
                    summary.packed += 1;
                } else {
                    summary.reused += 1;
                }
                writeln!(out, "{line}")
            }
            Outcome::Skipped { .. } => {
                summary.skipped += 1;
                Ok(())
            }
            Outcome::Failed { message } => {
                summary.failed += 1;
                fail_log.line(&failure_line(
                    &job.id,
                    &job.video,
                    &python_repr_error("RuntimeError", message),
                ))
            }
        };
        if let Err(e) = res {
            io_error.get_or_insert(e);
        }
        on_record(&job, &outcome);
    })?;
    if let Some(e) = io_error {
        return Err(e);
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, &jsonl)?;
    summary.not_jobs = jobs.finish(&run.dataset, &fail_log)?;
    Ok(summary)
}

fn line_for(
    job: &Job,
    conversations: Value,
    images: &[PathBuf],
    positions: Option<&Path>,
) -> Outcome {
    let mut item = serde_json::Map::new();
    item.insert("id".into(), Value::String(job.id.clone()));
    item.insert("conversations".into(), conversations);
    item.insert(
        "image".into(),
        Value::Array(images.iter().map(|p| Value::String(path_str(p))).collect()),
    );
    if let Some(p) = positions {
        item.insert("positions_thw".into(), Value::String(path_str(p)));
    }
    match pyjson::to_line(&Value::Object(item)) {
        Ok(line) => Outcome::Line {
            line,
            packed: false,
        },
        Err(e) => Outcome::Failed {
            message: e.to_string(),
        },
    }
}

fn conversations(job: &Job) -> Value {
    job.record
        .get("conversations")
        .cloned()
        .unwrap_or_else(|| json!([]))
}

fn rewrite_one(job: &Job, run: &Stage2Run, packs: &PackIndex) -> Outcome {
    match packs.resolve(&job.video, run.num_images) {
        Some((mosaics, pos)) => {
            let convs = rewrite_conversations(&conversations(job), run.num_images);
            line_for(
                job,
                convs,
                &mosaics,
                pos.as_deref().filter(|_| run.include_positions),
            )
        }
        None if run.skip_missing_packs => Outcome::Skipped {
            reason: "no pack found".into(),
        },
        None => Outcome::Failed {
            message: format!("Cannot resolve pack for video={}", job.video),
        },
    }
}

/// The pack folder of a record: `out_image_root/sample_{id}__{stem}__{h8(video)}`.
pub fn sample_dir(run: &Stage2Run, job: &Job) -> (PathBuf, Option<String>) {
    let name =
        super::names::safe_name(&job.id, 16, |id| naming::stage2_folder_name(id, &job.video));
    (run.out_image_root.join(&name.name), name.escaped)
}

fn pack_one(job: &Job, run: &Stage2Run, index: &Stage1Index) -> Outcome {
    match try_pack(job, run, index) {
        Ok(o) => o,
        Err(message) => Outcome::Failed { message },
    }
}

fn try_pack(job: &Job, run: &Stage2Run, index: &Stage1Index) -> Result<Outcome, String> {
    let Some(meta_path) = index.find(&job.id, &job.video, run.t, run.patch) else {
        if run.skip_missing {
            return Ok(Outcome::Skipped {
                reason: "no stage 1 output".into(),
            });
        }
        return Err(format!(
            "Cannot find stage1 meta for id={} video={}",
            job.id, job.video
        ));
    };
    let m: Stage1Meta = meta::read_stage1_meta(&meta_path).map_err(|e| e.to_string())?;
    let base = meta_path
        .to_string_lossy()
        .strip_suffix(".meta.json")
        .unwrap_or_default()
        .to_string();
    let rows: Vec<[i32; 3]> = npy::read_rows_lenient(Path::new(&format!("{base}.visidx_thw.npy")))
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| [r[0] as i32, r[1] as i32, r[2] as i32])
        .collect();
    let frame_ids = npy::read_frame_ids(Path::new(&format!("{base}.frame_ids.npy")))
        .map_err(|e| e.to_string())?;
    let policy: PaddingPolicy = m
        .padding_policy
        .parse()
        .map_err(|e: select::params::UnknownValue| e.to_string())?;
    let params = PackParams {
        num_images: run.num_images,
        square_size: run.square_size,
        patch: run.patch,
        t: run.t,
        layout: run.layout,
        first_full: run.first_full,
        padding_policy: policy,
    };
    let plan =
        select::plan_stage2(&rows, &params, Some(&m.valid_ranges)).map_err(|e| e.to_string())?;
    let (dir, _escaped) = sample_dir(run, job);
    let vstem = stem(&pathlib_normalise(&job.video)).to_string();
    let images: Vec<PathBuf> = (0..run.num_images)
        .map(|i| dir.join(format!("{vstem}_{i:03}.jpg")))
        .collect();
    let positions_path = dir.join("positions_thw.npy");
    let convs = if run.export_patches {
        conversations(job)
    } else {
        rewrite_conversations(&conversations(job), run.num_images)
    };
    let done = !run.overwrite
        && !run.export_patches
        && images.iter().all(|p| p.is_file())
        && (!run.write_positions || positions_path.is_file());
    if done {
        return Ok(line_for(
            job,
            convs,
            &images,
            run.write_positions.then_some(positions_path.as_path()),
        ));
    }
    // Decode the sampled frames and map each to the square, as stage 2 does.
    let ids: Vec<i64> = frame_ids.iter().map(|&f| f as i64).collect();
    let squares = video::read_frames_mapped(&job.video, &ids, |f| {
        f.to_square(run.square_size, run.patch)
    })
    .map_err(|e| e.to_string())?;
    let square = |t: usize| -> Result<Vec<u8>, String> {
        squares
            .get(t)
            .map(|c| c.to_square())
            .ok_or_else(|| format!("no frame t={t} (only {} sampled)", squares.len()))
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if run.export_patches {
        let mut sorted = rows.clone();
        select::pack::sort_thw(&mut sorted);
        return export_patches(job, run, &sorted, &dir, convs, square);
    }
    let packed = select::render(&plan, 3, square).map_err(|e| e.to_string())?;
    let mosaics: Vec<(&PathBuf, &Vec<u8>)> = images.iter().zip(&packed.images).collect();
    let written = jpeg::write_rgb_each(&mosaics, packed.size, packed.size, run.jpg_quality);
    for (r, (path, _)) in written.into_iter().zip(&mosaics) {
        r.map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if run.write_positions {
        npy::write_rows(&positions_path, &plan.positions)
            .map_err(|e| format!("{}: {e}", positions_path.display()))?;
    }
    let out = line_for(
        job,
        convs,
        &images,
        run.write_positions.then_some(positions_path.as_path()),
    );
    Ok(match out {
        Outcome::Line { line, .. } => Outcome::Line { line, packed: true },
        other => other,
    })
}

/// `--export_patches`: one JPEG per selected patch, `patches/{i}_{row}_{col}_{t}_{h}_{w}.jpg`.
fn export_patches(
    job: &Job,
    run: &Stage2Run,
    sorted_rows: &[[i32; 3]],
    dir: &Path,
    convs: Value,
    mut square: impl FnMut(usize) -> Result<Vec<u8>, String>,
) -> Result<Outcome, String> {
    let patch_dir = dir.join("patches");
    std::fs::create_dir_all(&patch_dir).map_err(|e| e.to_string())?;
    let p = run.patch;
    let grid_n = run.square_size / p;
    // Upstream exports every chunk of the sorted rows, the first one included even with
    // --first_full, and names each patch by its index within its chunk.
    let all = sorted_rows;
    let s_img = all.len() / run.num_images.max(1);
    let mut cache: HashMap<usize, Vec<u8>> = HashMap::new();
    let mut paths = Vec::new();
    let mut positions = Vec::new();
    for (n, src) in all.iter().enumerate() {
        let (i, j) = (n / s_img.max(1), n % s_img.max(1));
        let t = src[0] as usize;
        if let std::collections::hash_map::Entry::Vacant(e) = cache.entry(t) {
            e.insert(square(t)?);
        }
        let frame = &cache[&t];
        let (y0, x0) = (src[1] as usize * p, src[2] as usize * p);
        let mut buf = Vec::with_capacity(p * p * 3);
        for y in 0..p {
            let s = ((y0 + y) * run.square_size + x0) * 3;
            buf.extend_from_slice(&frame[s..s + p * 3]);
        }
        let path = patch_dir.join(format!(
            "{i}_{}_{}_{}_{}_{}.jpg",
            j / grid_n,
            j % grid_n,
            src[0],
            src[1],
            src[2]
        ));
        jpeg::write_rgb(&path, &buf, p, p, run.jpg_quality).map_err(|e| e.to_string())?;
        paths.push(path);
        positions.push(*src);
    }
    let pos_path = patch_dir.join("positions_thw.npy");
    npy::write_rows(&pos_path, &positions).map_err(|e| e.to_string())?;
    Ok(match line_for(job, convs, &paths, Some(&pos_path)) {
        Outcome::Line { line, .. } => Outcome::Line { line, packed: true },
        other => other,
    })
}
