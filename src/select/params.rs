//! Every knob of upstream's stage 1, stage 2 and offline precompute, with upstream's defaults
//! and spellings (SPEC 4), plus `validate()` that explains combinations that fail or surprise.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::analysis::ResidualKeep;
use crate::diagnose::Severity;

/// How padding patches (the black border of the square) are treated (SPEC 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaddingPolicy {
    /// Padding scores -1e6 and the budget counts valid patches only.
    #[default]
    Exclude,
    /// Padding scores -1e-4 and the budget counts whole frames.
    Zero,
}

/// How motion and residual energy are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FuseMode {
    #[default]
    Weighted,
    Max,
    Sum,
    Geomean,
}

/// What is subtracted from the motion vectors before taking magnitudes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MvCompensate {
    #[default]
    Median,
    Mean,
    None,
}

/// Which window of a long video the offline precompute samples (SPEC 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowPick {
    #[default]
    None,
    Begin,
    Mid,
    End,
    Energy3,
}

/// How the offline precompute picks the patches beyond the full frames (SPEC 2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopkMode {
    #[default]
    Global,
    TimeBucket,
}

/// Where packed patches go in the images (SPEC 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    #[default]
    TimeSpatial,
    Spatial,
}

/// A value that is not one of the accepted spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub accepted: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?} (accepted: {})",
            self.what,
            self.value,
            self.accepted.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

macro_rules! spelled_enum {
    ($ty:ident, $what:literal, [$($variant:ident => $name:literal $(| $alias:literal)*),+ $(,)?]) => {
        impl $ty {
            /// Upstream's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// Every accepted primary spelling.
            pub const NAMES: &'static [&'static str] = &[$($name),+];
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownValue;
            /// Case-insensitive, like upstream's `.lower()`; `-` and `_` are interchangeable.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let norm = s.trim().to_ascii_lowercase().replace('-', "_");
                $(
                    if norm == $name $(|| norm == $alias)* {
                        return Ok($ty::$variant);
                    }
                )+
                Err(UnknownValue { what: $what, value: s.to_string(), accepted: Self::NAMES })
            }
        }
    };
}

spelled_enum!(PaddingPolicy, "padding policy", [Exclude => "exclude", Zero => "zero"]);
spelled_enum!(FuseMode, "fuse mode", [
    Weighted => "weighted", Max => "max", Sum => "sum", Geomean => "geomean",
]);
spelled_enum!(MvCompensate, "motion compensation", [
    Median => "median", Mean => "mean", None => "none",
]);
spelled_enum!(WindowPick, "window pick", [
    None => "none",
    Begin => "begin" | "start",
    Mid => "mid" | "middle",
    End => "end" | "tail",
    Energy3 => "energy3" | "energy_begin_mid_end",
]);
spelled_enum!(TopkMode, "top-k mode", [Global => "global", TimeBucket => "time_bucket"]);
spelled_enum!(Layout, "layout", [TimeSpatial => "time_spatial", Spatial => "spatial"]);

/// One thing `validate()` found: what would fail upstream (error) or surprise (warning).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamProblem {
    pub severity: Severity,
    /// The parameter (upstream's spelling) the problem is about.
    pub field: &'static str,
    pub message: String,
}

impl ParamProblem {
    fn error(field: &'static str, message: impl Into<String>) -> Self {
        ParamProblem {
            severity: Severity::Error,
            field,
            message: message.into(),
        }
    }
    fn warning(field: &'static str, message: impl Into<String>) -> Self {
        ParamProblem {
            severity: Severity::Warning,
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParamProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.severity.as_str(),
            self.field,
            self.message
        )
    }
}

/// The energy knobs shared by stage 1 and the offline precompute (SPEC 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnergyParams {
    pub mv_unit_div: f64,
    pub mv_pct: f64,
    pub res_pct: f64,
    pub fuse_mode: FuseMode,
    pub w_mv: f64,
    pub w_res: f64,
    pub mv_compensate: MvCompensate,
    pub res_use_grad: bool,
}

