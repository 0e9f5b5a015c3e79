//! The engine end to end on the fixture video: decode, motion grid, selection, compared with
//! upstream's own outputs. With `w_res = 0` nothing depends on the residual, so the rows must
//! equal upstream's exactly (as sets: upstream's order among equal scores is arbitrary).

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use codecscope::analysis::ResidualSource;
use codecscope::formats::npy;
use codecscope::select::{select_stage1, MvCompensate, PaddingPolicy, Stage1Params};
use codecscope::video::{analyze, AnalyzeOptions};

fn file_ending(dir: &Path, suffix: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no *{suffix} in {}", dir.display()))
}

fn as_set(rows: &[[i32; 3]]) -> HashSet<[i32; 3]> {
    rows.iter().copied().collect()
}

#[test]
fn motion_only_first_full_equals_upstream() {
    let Some(fx) = common::fixtures() else { return };
    let video = fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    let dir = fx.join("upstream-motion-only/stage1_first_full");
    let expected = npy::read_rows(&file_ending(&dir, ".visidx_thw.npy")).unwrap();
    let expected_ids = npy::read_frame_ids(&file_ending(&dir, ".frame_ids.npy")).unwrap();

    let opts = AnalyzeOptions {
        residual: ResidualSource::None,
        ..Default::default()
    };
    let analysis = analyze(video.to_str().unwrap(), &opts).unwrap();
    assert_eq!(analysis.frame_ids, expected_ids);
    let p = Stage1Params {
        keep_first_full_frame: true,
        padding_policy: PaddingPolicy::Zero,
        w_res: 0.0,
        ..Default::default()
    };
    let sel = select_stage1(&analysis, &p);
    assert_eq!(sel.rows.len(), expected.len());
    assert_eq!(
        &sel.rows[..1296],
        &expected[..1296],
        "t=0 in raster order first"
    );
    assert_eq!(
        as_set(&sel.rows),
        as_set(&expected),
        "rows differ from upstream's motion-only selection"
    );
}

#[test]
fn motion_only_uniform_exclude_t48_equals_upstream() {
    let Some(fx) = common::fixtures() else { return };
    let video = fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    let dir = fx.join("upstream-motion-only/stage1_uniform_exclude");
    let expected = npy::read_rows(&file_ending(&dir, ".visidx_thw.npy")).unwrap();
    let expected_ids = npy::read_frame_ids(&file_ending(&dir, ".frame_ids.npy")).unwrap();

    let opts = AnalyzeOptions {
        sequence_length: 48,
        residual: ResidualSource::None,
        ..Default::default()
    };
    let analysis = analyze(video.to_str().unwrap(), &opts).unwrap();
    assert_eq!(analysis.frame_ids, expected_ids);
    let p = Stage1Params {
        sequence_length: 48,
        keep_frames_equiv: 6,
        keep_uniform_first: true,
        mv_compensate: MvCompensate::None,
        w_res: 0.0,
        ..Default::default()
    };
    let sel = select_stage1(&analysis, &p);
    assert_eq!(sel.k, expected.len());
    assert_eq!(as_set(&sel.rows), as_set(&expected));
}
