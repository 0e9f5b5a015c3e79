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

/// PSNR in dB between two same-sized 8-bit buffers.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

#[test]
fn packing_fixture_rows_reproduces_stage2() {
    use codecscope::select::{self, Layout, PackParams, SquareGeometry};
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let rows = npy::read_rows(&file_ending(&demo.join("stage1"), ".visidx_thw.npy")).unwrap();
    let ids = npy::read_frame_ids(&file_ending(&demo.join("stage1"), ".frame_ids.npy")).unwrap();
    let s2 = demo.join("stage2/sample_XwB-dkS5BVM__ytb_XwB-dkS5BVM__58574aa9");
    let expected_pos = npy::read_rows(&s2.join("positions_thw.npy")).unwrap();
    let p = PackParams {
        first_full: true,
        layout: Layout::TimeSpatial,
        padding_policy: PaddingPolicy::Zero,
        ..Default::default()
    };
    let plan = select::plan_stage2(&rows, &p, None).unwrap();
    assert_eq!(
        plan.positions, expected_pos,
        "positions_thw must equal upstream's exactly"
    );

    let video = demo.join("videos/ytb_XwB-dkS5BVM.mp4");
    let frames = codecscope::video::read_frames_rgb(
        video.to_str().unwrap(),
        &ids.iter().map(|&i| i as i64).collect::<Vec<_>>(),
    )
    .unwrap();
    let packed = select::render(&plan, 3, |t| -> Result<Vec<u8>, String> {
        let f = &frames[t];
        let g = SquareGeometry::new(f.height, f.width, 576, 16);
        Ok(select::square_frame_u8(&f.data, f.width, f.height, 3, &g))
    })
    .unwrap();
    let mut worst = f64::INFINITY;
    for (i, ours) in packed.images.iter().enumerate() {
        let theirs = image::open(s2.join(format!("ytb_XwB-dkS5BVM_{i:03}.jpg")))
            .unwrap()
            .to_rgb8();
        let jpeg = codecscope::formats::jpeg::encode_rgb(ours, 576, 576, 95).unwrap();
        let ours_jpeg = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        let db_raw = psnr(ours, theirs.as_raw());
        let db_jpeg = psnr(ours_jpeg.as_raw(), theirs.as_raw());
        eprintln!("mosaic {i}: PSNR vs upstream JPEG: pixels {db_raw:.2} dB, after our JPEG {db_jpeg:.2} dB");
        worst = worst.min(db_jpeg);
    }
    assert!(
        worst >= 40.0,
        "worst mosaic PSNR {worst:.2} dB is below 40 dB"
    );
}