impl Default for EnergyParams {
    fn default() -> Self {
        EnergyParams {
            mv_unit_div: 4.0,
            mv_pct: 95.0,
            res_pct: 95.0,
            fuse_mode: FuseMode::Weighted,
            w_mv: 1.0,
            w_res: 1.0,
            mv_compensate: MvCompensate::Median,
            res_use_grad: false,
        }
    }
}

impl EnergyParams {
    fn problems(&self, out: &mut Vec<ParamProblem>) {
        if self.mv_unit_div == 0.0 || !self.mv_unit_div.is_finite() {
            out.push(ParamProblem::error(
                "mv_unit_div",
                format!(
                    "{} makes every motion value infinite or NaN",
                    self.mv_unit_div
                ),
            ));
        } else if self.mv_unit_div < 0.0 {
            out.push(ParamProblem::warning(
                "mv_unit_div",
                "a negative divisor only flips the vectors; magnitudes are unchanged",
            ));
        }
        for (field, v) in [("mv_pct", self.mv_pct), ("res_pct", self.res_pct)] {
            if !(0.0..=100.0).contains(&v) {
                out.push(ParamProblem::error(
                    field,
                    format!("{v} is outside 0..100 (NumPy's percentile raises)"),
                ));
            }
        }
        if !self.w_mv.is_finite() || !self.w_res.is_finite() {
            out.push(ParamProblem::error(
                "w_mv",
                "weights must be finite numbers",
            ));
        }
        if self.w_mv < 0.0 || self.w_res < 0.0 {
            out.push(ParamProblem::warning(
                "w_mv",
                "a negative weight scores energy as a penalty (clipped at 0)",
            ));
        }
        if self.fuse_mode == FuseMode::Weighted && self.w_mv == 0.0 && self.w_res == 0.0 {
            out.push(ParamProblem::warning(
                "w_mv",
                "w_mv = w_res = 0: every score is 0 and the selection is decided by ties alone",
            ));
        }
        if self.fuse_mode != FuseMode::Weighted && (self.w_mv != 1.0 || self.w_res != 1.0) {
            out.push(ParamProblem::warning(
                "fuse_mode",
                format!("weights are ignored by fuse_mode {}", self.fuse_mode),
            ));
        }
    }
}

/// Square and patch geometry problems shared by every tool.
fn geometry_problems(square: usize, patch: usize, out: &mut Vec<ParamProblem>) {
    if patch == 0 {
        out.push(ParamProblem::error("patch_size", "must be at least 1"));
    } else if square == 0 {
        out.push(ParamProblem::error("square_size", "must be at least 1"));
    } else if !square.is_multiple_of(patch) {
        out.push(ParamProblem::error(
            "square_size",
            format!("{square} is not a multiple of patch {patch} (upstream asserts)"),
        ));
    }
}

/// Stage 1 (`stage1.py`) parameters, upstream defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stage1Params {
    pub sequence_length: usize,
    pub sample_start_offset: i64,
    pub patch_size: usize,
    pub square_size: usize,
    pub keep_frames_equiv: usize,
    pub padding_policy: PaddingPolicy,
    pub keep_uniform_first: bool,
    pub keep_first_full_frame: bool,
    pub mv_unit_div: f64,
    pub mv_pct: f64,
    pub res_pct: f64,
    pub fuse_mode: FuseMode,
    pub w_mv: f64,
    pub w_res: f64,
    pub mv_compensate: MvCompensate,
    pub res_use_grad: bool,
}

impl Default for Stage1Params {
    fn default() -> Self {
        let e = EnergyParams::default();
        Stage1Params {
            sequence_length: 64,
            sample_start_offset: 0,
            patch_size: 16,
            square_size: 576,
            keep_frames_equiv: 8,
            padding_policy: PaddingPolicy::Exclude,
            keep_uniform_first: false,
            keep_first_full_frame: false,
            mv_unit_div: e.mv_unit_div,
            mv_pct: e.mv_pct,
            res_pct: e.res_pct,
            fuse_mode: e.fuse_mode,
            w_mv: e.w_mv,
            w_res: e.w_res,
            mv_compensate: e.mv_compensate,
            res_use_grad: e.res_use_grad,
        }
    }
}

