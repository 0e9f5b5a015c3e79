//! Writing a re-selection beside the originals, never over them: a new folder named after
//! the sample with `.whatif-{hash}` appended, holding the rows, the repacked mosaics and the
//! parameters that made them.

use std::path::{Path, PathBuf};

use crate::analysis::ResidualSource;
use crate::engine::{Outcome, Pipeline};
use crate::formats::{meta, naming, npy};

use super::sample::SampleData;

/// Where a what-if for `s` with `p` goes.
pub fn target_dir(s: &SampleData, p: &Pipeline, residual: ResidualSource) -> Option<PathBuf> {
    let base: PathBuf = s
        .dir
        .clone()
        .or_else(|| s.stage1.as_ref().map(|f| f.prefix.clone()))
        .or_else(|| s.video.clone())?;
    let key = format!(
        "{}|{}",
        serde_json::to_string(p).unwrap_or_default(),
        residual.as_str()
    );
    let name = format!(
        "{}.whatif-{}",
        base.file_name()?.to_string_lossy(),
        naming::h8(&key)
    );
    Some(base.with_file_name(name))
}

/// Writes `o`'s new selection; returns the folder.
pub fn write(
    s: &SampleData,
    o: &Outcome,
    p: &Pipeline,
    residual: ResidualSource,
) -> Result<PathBuf, String> {
    let dir = target_dir(s, p, residual).ok_or("no folder to write beside")?;
    let originals: Vec<&Path> = s.images.iter().map(PathBuf::as_path).collect();
    if originals.iter().any(|o| o.starts_with(&dir)) {
        return Err("refusing to write into the originals' folder".into());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let e = |e: std::io::Error| e.to_string();
    npy::write_rows(&dir.join("visidx_thw.npy"), &o.new.rows).map_err(e)?;
    if !o.repacked_positions.is_empty() {
        npy::write_rows(&dir.join("positions_thw.npy"), &o.repacked_positions).map_err(e)?;
    }
    npy::write_frame_ids(&dir.join("frame_ids.npy"), &o.summary.frame_ids).map_err(e)?;
    for (i, img) in o.repacked.iter().enumerate() {
        let name = s
            .images
            .get(i)
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("mosaic_{i:03}.jpg"));
        let path = dir.join(name);
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95)
            .encode_image(img)
            .map_err(|e| e.to_string())?;
        crate::formats::atomic::write_bytes_atomic(&path, &bytes).map_err(e)?;
    }
    let record = serde_json::json!({
        "params": p,
        "residual_source": residual.as_str(),
        "video": o.summary.video,
        "rows": o.new.rows.len(),
        "effect_vs_disk_params": {
            "added": o.effect.total_added(),
            "removed": o.effect.total_removed(),
            "recall": o.effect.recall(),
            "jaccard": o.effect.jaccard(),
        },
        "originals": s.dir.as_ref().map(|d| d.display().to_string()),
        "pack_error": o.pack_error,
    });
    meta::write_json(&dir.join("whatif.json"), &record).map_err(e)?;
    Ok(dir)
}
