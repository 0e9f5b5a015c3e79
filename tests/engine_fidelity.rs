//! The engine end to end on the fixture video: decode, motion grid, selection, compared with
//! upstream's own outputs. With `w_res = 0` nothing depends on the residual, so the rows must
//! equal upstream's exactly (as sets: upstream's order among equal scores is arbitrary).

mod common;

use std::collections::HashSet;

use codecscope::analysis::ResidualSource;
use codecscope::formats::npy;
use codecscope::select::{select_stage1, MvCompensate, PaddingPolicy, Stage1Params};
use codecscope::video::{analyze, AnalyzeOptions};

fn as_set(rows: &[[i32; 3]]) -> HashSet<[i32; 3]> {
    rows.iter().copied().collect()
}

#[test]
fn motion_only_first_full_equals_upstream() {
    let Some(fx) = common::fixtures() else { return };
    let video = fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    let dir = fx.join("upstream-motion-only/stage1_first_full");
    let expected = npy::read_rows(&common::file_ending(&dir, ".visidx_thw.npy")).unwrap();
    let expected_ids = npy::read_frame_ids(&common::file_ending(&dir, ".frame_ids.npy")).unwrap();

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
    let expected = npy::read_rows(&common::file_ending(&dir, ".visidx_thw.npy")).unwrap();
    let expected_ids = npy::read_frame_ids(&common::file_ending(&dir, ".frame_ids.npy")).unwrap();

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

#[test]
fn packing_fixture_rows_reproduces_stage2() {
    use codecscope::select::{self, Layout, PackParams, SquareGeometry};
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let rows = npy::read_rows(&common::file_ending(
        &demo.join("stage1"),
        ".visidx_thw.npy",
    ))
    .unwrap();
    let ids =
        npy::read_frame_ids(&common::file_ending(&demo.join("stage1"), ".frame_ids.npy")).unwrap();
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
        let db_raw = common::psnr(ours, theirs.as_raw());
        let db_jpeg = common::psnr(ours_jpeg.as_raw(), theirs.as_raw());
        eprintln!("mosaic {i}: PSNR vs upstream JPEG: pixels {db_raw:.2} dB, after our JPEG {db_jpeg:.2} dB");
        worst = worst.min(db_jpeg);
    }
    assert!(
        worst >= 40.0,
        "worst mosaic PSNR {worst:.2} dB is below 40 dB"
    );
}

#[test]
fn motion_only_precompute_mid_bucket_equals_upstream() {
    use codecscope::select::{select_offline, OfflineParams, TopkMode};
    use codecscope::video::{analyze_offline, OfflineOptions};
    let Some(fx) = common::fixtures() else { return };
    let video = fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    let dir = fx.join("upstream-motion-only/precompute_mid_bucket");
    let opts = OfflineOptions {
        residual: ResidualSource::None,
        ..Default::default()
    };
    let oa = analyze_offline(video.to_str().unwrap(), &opts).unwrap();
    assert_eq!(
        oa.analysis.frame_ids,
        npy::read_frame_ids(&dir.join("frame_ids.npy")).unwrap()
    );
    let p = OfflineParams {
        w_res: 0.0,
        keep_mid_full_frame: true,
        topk_mode: TopkMode::TimeBucket,
        time_bucket_count: 4,
        ..Default::default()
    };
    let sel = select_offline(&oa.analysis, &p);
    let expected = npy::read_rows(&dir.join("positions_thw.npy")).unwrap();
    let (ours, theirs) = (as_set(&sel.rows), as_set(&expected));
    let missing: Vec<_> = theirs.difference(&ours).take(5).collect();
    let extra: Vec<_> = ours.difference(&theirs).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "rows differ: missing {missing:?}, extra {extra:?}"
    );
    // Same set; the repeated last row (upstream's padding to the target) must match too.
    assert!(
        sel.rows == expected,
        "same set, but the repeated rows differ"
    );
    assert!(
        sel.visible_indices == npy::read_visible_indices(&dir.join("visible_indices.npy")).unwrap()
    );
}

/// Recall of the fixture's dynamic rows (t >= 1, as a set) and the Pearson correlation of
/// per-frame counts for t = 1..T-1 (SPEC 3).
fn recall_and_correlation(ours: &[[i32; 3]], theirs: &[[i32; 3]], t: usize) -> (f64, f64) {
    let dynamic: HashSet<[i32; 3]> = theirs.iter().copied().filter(|r| r[0] >= 1).collect();
    let mine = as_set(ours);
    let recall =
        dynamic.iter().filter(|r| mine.contains(*r)).count() as f64 / dynamic.len().max(1) as f64;
    let count = |rows: &[[i32; 3]]| {
        let mut c = vec![0f64; t];
        for r in rows {
            c[r[0] as usize] += 1.0;
        }
        c[1..].to_vec()
    };
    let (a, b) = (count(ours), count(theirs));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    (recall, cov / (va * vb).sqrt())
}

#[test]
fn emulated_residual_selection_recall_on_fixture() {
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let expected = npy::read_rows(&common::file_ending(
        &demo.join("stage1"),
        ".visidx_thw.npy",
    ))
    .unwrap();
    let video = demo.join("videos/ytb_XwB-dkS5BVM.mp4");
    let p = Stage1Params {
        keep_first_full_frame: true,
        padding_policy: PaddingPolicy::Zero,
        ..Default::default()
    };
    for source in [
        ResidualSource::Emulate,
        ResidualSource::FrameDiff,
        ResidualSource::None,
    ] {
        let opts = AnalyzeOptions {
            residual: source,
            ..Default::default()
        };
        let analysis = analyze(video.to_str().unwrap(), &opts).unwrap();
        let sel = select_stage1(&analysis, &p);
        let (recall, r) = recall_and_correlation(&sel.rows, &expected, 64);
        eprintln!("residual {}: recall of upstream's dynamic rows {recall:.3}, per-frame count r = {r:.3}", source.as_str());
        if source == ResidualSource::Emulate {
            assert!(recall >= 0.80, "emulator recall {recall:.3} below 0.80");
            assert!(r >= 0.9, "emulator per-frame correlation {r:.3} below 0.9");
        }
    }
}