impl Stage1Params {
    /// Upstream's own run script: `--padding_policy zero --keep_first_full_frame`.
    pub fn upstream_run_script() -> Self {
        Stage1Params {
            padding_policy: PaddingPolicy::Zero,
            keep_first_full_frame: true,
            ..Self::default()
        }
    }

    pub fn energy(&self) -> EnergyParams {
        EnergyParams {
            mv_unit_div: self.mv_unit_div,
            mv_pct: self.mv_pct,
            res_pct: self.res_pct,
            fuse_mode: self.fuse_mode,
            w_mv: self.w_mv,
            w_res: self.w_res,
            mv_compensate: self.mv_compensate,
            res_use_grad: self.res_use_grad,
        }
    }

    /// What of each residual picture a run with these parameters reads.
    pub fn residual_keep(&self) -> ResidualKeep {
        ResidualKeep::ForScoring {
            square_size: self.square_size,
            patch: self.patch_size,
            grad: self.res_use_grad,
        }
    }

    /// Problems that do not depend on the video.
    pub fn validate(&self) -> Vec<ParamProblem> {
        self.validate_for_size(None)
    }

    /// Problems for a video of `(height, width)` when known (the budget under `exclude`
    /// depends on the number of valid patches). Stage 2's default `num_images` is 8.
    pub fn validate_for_size(&self, size: Option<(usize, usize)>) -> Vec<ParamProblem> {
        let mut out = Vec::new();
        geometry_problems(self.square_size, self.patch_size, &mut out);
        self.energy().problems(&mut out);
        if self.sequence_length == 0 {
            out.push(ParamProblem::error("sequence_length", "must be at least 1"));
        }
        if self.keep_frames_equiv == 0 {
            out.push(ParamProblem::error(
                "keep_frames_equiv",
                "0 selects nothing (K = 0); stage 2 then has nothing to pack",
            ));
        }
        if self.sample_start_offset < 0 {
            out.push(ParamProblem::warning(
                "sample_start_offset",
                "negative offsets are clamped to 0",
            ));
        }
        if self.keep_first_full_frame && self.padding_policy == PaddingPolicy::Exclude {
            out.push(ParamProblem::warning(
                "keep_first_full_frame",
                "with padding_policy exclude, the padding rows picked by the first-full policy \
                 (those of t=0 included) are dropped after selection: K shrinks and stage 2 \
                 fails because the chunks no longer match the valid grid",
            ));
        }
        if self.keep_first_full_frame && self.keep_uniform_first {
            out.push(ParamProblem::warning(
                "keep_uniform_first",
                "ignored: keep_first_full_frame wins when both are set",
            ));
        }
        let t = self.sequence_length;
        let kfe = self.keep_frames_equiv;
        if self.keep_first_full_frame && kfe > 1 && t > 0 {
            if kfe - 1 > t {
                out.push(ParamProblem::error(
                    "keep_frames_equiv",
                    format!(
                        "{kfe} full frames from {t} sampled: upstream's top-k asks for more \
                         patches than exist and fails"
                    ),
                ));
            } else if kfe > t {
                out.push(ParamProblem::warning(
                    "keep_frames_equiv",
                    format!(
                        "{kfe} full frames from {t} sampled: the remainder takes t=0 patches \
                         again (duplicate rows)"
                    ),
                ));
            }
        } else if kfe > t && t > 0 {
            out.push(ParamProblem::warning(
                "keep_frames_equiv",
                format!("capped at sequence_length {t}"),
            ));
        }
        if self.patch_size > 0 && self.square_size.is_multiple_of(self.patch_size) {
            let side = self.square_size / self.patch_size;
            let s_total = side * side;
            let k = match (self.keep_first_full_frame, self.padding_policy, size) {
                (true, PaddingPolicy::Zero, _) => Some(kfe * s_total),
                (false, PaddingPolicy::Zero, _) => Some(kfe.min(t) * s_total),
                (first_full, PaddingPolicy::Exclude, Some((h, w))) if h > 0 && w > 0 => {
                    let g =
                        super::square::SquareGeometry::new(h, w, self.square_size, self.patch_size);
                    let s_valid = g.s_valid();
                    if first_full {
                        // Rows after the exclude filter: t=0's valid patches plus whatever
                        // valid patches the remainder picked; at best the whole budget.
                        let padding = s_total - s_valid;
                        if padding > 0 {
                            out.push(ParamProblem::warning(
                                "padding_policy",
                                format!(
                                    "this video has {padding} padding patches per frame: at \
                                     least {padding} rows of t=0 are dropped"
                                ),
                            ));
                        }
                        Some((kfe * s_total).saturating_sub(padding))
                    } else {
                        Some(kfe.min(t) * s_valid)
                    }
                }
                _ => None,
            };
            if let Some(k) = k {
                if k > 0 && k % 8 != 0 {
                    out.push(ParamProblem::warning(
                        "keep_frames_equiv",
                        format!("K = {k} is not divisible by 8 images: stage 2 fails"),
                    ));
                }
            }
        }
        out
    }
}

