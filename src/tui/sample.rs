//! One sample as the inspector sees it: mosaics, positions, the stage 1 output behind them,
//! the video (when it can be found), and `check`'s findings. Built from what `discover`
//! names; nothing here needs the video.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnose::paths::{PathResolver, Remap};
use crate::diagnose::{stage1 as lints, Finding};
use crate::engine::Pipeline;
use crate::formats::discover::{stage1_outputs_in, Stage1Files};
use crate::formats::meta::{self, OfflineMeta, Stage1Meta};
use crate::formats::npy::{self, Thw};
use crate::select::{OfflineParams, PaddingPolicy, Stage1Params};

/// Options that apply to every sample opened.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--video`: the video to use for every sample (overrides what the data names).
    pub video: Option<PathBuf>,
    pub remaps: Vec<Remap>,
    pub num_images: usize,
}

/// Where mosaic cell `(row, col)` of image `image` got its patch from: row `index` of the
/// positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub image: usize,
    pub slot: usize,
    pub cell: [usize; 2],
}

/// Everything the panes show about one sample.
#[derive(Debug, Clone, Default)]
pub struct SampleData {
    pub title: String,
    pub kind: String,
    /// The folder holding the mosaics (stage 2 or eval asset folder).
    pub dir: Option<PathBuf>,
    pub images: Vec<PathBuf>,
    /// Rows in placement order (`positions_thw.npy`), or the stage 1 rows packed.
    pub positions: Vec<Thw>,
    pub positions_source: String,
    pub stage1: Option<Stage1Files>,
    /// Stage 1's rows in selection order.
    pub stage1_rows: Option<Vec<Thw>>,
    pub stage1_meta: Option<Stage1Meta>,
    pub offline_meta: Option<OfflineMeta>,
    pub frame_ids: Option<Vec<i32>>,
    /// The video string the data names.
    pub video_raw: Option<String>,
    /// The video on this machine, when found.
    pub video: Option<PathBuf>,
    pub findings: Vec<Finding>,
    pub frames: usize,
    pub hb: usize,
    pub wb: usize,
    pub num_images: usize,
    /// `hb * wb` valid (non-padding) cells, when the geometry is known.
    pub valid: Option<Vec<bool>>,
    /// Per positions row, where it went.
    pub origins: Vec<Origin>,
    /// `(t, h, w)` to the first positions row holding it.
    pub by_thw: HashMap<Thw, usize>,
    /// `(image, row, col)` to the positions row placed there.
    pub by_cell: HashMap<(usize, usize, usize), usize>,
    /// The parameters the files were made with (defaults where the files do not say).
    pub disk_params: Option<Pipeline>,
    /// Nothing selected on disk: positions and frame ids come from the engine.
    pub from_engine: bool,
}

impl SampleData {
    /// The positions row at `(t, h, w)`, with its origin.
    pub fn origin_of(&self, t: usize, h: usize, w: usize) -> Option<(usize, Origin)> {
        let i = *self.by_thw.get(&[t as i32, h as i32, w as i32])?;
        Some((i, self.origins[i]))
    }

    /// Selected cells of frame `t` and the image each went to.
    pub fn frame_cells(&self, t: usize) -> Vec<Option<usize>> {
        let mut v = vec![None; self.hb * self.wb];
        for (r, o) in self.positions.iter().zip(&self.origins) {
            if r[0] as usize == t && (r[1] as usize) < self.hb && (r[2] as usize) < self.wb {
                let c = &mut v[r[1] as usize * self.wb + r[2] as usize];
                if c.is_none() {
                    *c = Some(o.image);
                }
            }
        }
        v
    }

    /// Rows kept per frame.
    pub fn kept_per_frame(&self) -> Vec<usize> {
        let mut c = vec![0; self.frames];
        let mut seen = std::collections::HashSet::new();
        for r in &self.positions {
            if seen.insert(*r) {
                if let Some(x) = c.get_mut(r[0] as usize) {
                    *x += 1;
                }
            }
        }
        c
    }

