//! `meta.json` files: stage 1's (one per selected sample) and the offline precompute's (one
//! per eval asset folder). Unknown fields are tolerated; a missing or mistyped field is an
//! error that names the file and the field.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How the frame was fitted into the square (SPEC 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PadInfo {
    pub scale: f64,
    #[serde(rename = "Hn")]
    pub hn: usize,
    #[serde(rename = "Wn")]
    pub wn: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub pad_bottom: usize,
    pub pad_right: usize,
    pub out_size: usize,
    #[serde(rename = "H0")]
    pub h0: usize,
    #[serde(rename = "W0")]
    pub w0: usize,
}

/// The patches fully inside the content box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidRanges {
    #[serde(rename = "S_valid")]
    pub s_valid: usize,
    pub hb_total: usize,
    pub wb_total: usize,
    /// Absent when no patch is valid (upstream then omits these four).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_h_start: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_h_end: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_w_start: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_w_end: Option<usize>,
}

impl ValidRanges {
    /// `(valid_h_start, rows, valid_w_start, cols)` of the valid grid, if any.
    pub fn grid(&self) -> Option<(usize, usize, usize, usize)> {
        let (hs, he, ws, we) = (
            self.valid_h_start?,
            self.valid_h_end?,
            self.valid_w_start?,
            self.valid_w_end?,
        );
        Some((hs, he.checked_sub(hs)?, ws, we.checked_sub(ws)?))
    }
}

/// Stage 1's `meta.json` (SPEC 1.2), field for field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage1Meta {
    pub sample_id: String,
    pub sample_key: String,
    pub video: String,
    #[serde(rename = "T")]
    pub t: usize,
    pub frame_ids: Option<Vec<i64>>,
    pub preprocess: String,
    pub square_size: usize,
    pub patch: usize,
    pub keep_frames_equiv: usize,
    pub padding_policy: String,
    pub keep_uniform_first: bool,
    pub keep_first_full_frame: bool,
    #[serde(rename = "H0")]
    pub h0: usize,
    #[serde(rename = "W0")]
    pub w0: usize,
    pub pad_info: PadInfo,
    pub hb: usize,
    pub wb: usize,
    #[serde(rename = "S_total")]
    pub s_total: usize,
    #[serde(rename = "S_valid")]
    pub s_valid: usize,
    #[serde(rename = "K")]
    pub k: usize,
    pub padding_patch_filtered: usize,
    pub valid_ranges: ValidRanges,
    /// Fields this project adds (residual source, notes); absent in upstream's files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecscope: Option<serde_json::Value>,
}

/// The parameters an eval asset folder was made with (offline meta `cfg`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfflineCfg {
    pub seq_len_frames: i64,
    pub num_images: i64,
    pub square_size: i64,
    pub patch_size: i64,
    pub mv_unit_div: f64,
    pub mv_pct: f64,
    pub res_pct: f64,
    pub w_mv: f64,
    pub w_res: f64,
    pub mv_compensate: String,
    pub res_use_grad: bool,
    pub window_len: i64,
    pub window_pick: String,
    pub keep_mid_full_frame: bool,
    pub mid_full_frame_index: i64,
    pub topk_mode: String,
    pub time_bucket_count: i64,
}

/// The offline precompute's `meta.json` (SPEC 1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfflineMeta {
    pub version: String,
    #[serde(default)]
    pub task: serde_json::Value,
    #[serde(default)]
    pub split: serde_json::Value,
    #[serde(default)]
    pub doc_id: serde_json::Value,
    #[serde(default)]
    pub n: serde_json::Value,
    pub video: String,
    pub key: String,
    pub created_at: String,
    pub cfg: OfflineCfg,
    #[serde(default)]
    pub debug: serde_json::Value,
    #[serde(default)]
    pub stats: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecscope: Option<serde_json::Value>,
}

/// A meta file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, MetaError> {
    let bytes = std::fs::read(path).map_err(|source| MetaError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| MetaError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

pub fn read_stage1_meta(path: &Path) -> Result<Stage1Meta, MetaError> {
    read_json(path)
}

pub fn read_offline_meta(path: &Path) -> Result<OfflineMeta, MetaError> {
    read_json(path)
}

/// Writes pretty JSON (2-space indent, as upstream's `json.dump(..., indent=2)`) atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    super::atomic::write_bytes_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.meta.json");
        std::fs::write(&p, r#"{"sample_id": "a"}"#).unwrap();
        let e = read_stage1_meta(&p).unwrap_err().to_string();
        assert!(
            e.contains("x.meta.json") && e.contains("missing field"),
            "{e}"
        );
        std::fs::write(&p, r#"{"version": "v", "video": 3}"#).unwrap();
        let e = read_offline_meta(&p).unwrap_err().to_string();
        assert!(e.contains("invalid type"), "{e}");
    }
}