/// Offline precompute (`offline_precompute_llava_codec_assets.py`) parameters, upstream defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OfflineParams {
    pub seq_len_frames: usize,
    pub num_images: usize,
    pub square_size: usize,
    pub patch_size: usize,
    pub mv_unit_div: f64,
    pub mv_pct: f64,
    pub res_pct: f64,
    pub w_mv: f64,
    pub w_res: f64,
    pub mv_compensate: MvCompensate,
    pub res_use_grad: bool,
    pub window_len: i64,
    pub window_pick: WindowPick,
    pub keep_mid_full_frame: bool,
    pub mid_full_frame_index: i64,
    pub topk_mode: TopkMode,
    pub time_bucket_count: i64,
}

impl Default for OfflineParams {
    fn default() -> Self {
        let e = EnergyParams::default();
        OfflineParams {
            seq_len_frames: 64,
            num_images: 8,
            square_size: 576,
            patch_size: 16,
            mv_unit_div: e.mv_unit_div,
            mv_pct: e.mv_pct,
            res_pct: e.res_pct,
            w_mv: e.w_mv,
            w_res: e.w_res,
            mv_compensate: e.mv_compensate,
            res_use_grad: e.res_use_grad,
            window_len: 0,
            window_pick: WindowPick::None,
            keep_mid_full_frame: false,
            mid_full_frame_index: -1,
            topk_mode: TopkMode::Global,
            time_bucket_count: -1,
        }
    }
}

impl OfflineParams {
    /// Fusion is always `weighted` offline.
    pub fn energy(&self) -> EnergyParams {
        EnergyParams {
            mv_unit_div: self.mv_unit_div,
            mv_pct: self.mv_pct,
            res_pct: self.res_pct,
            fuse_mode: FuseMode::Weighted,
            w_mv: self.w_mv,
            w_res: self.w_res,
            mv_compensate: self.mv_compensate,
            res_use_grad: self.res_use_grad,
        }
    }

    /// What of each residual picture a run with these parameters reads.
    pub fn residual_keep(&self) -> ResidualKeep {
        ResidualKeep::ForScoring {
            square_size: self.square_size,
            patch: self.patch_size,
            grad: self.res_use_grad,
        }
    }

    pub fn validate(&self) -> Vec<ParamProblem> {
        self.validate_for_size(None)
    }