    /// The rows to compare the engine's selection with.
    pub fn disk_rows(&self) -> Option<Vec<Thw>> {
        if self.from_engine {
            return None;
        }
        self.stage1_rows.clone().or_else(|| {
            (!self.positions.is_empty()).then(|| {
                // Positions with first-full hold the whole t=0 raster; the selection is the set.
                let mut v = self.positions.clone();
                v.sort();
                v.dedup();
                v
            })
        })
    }

    /// Fills `origins`, `by_thw` and `by_cell` from `positions`.
    pub fn index_positions(&mut self) {
        let n = self.positions.len();
        let s_total = self.hb * self.wb;
        let imgs = self.num_images.max(1);
        let raster_first = imgs > 1
            && n >= s_total
            && s_total > 0
            && self.positions[..s_total]
                .iter()
                .enumerate()
                .all(|(i, r)| *r == [0, (i / self.wb) as i32, (i % self.wb) as i32]);
        let meta_says = self
            .stage1_meta
            .as_ref()
            .is_some_and(|m| m.keep_first_full_frame);
        let first_full = raster_first
            && (n - s_total).is_multiple_of(imgs - 1)
            && (!n.is_multiple_of(imgs) || meta_says);
        let (first, chunk) = if first_full {
            (s_total, (n - s_total) / (imgs - 1))
        } else {
            (n / imgs, n / imgs)
        };
        let exclude = self
            .stage1_meta
            .as_ref()
            .is_some_and(|m| m.padding_policy == "exclude");
        let vgrid = self.stage1_meta.as_ref().and_then(|m| {
            let v = &m.valid_ranges;
            Some((
                v.valid_h_start?,
                v.valid_h_end? - v.valid_h_start?,
                v.valid_w_start?,
                v.valid_w_end? - v.valid_w_start?,
            ))
        });
        self.origins.clear();
        self.by_thw.clear();
        self.by_cell.clear();
        for (i, r) in self.positions.iter().enumerate() {
            let (image, slot) = if i < first || chunk == 0 {
                (0, i)
            } else {
                (1 + (i - first) / chunk, (i - first) % chunk)
            };
            let cell = match vgrid {
                Some((h0, vh, w0, vw))
                    if exclude && vw > 0 && !(image == 0 && first_full) && slot < vh * vw =>
                {
                    [h0 + slot / vw, w0 + slot % vw]
                }
                _ => [slot / self.wb.max(1), slot % self.wb.max(1)],
            };
            let o = Origin { image, slot, cell };
            self.origins.push(o);
            self.by_thw.entry(*r).or_insert(i);
            self.by_cell.insert((image, cell[0], cell[1]), i);
        }
    }
}

/// Stage 1's parameters as its meta records them; knobs the meta does not keep are upstream
/// defaults.
pub fn stage1_params(m: &Stage1Meta) -> Stage1Params {
    Stage1Params {
        sequence_length: m.t,
        patch_size: m.patch,
        square_size: m.square_size,
        keep_frames_equiv: m.keep_frames_equiv,
        padding_policy: m.padding_policy.parse().unwrap_or(PaddingPolicy::Zero),
        keep_uniform_first: m.keep_uniform_first,
        keep_first_full_frame: m.keep_first_full_frame,
        ..Stage1Params::default()
    }
}

