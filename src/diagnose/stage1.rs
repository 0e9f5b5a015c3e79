//! Lints for stage 1 outputs (`visidx_thw.npy`, `frame_ids.npy`, `meta.json`) and stage 2
//! sample folders.

use std::path::Path;

use super::positions::{self, Geometry};
use super::{images, Finding};
use crate::formats::discover::Stage1Files;
use crate::formats::meta::{self, Stage1Meta};
use crate::formats::npy;

/// Checks one stage 1 output: the three files agree with each other and with the rules
/// stage 2 relies on. `num_images` is stage 2's (K must divide by it).
pub fn lint_stage1(files: &Stage1Files, num_images: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in files.missing() {
        out.push(Finding::error(
            "stage1-file-missing",
            p.display().to_string(),
            "stage 1 output file not found",
        ));
    }
    let meta = match meta::read_stage1_meta(&files.meta) {
        Ok(m) => Some(m),
        Err(e) if files.meta.is_file() => {
            out.push(Finding::error(
                "meta-unreadable",
                files.meta.display().to_string(),
                e.to_string(),
            ));
            None
        }
        Err(_) => None,
    };
    let rows = if files.visidx.is_file() {
        match npy::read_rows_lenient(&files.visidx) {
            Ok(r) => {
                if let Err(e) = npy::read_rows(&files.visidx) {
                    out.push(Finding::warning(
                        "visidx-format",
                        files.visidx.display().to_string(),
                        e.to_string(),
                    ));
                }
                Some(r)
            }
            Err(e) => {
                out.push(Finding::error(
                    "visidx-unreadable",
                    files.visidx.display().to_string(),
                    e.to_string(),
                ));
                None
            }
        }
    } else {
        None
    };
    let frame_ids = if files.frame_ids.is_file() {
        match npy::read_frame_ids(&files.frame_ids) {
            Ok(f) => Some(f),
            Err(e) => {
                out.push(Finding::error(
                    "frame-ids-unreadable",
                    files.frame_ids.display().to_string(),
                    e.to_string(),
                ));
                None
            }
        }
    } else {
        None
    };
    if let Some(m) = &meta {
        out.extend(lint_meta_against_files(
            m,
            files,
            rows.as_deref(),
            frame_ids.as_deref(),
            num_images,
        ));
    }
    out
}

fn lint_meta_against_files(
    m: &Stage1Meta,
    files: &Stage1Files,
    rows: Option<&[[i64; 3]]>,
    frame_ids: Option<&[i32]>,
    num_images: usize,
) -> Vec<Finding> {
    let loc = files.meta.display().to_string();
    let mut out = Vec::new();
    let mismatch = |what: String| Finding::error("meta-mismatch", &loc, what);
    if m.patch == 0 || !m.square_size.is_multiple_of(m.patch) {
        out.push(mismatch(format!(
            "square_size {} is not a multiple of patch {}",
            m.square_size, m.patch
        )));
        return out;
    }
    let hb = m.square_size / m.patch;
    if m.hb != hb || m.wb != hb {
        out.push(mismatch(format!(
            "hb/wb are {}/{}, square_size/patch gives {hb}",
            m.hb, m.wb
        )));
    }
    if m.s_total != m.hb * m.wb {
        out.push(mismatch(format!(
            "S_total {} is not hb*wb = {}",
            m.s_total,
            m.hb * m.wb
        )));
    }
    let name = files
        .prefix
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tail = format!("_T{}_square{}_p{}_K{}", m.t, m.square_size, m.patch, m.k);
    if !name.ends_with(&tail) {
        out.push(mismatch(format!(
            "file name does not end with {tail} as the meta says"
        )));
    }
    if let Some(rows) = rows {
        if rows.len() != m.k {
            out.push(mismatch(format!(
                "K is {} but visidx_thw.npy holds {} rows",
                m.k,
                rows.len()
            )));
        }
        let geo = Geometry {
            frames: m.t,
            hb: m.hb,
            wb: m.wb,
        };
        let vloc = files.visidx.display().to_string();
        // Selection order is not sorted, so only range and duplicates apply here.
        out.extend(
            positions::lint_rows(rows, geo, None, &vloc)
                .into_iter()
                .filter(|f| f.code != "positions-unsorted"),
        );
        if m.keep_first_full_frame && m.padding_policy == "zero" {
            let full = m.s_total.min(rows.len());
            let raster_ok = rows[..full]
                .iter()
                .enumerate()
                .all(|(i, r)| *r == [0, (i / m.wb) as i64, (i % m.wb) as i64]);
            if !raster_ok {
                out.push(Finding::error(
                    "first-frame-not-full",
                    &vloc,
                    "keep_first_full_frame is set but the first S_total rows are not t=0 in raster order",
                ));
            }
        }
    }
    if let Some(ids) = frame_ids {
        if ids.len() != m.t {
            out.push(mismatch(format!(
                "T is {} but frame_ids.npy holds {}",
                m.t,
                ids.len()
            )));
        }
        if ids.windows(2).any(|w| w[0] > w[1]) {
            out.push(Finding::error(
                "frame-ids-unsorted",
                files.frame_ids.display().to_string(),
                "frame ids decrease",
            ));
        }
    }
    if m.keep_first_full_frame && m.padding_policy == "exclude" {
        out.push(
            Finding::warning(
                "first-full-exclude",
                &loc,
                "keep_first_full_frame with padding_policy=exclude: stage 1 drops padding rows after selection, so K shrinks and stage 2 fails",
            )
            .with_hint("use --padding_policy zero with --keep_first_full_frame (upstream's run script does)"),
        );
    }
    if num_images > 0 && !m.k.is_multiple_of(num_images) {
        out.push(
            Finding::error(
                "k-not-divisible",
                &loc,
                format!("K = {} does not divide into {num_images} images", m.k),
            )
            .with_hint("stage 2 needs K divisible by num_images"),
        );
    } else if m.padding_policy == "exclude" && num_images > 0 {
        let vr = &m.valid_ranges;
        if let (Some(h0), Some(h1), Some(w0), Some(w1)) = (
            vr.valid_h_start,
            vr.valid_h_end,
            vr.valid_w_start,
            vr.valid_w_end,
        ) {
            if m.k / num_images != (h1 - h0) * (w1 - w0) {
                out.push(Finding::error(
                    "exclude-chunk-mismatch",
                    &loc,
                    format!(
                        "padding_policy=exclude needs K/num_images = {} to equal the valid grid {}x{}: stage 2 fails",
                        m.k / num_images,
                        h1 - h0,
                        w1 - w0
                    ),
                ));
            }
        }
    }
    out
}

/// Checks a stage 2 sample folder: 8 square mosaics and matching positions.
pub fn lint_stage2_folder(
    dir: &Path,
    images_found: &[std::path::PathBuf],
    positions_path: Option<&Path>,
    num_images: usize,
    square: u32,
    deep: bool,
) -> Vec<Finding> {
    let loc = dir.display().to_string();
    let mut out = Vec::new();
    if images_found.len() != num_images {
        out.push(Finding::error(
            "codec-image-count",
            &loc,
            format!("{} images, expected {num_images}", images_found.len()),
        ));
    }
    for img in images_found {
        out.extend(images::lint_image(img, Some(square), deep));
    }
    match positions_path {
        Some(p) => {
            let expected = images_found.len() * Geometry::DEFAULT.s_total();
            out.extend(positions::lint_file(p, Geometry::DEFAULT, Some(expected)));
        }
        None => out.push(Finding::error(
            "missing-positions",
            &loc,
            "no positions_thw.npy",
        )),
    }
    out
}