    /// With the video size, the time-bucket row count (and its padding by repetition) is exact.
    pub fn validate_for_size(&self, size: Option<(usize, usize)>) -> Vec<ParamProblem> {
        let mut out = Vec::new();
        geometry_problems(self.square_size, self.patch_size, &mut out);
        self.energy().problems(&mut out);
        let t = self.seq_len_frames;
        if t == 0 {
            out.push(ParamProblem::error("seq_len_frames", "must be at least 1"));
        }
        if self.num_images == 0 {
            out.push(ParamProblem::error("num_images", "must be at least 1"));
        }
        if self.window_len <= 0 && self.window_pick != WindowPick::None {
            out.push(ParamProblem::warning(
                "window_pick",
                "has no effect without window_len > 0",
            ));
        }
        if self.keep_mid_full_frame && (self.num_images < 2 || t < 2) {
            out.push(ParamProblem::warning(
                "keep_mid_full_frame",
                "ignored: needs num_images >= 2 and seq_len_frames >= 2",
            ));
        }
        if self.topk_mode != TopkMode::TimeBucket && self.time_bucket_count > 0 {
            out.push(ParamProblem::warning(
                "time_bucket_count",
                "only used with topk_mode time_bucket",
            ));
        }
        if self.patch_size == 0 || !self.square_size.is_multiple_of(self.patch_size) || t == 0 {
            return out;
        }
        let side = self.square_size / self.patch_size;
        let s_total = side * side;
        let s_valid = match size {
            Some((h, w)) if h > 0 && w > 0 => {
                super::square::SquareGeometry::new(h, w, self.square_size, self.patch_size)
                    .s_valid()
            }
            _ => s_total,
        };
        let plan = super::policy::offline_plan(t, self.num_images, s_total, s_valid, self);
        if plan.bucket_count_clamped {
            out.push(ParamProblem::warning(
                "time_bucket_count",
                format!(
                    "{} clamped to {} (one bucket per remaining frame at most)",
                    self.time_bucket_count, plan.bucket_count
                ),
            ));
        }
        if plan.repeated_rows > 0 {
            out.push(ParamProblem::warning(
                "time_bucket_count",
                format!(
                    "the selection is {} rows short of {} and upstream repeats the last row {} \
                     times (duplicate positions)",
                    plan.repeated_rows,
                    self.num_images * s_total,
                    plan.repeated_rows
                ),
            ));
        }
        out
    }
}

/// Stage 2 (`stage2.py --mode pack`) parameters. `padding_policy` comes from the stage-1 meta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackParams {
    pub num_images: usize,
    pub square_size: usize,
    pub patch: usize,
    #[serde(rename = "T")]
    pub t: usize,
    pub layout: Layout,
    pub first_full: bool,
    pub padding_policy: PaddingPolicy,
}

impl Default for PackParams {
    fn default() -> Self {
        PackParams {
            num_images: 8,
            square_size: 576,
            patch: 16,
            t: 64,
            layout: Layout::TimeSpatial,
            first_full: false,
            padding_policy: PaddingPolicy::Exclude,
        }
    }
}

impl PackParams {
    /// Upstream's run script: `--layout time_spatial --first_full`, padding from the meta.
    pub fn upstream_run_script(padding_policy: PaddingPolicy) -> Self {
        PackParams {
            first_full: true,
            padding_policy,
            ..Self::default()
        }
    }

    pub fn validate(&self) -> Vec<ParamProblem> {
        let mut out = Vec::new();
        geometry_problems(self.square_size, self.patch, &mut out);
        if self.num_images == 0 {
            out.push(ParamProblem::error("num_images", "must be at least 1"));
        }
        out
    }