/// The offline precompute's parameters from its meta `cfg`.
pub fn offline_params(m: &OfflineMeta) -> OfflineParams {
    let c = &m.cfg;
    let d = OfflineParams::default();
    OfflineParams {
        seq_len_frames: c.seq_len_frames.max(1) as usize,
        num_images: c.num_images.max(1) as usize,
        square_size: c.square_size.max(1) as usize,
        patch_size: c.patch_size.max(1) as usize,
        mv_unit_div: c.mv_unit_div,
        mv_pct: c.mv_pct,
        res_pct: c.res_pct,
        w_mv: c.w_mv,
        w_res: c.w_res,
        mv_compensate: c.mv_compensate.parse().unwrap_or(d.mv_compensate),
        res_use_grad: c.res_use_grad,
        window_len: c.window_len,
        window_pick: c.window_pick.parse().unwrap_or(d.window_pick),
        keep_mid_full_frame: c.keep_mid_full_frame,
        mid_full_frame_index: c.mid_full_frame_index,
        topk_mode: c.topk_mode.parse().unwrap_or(d.topk_mode),
        time_bucket_count: c.time_bucket_count,
    }
}

/// Resolves a video string from the data: `--remap`, the working directory, then the folders
/// around `near` (a run's outputs usually sit beside its `videos/`).
pub fn resolve_video(raw: &str, near: Option<&Path>, opts: &LoadOptions) -> Option<PathBuf> {
    let resolver = PathResolver::new(opts.remaps.clone(), None);
    let p = resolver.resolve(raw);
    if p.is_file() {
        return Some(p);
    }
    let rel = PathBuf::from(resolver.remapped(raw));
    if rel.is_absolute() {
        return None;
    }
    let mut dir = near.map(Path::to_path_buf);
    for _ in 0..5 {
        let d = dir?;
        let c = d.join(&rel);
        if c.is_file() {
            return Some(c);
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    None
}

/// The stage 1 output a stage 2 folder was packed from: stage 2 finds it by
/// `sample_{id}__{stem}__{h8}__*` (SPEC 1.3); it is looked for in folders near this one.
pub fn find_stage1_for(folder: &Path) -> Option<Stage1Files> {
    let name = folder.file_name()?.to_str()?.to_string();
    let prefix = format!("{name}__");
    let mut dirs = Vec::new();
    let mut d = folder.parent();
    for _ in 0..2 {
        let Some(dd) = d else { break };
        dirs.push(dd.to_path_buf());
        if let Ok(rd) = std::fs::read_dir(dd) {
            let mut subs: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subs.sort();
            dirs.extend(subs);
        }
        d = dd.parent();
    }
    dirs.iter().flat_map(|d| stage1_outputs_in(d)).find(|f| {
        f.prefix
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&prefix))
    })
}

fn base(title: String, kind: &str, opts: &LoadOptions) -> SampleData {
    SampleData {
        title,
        kind: kind.to_string(),
        frames: 64,
        hb: 36,
        wb: 36,
        num_images: if opts.num_images == 0 {
            8
        } else {
            opts.num_images
        },
        ..SampleData::default()
    }
}

fn attach_stage1(s: &mut SampleData, files: &Stage1Files) {
    if let Ok(m) = meta::read_stage1_meta(&files.meta) {
        s.frames = m.t;
        s.hb = m.hb;
        s.wb = m.wb;
        s.video_raw.get_or_insert(m.video.clone());
        let g = crate::select::SquareGeometry::new(m.h0, m.w0, m.square_size, m.patch);
        s.valid = Some(g.valid_mask());
        s.disk_params = Some(Pipeline::Stage1(stage1_params(&m)));
        s.stage1_meta = Some(m);
    }
    if let Ok(r) = npy::read_rows(&files.visidx) {
        s.stage1_rows = Some(r);
    }
    if let Ok(f) = npy::read_frame_ids(&files.frame_ids) {
        s.frame_ids = Some(f);
    }
    s.stage1 = Some(files.clone());
}

