//! Batch runs score each sampled frame as soon as its residual is made (emulated or exact)
//! and keep the scores instead of the residual's samples: the selection must not change.

mod video_support;
use video_support as common;

use codecscope::analysis::{Analysis, ResidualPlane, ResidualSource};
use codecscope::select::{select_offline, select_stage1, FuseMode, OfflineParams, Stage1Params};
use codecscope::video::{analyze, analyze_offline, AnalyzeOptions, OfflineOptions};

fn all_scored(a: &Analysis) -> bool {
    a.frames
        .iter()
        .all(|f| matches!(f.residual, Some(ResidualPlane::Scored(_))))
}

fn all_sampled(a: &Analysis) -> bool {
    a.frames
        .iter()
        .all(|f| matches!(f.residual, Some(ResidualPlane::Sampled(_))))
}

/// Offline precompute, plain and gradient energy: same rows, scores and energy sums. Scoring
/// under other knobs counts the early scores as absent and says so instead of using them.
#[test]
fn offline_early_scores_select_as_kept_samples_do() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = common::x264_clip(dir.path(), "e.mp4", "208x120", 90, &["-bf", "3"]);
    let path = clip.to_str().unwrap();
    for residual in [ResidualSource::Emulate, ResidualSource::Exact] {
        for grad in [false, true] {
            let p = OfflineParams {
                res_use_grad: grad,
                ..OfflineParams::default()
            };
            let opts = |early: bool| OfflineOptions {
                residual,
                residual_keep: p.residual_keep(),
                score_early: early.then(|| p.energy()),
                ..OfflineOptions::default()
            };
            let late = analyze_offline(path, &opts(false)).unwrap().analysis;
            let early = analyze_offline(path, &opts(true)).unwrap().analysis;
            let what = format!("{residual:?} grad {grad}");
            assert!(all_scored(&early) && all_sampled(&late), "{what}");
            let (a, b) = (select_offline(&late, &p), select_offline(&early, &p));
            assert_eq!(a.rows, b.rows, "{what}");
            assert!(a.scores == b.scores && a.energy == b.energy, "{what}");
            assert!(a.scores.iter().any(|&s| s > 0.0));
            let other = OfflineParams {
                w_res: 0.5,
                ..p.clone()
            };
            let s = select_offline(&early, &other);
            assert!(
                s.notes
                    .iter()
                    .any(|n| n.contains("kept for other scoring knobs")),
                "{what}: {:?}",
                s.notes
            );
            assert_ne!(s.scores, select_offline(&late, &other).scores, "{what}");
        }
    }
}

/// Stage 1 with every fusion mode, on a clip with B-frames and an odd size: same rows,
/// scores and energy sums as scoring the kept samples after decoding.
#[test]
fn stage1_early_scores_select_as_kept_samples_do() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = common::x264_clip(dir.path(), "s.mp4", "234x142", 100, &["-bf", "2"]);
    let path = clip.to_str().unwrap();
    let modes = [
        FuseMode::Weighted,
        FuseMode::Max,
        FuseMode::Sum,
        FuseMode::Geomean,
    ];
    for residual in [ResidualSource::Emulate, ResidualSource::Exact] {
        for (i, fuse_mode) in modes.into_iter().enumerate() {
            let p = Stage1Params {
                fuse_mode,
                res_use_grad: i == 1,
                w_res: if i == 0 { 2.0 } else { 1.0 },
                ..Stage1Params::default()
            };
            let opts = |early: bool| AnalyzeOptions {
                residual,
                residual_keep: p.residual_keep(),
                score_early: early.then(|| p.energy()),
                ..AnalyzeOptions::default()
            };
            let late = analyze(path, &opts(false)).unwrap();
            let early = analyze(path, &opts(true)).unwrap();
            let what = format!("{residual:?} {fuse_mode:?}");
            assert!(all_scored(&early) && all_sampled(&late), "{what}");
            let (a, b) = (select_stage1(&late, &p), select_stage1(&early, &p));
            assert_eq!(a.rows, b.rows, "{what}");
            assert!(a.scores == b.scores && a.energy == b.energy, "{what}");
            assert_eq!(a.notes, b.notes, "{what}");
        }
    }
}