    /// Problems of packing `k` stage-1 rows with these parameters (SPEC 1.3, 2.6).
    pub fn validate_rows(&self, k: usize, valid_grid: Option<(usize, usize)>) -> Vec<ParamProblem> {
        let mut out = self.validate();
        if self.num_images == 0 || self.patch == 0 || !self.square_size.is_multiple_of(self.patch) {
            return out;
        }
        if !k.is_multiple_of(self.num_images) {
            out.push(ParamProblem::error(
                "num_images",
                format!("K = {k} is not divisible by {} images", self.num_images),
            ));
            return out;
        }
        let s_img = k / self.num_images;
        let side = self.square_size / self.patch;
        if self.layout == Layout::TimeSpatial {
            match self.padding_policy {
                PaddingPolicy::Zero if s_img != side * side => out.push(ParamProblem::error(
                    "padding_policy",
                    format!("zero expects {} rows per image, got {s_img}", side * side),
                )),
                PaddingPolicy::Exclude => match valid_grid {
                    Some((vh, vw)) if vh * vw != s_img => out.push(ParamProblem::error(
                        "padding_policy",
                        format!(
                            "exclude expects the valid grid {vh}x{vw} = {} rows per image, \
                             got {s_img}",
                            vh * vw
                        ),
                    )),
                    None => out.push(ParamProblem::error(
                        "padding_policy",
                        "exclude needs valid_ranges from the stage-1 meta",
                    )),
                    _ => {}
                },
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in ["exclude", "zero"] {
            assert_eq!(s.parse::<PaddingPolicy>().unwrap().as_str(), s);
        }
        assert_eq!(
            "TIME_BUCKET".parse::<TopkMode>().unwrap(),
            TopkMode::TimeBucket
        );
        assert_eq!(
            "time-spatial".parse::<Layout>().unwrap(),
            Layout::TimeSpatial
        );
        assert_eq!("tail".parse::<WindowPick>().unwrap(), WindowPick::End);
        assert!("median3".parse::<MvCompensate>().is_err());
        let j = serde_json::to_string(&OfflineParams::default()).unwrap();
        assert!(j.contains("\"topk_mode\":\"global\""), "{j}");
        assert!(j.contains("\"window_pick\":\"none\""), "{j}");
        let back: OfflineParams = serde_json::from_str(&j).unwrap();
        assert_eq!(back, OfflineParams::default());
        let p: Stage1Params = serde_json::from_str(r#"{"padding_policy":"zero"}"#).unwrap();
        assert_eq!(p.padding_policy, PaddingPolicy::Zero);
        assert_eq!(p.sequence_length, 64);
    }

    #[test]
    fn stage1_warnings() {
        assert!(Stage1Params::default().validate().is_empty());
        assert!(Stage1Params::upstream_run_script().validate().is_empty());
        let p = Stage1Params {
            keep_first_full_frame: true,
            ..Stage1Params::default()
        };
        let probs = p.validate_for_size(Some((640, 360)));
        assert!(probs.iter().any(|x| x.field == "keep_first_full_frame"));
        assert!(
            probs
                .iter()
                .any(|x| x.message.contains("576 padding patches")),
            "{probs:?}"
        );
        let p = Stage1Params {
            keep_frames_equiv: 3,
            padding_policy: PaddingPolicy::Exclude,
            ..Default::default()
        };
        // 3 * 720 = 2160 = 270 * 8: fine; 5 * 1296 with zero is fine too.
        assert!(p.validate_for_size(Some((640, 360))).is_empty());
        let p = Stage1Params {
            square_size: 100,
            ..Default::default()
        };
        assert_eq!(p.validate()[0].severity, Severity::Error);
        let p = Stage1Params {
            keep_first_full_frame: true,
            sequence_length: 4,
            padding_policy: PaddingPolicy::Zero,
            ..Default::default()
        };
        assert!(p.validate().iter().any(|x| x.severity == Severity::Error));
    }

    #[test]
    fn offline_repeat_warning() {
        let p = OfflineParams {
            topk_mode: TopkMode::TimeBucket,
            time_bucket_count: 2,
            ..OfflineParams::default()
        };
        let probs = p.validate();
        assert!(
            probs
                .iter()
                .any(|x| x.message.contains("repeats the last row 6480")),
            "{probs:?}"
        );
        assert!(OfflineParams::default().validate().is_empty());
    }
}