fn finish(mut s: SampleData, near: Option<&Path>, opts: &LoadOptions) -> SampleData {
    if s.positions.is_empty() {
        if let (Some(rows), Some(Pipeline::Stage1(p))) = (&s.stage1_rows, &s.disk_params) {
            // No stage 2 output: pack the stage 1 rows the way stage 2 would.
            let pp = crate::select::PackParams {
                num_images: s.num_images,
                square_size: p.square_size,
                patch: p.patch_size,
                t: p.sequence_length,
                layout: crate::select::Layout::TimeSpatial,
                first_full: p.keep_first_full_frame,
                padding_policy: p.padding_policy,
            };
            let vr = s.stage1_meta.as_ref().map(|m| m.valid_ranges);
            match crate::select::plan_stage2(rows, &pp, vr.as_ref()) {
                Ok(plan) => {
                    s.positions = plan.positions;
                    s.positions_source = "stage 1 rows, packed as stage 2 would".into();
                }
                Err(e) => {
                    s.positions = rows.clone();
                    s.positions_source = format!("stage 1 rows (stage 2 would fail: {e})");
                }
            }
        }
    }
    s.index_positions();
    s.video = opts.video.clone().or_else(|| {
        s.video_raw
            .as_deref()
            .and_then(|v| resolve_video(v, near, opts))
    });
    s
}

/// A stage 2 sample folder or an eval asset folder.
pub fn load_folder(
    dir: &Path,
    images: &[PathBuf],
    positions: Option<&Path>,
    asset: bool,
    opts: &LoadOptions,
) -> SampleData {
    let title = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    let kind = if asset {
        "eval asset folder"
    } else {
        "stage 2 sample"
    };
    let mut s = base(title, kind, opts);
    s.dir = Some(dir.to_path_buf());
    s.images = images.to_vec();
    s.findings = lints::lint_stage2_folder(dir, images, positions, s.num_images, 576, false);
    if let Some(p) = positions {
        match npy::read_rows(p) {
            Ok(r) => {
                s.positions = r;
                s.positions_source = p.display().to_string();
            }
            Err(e) => s.positions_source = format!("unreadable: {e}"),
        }
    }
    if asset {
        if let Ok(m) = meta::read_offline_meta(&dir.join("meta.json")) {
            let p = offline_params(&m);
            s.frames = p.seq_len_frames;
            s.hb = p.square_size / p.patch_size.max(1);
            s.wb = s.hb;
            s.video_raw = Some(m.video.clone());
            s.disk_params = Some(Pipeline::Offline(p));
            s.offline_meta = Some(m);
        }
        if let Ok(f) = npy::read_frame_ids(&dir.join("frame_ids.npy")) {
            s.frame_ids = Some(f);
        }
    } else if let Some(files) = find_stage1_for(dir) {
        attach_stage1(&mut s, &files);
    }
    let near = s
        .stage1
        .as_ref()
        .and_then(|f| f.prefix.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| dir.to_path_buf());
    finish(s, Some(&near), opts)
}

/// A stage 1 output on its own.
pub fn load_stage1(files: &Stage1Files, opts: &LoadOptions) -> SampleData {
    let title = files
        .prefix
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut s = base(title, "stage 1 output", opts);
    attach_stage1(&mut s, files);
    s.findings = lints::lint_stage1(files, s.num_images);
    let near = files.prefix.parent().map(Path::to_path_buf);
    finish(s, near.as_deref(), opts)
}

/// A video (from the command line or a raw dataset record): nothing on disk but the video;
/// the engine selects with upstream's run-script parameters.
pub fn load_video(video: &Path, title: Option<String>, opts: &LoadOptions) -> SampleData {
    let title = title.unwrap_or_else(|| {
        video
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut s = base(title, "video", opts);
    s.video_raw = Some(video.display().to_string());
    s.disk_params = Some(Pipeline::Stage1(Stage1Params::upstream_run_script()));
    s.positions_source = "none on disk: the engine's selection".into();
    s.from_engine = true;
    let mut s = finish(s, None, opts);
    if s.video.is_none() && video.is_file() {
        s.video = Some(video.to_path_buf());
    }
    if s.video.is_none() {
        s.findings.push(Finding::error(
            "missing-video",
            video.display().to_string(),
            "video not found",
        ));
    }
    s
}
