//! Selection and packing against upstream's real outputs in `shared/fixtures`.
//!
//! The fixtures live beside the repository (`../shared/fixtures`), or where
//! `CODECSCOPE_SHARED` points; every test here is skipped, with a notice, when they are absent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use codecscope::analysis::{
    Analysis, FrameType, MotionGrid, Plane, ResidualPlane, ResidualSource, SampledFrame,
};
use codecscope::select::{
    self, plan_stage2, score_frames, score_frames_with, stage1_rows, EnergyComponent,
    OfflineParams, PackParams, PaddingPolicy, PatchSum, SquareGeometry, Stage1Params, TopkMode,
};
use ndarray::{Array1, Array2, Array3, Array4};
use ndarray_npy::read_npy;

fn shared_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CODECSCOPE_SHARED") {
        let p = PathBuf::from(p);
        if p.join("fixtures").is_dir() {
            return Some(p);
        }
    }
    let mut dir = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let cand = d.join("shared");
        if cand.join("fixtures").is_dir() {
            return Some(cand);
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    None
}

macro_rules! fixtures_or_skip {
    () => {
        match shared_dir() {
            Some(d) => d.join("fixtures"),
            None => {
                eprintln!("SKIP: shared/fixtures not found (set CODECSCOPE_SHARED)");
                return;
            }
        }
    };
}

/// The single file in `dir` whose name ends with `suffix`.
fn one_file(dir: &Path, suffix: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    assert_eq!(
        found.len(),
        1,
        "expected one *{suffix} in {}",
        dir.display()
    );
    found.pop().unwrap()
}

fn rows_of(a: &Array2<i32>) -> Vec<[i32; 3]> {
    a.outer_iter().map(|r| [r[0], r[1], r[2]]).collect()
}

/// The fixture video's analysis: true L0 motion grid and true stage-1 residual luma.
fn fixture_analysis(fx: &Path, with_residual: bool) -> Analysis {
    let dir = fx.join("upstream-residual");
    let mv: Array4<i16> = read_npy(dir.join("mv_grid.npy")).unwrap();
    let ids: Array1<i32> = read_npy(dir.join("frame_ids.npy")).unwrap();
    let res: Option<Array3<u8>> = if with_residual {
        Some(read_npy(dir.join("residual_y.npy")).unwrap())
    } else {
        None
    };
    let (t, rows, cols, _) = mv.dim();
    let (h0, w0) = (640, 360);
    let frames = (0..t)
        .map(|i| {
            let grid: Vec<[i16; 2]> = mv
                .slice(ndarray::s![i, .., .., ..])
                .outer_iter()
                .flat_map(|row| row.outer_iter().map(|c| [c[0], c[1]]).collect::<Vec<_>>())
                .collect();
            SampledFrame {
                frame_index: ids[i] as usize,
                frame_type: FrameType::Other,
                vector_count: 0,
                motion: MotionGrid::from_cells(rows, cols, grid),
                residual: res.as_ref().map(|r| {
                    let plane = r.slice(ndarray::s![i, .., ..]);
                    ResidualPlane::Patched(Plane {
                        width: w0,
                        height: h0,
                        data: plane.iter().copied().collect(),
                    })
                }),
            }
        })
        .collect();
    Analysis {
        video: "videos/ytb_XwB-dkS5BVM.mp4".into(),
        codec: "h264".into(),
        width: w0,
        height: h0,
        frame_count: 487,
        frame_ids: ids.to_vec(),
        frames,
        residual_source: if with_residual {
            ResidualSource::Exact
        } else {
            ResidualSource::None
        },
        notes: vec![],
    }
}

/// Max absolute and max relative (to the larger magnitude, above 1e-3) differences.
fn diff(ours: &[f32], theirs: &[f32]) -> (f64, f64, usize) {
    assert_eq!(ours.len(), theirs.len());
    let mut max_abs = 0f64;
    let mut max_rel = 0f64;
    let mut unequal = 0;
    for (&a, &b) in ours.iter().zip(theirs) {
        let d = (a as f64 - b as f64).abs();
        if a != b {
            unequal += 1;
        }
        max_abs = max_abs.max(d);
        let m = (a.abs().max(b.abs())) as f64;
        if m > 1e-3 {
            max_rel = max_rel.max(d / m);
        }
    }
    (max_abs, max_rel, unequal)
}

fn check_scores(component: EnergyComponent, file: &str, with_residual: bool) {
    let fx = fixtures_or_skip!();
    let a = fixture_analysis(&fx, with_residual);
    let truth: Array3<f32> = read_npy(fx.join("upstream-residual").join(file)).unwrap();
    let g = SquareGeometry::new(640, 360, 576, 16);
    let e = Stage1Params::default().energy();
    // The score files were summed by NumPy: that order must match bit for bit.
    let s = score_frames_with(&a, None, &g, &e, component, with_residual, PatchSum::NumPy);
    let truth: Vec<f32> = truth.iter().copied().collect();
    let (abs, rel, unequal) = diff(&s.scores, &truth);
    eprintln!(
        "{file} (NumPy sum order): max abs diff {abs:.3e}, max rel diff {rel:.3e}, {unequal} of {} \
         scores not bit-equal",
        truth.len()
    );
    assert_eq!(unequal, 0, "{file}: scores differ");
    // Upstream's selection sums with torch: same values up to the last bits.
    let t = score_frames(&a, &g, &e, component, with_residual);
    let (abs, rel, unequal) = diff(&t.scores, &truth);
    eprintln!(
        "{file} (torch sum order): max abs diff {abs:.3e}, max rel diff {rel:.3e}, {unequal} not \
         bit-equal"
    );
    assert!(rel <= 1e-6, "{file}: relative difference {rel}");
}

#[test]
fn motion_scores_match_upstream() {
    check_scores(EnergyComponent::Motion, "patch_score_motion.npy", false);
}

#[test]
fn residual_scores_match_upstream() {
    check_scores(EnergyComponent::Residual, "patch_score_residual.npy", true);
}

#[test]
fn fused_scores_match_upstream() {
    check_scores(EnergyComponent::Fused, "patch_score_fused.npy", true);
}

fn set_of(rows: &[[i32; 3]]) -> BTreeSet<[i32; 3]> {
    rows.iter().copied().collect()
}

/// Recall of `theirs` by `ours` as sets.
fn recall(ours: &[[i32; 3]], theirs: &[[i32; 3]]) -> f64 {
    let o = set_of(ours);
    let t = set_of(theirs);
    t.intersection(&o).count() as f64 / t.len().max(1) as f64
}

#[test]
fn stage1_policy_from_upstream_scores() {
    let fx = fixtures_or_skip!();
    let truth: Array3<f32> = read_npy(fx.join("upstream-residual/patch_score_fused.npy")).unwrap();
    let scores: Vec<f32> = truth.iter().copied().collect();
    let want = rows_of(
        &read_npy(one_file(
            &fx.join("upstream-demo/stage1"),
            ".visidx_thw.npy",
        ))
        .unwrap(),
    );
    let g = SquareGeometry::new(640, 360, 576, 16);
    let out = stage1_rows(&scores, 64, &g, &Stage1Params::upstream_run_script());
    assert_eq!(out.k, 10368);
    assert_eq!(out.padding_patch_filtered, 576);
    assert_eq!(out.rows[..1296], want[..1296]);
    assert_eq!(set_of(&out.rows), set_of(&want));
    let same_order = out.rows.iter().zip(&want).filter(|(a, b)| a == b).count();
    let sc = |r: &[i32; 3]| scores[(r[0] as usize * 36 + r[1] as usize) * 36 + r[2] as usize];
    for (i, (a, b)) in out.rows.iter().zip(&want).enumerate() {
        if a != b {
            eprintln!(
                "  rank {i}: ours {a:?} ({}), upstream {b:?} ({})",
                sc(a),
                sc(b)
            );
        }
    }
    eprintln!(
        "policy on upstream scores: set-equal, {same_order} of 10368 rows in the same position"
    );
}

#[test]
fn stage1_from_true_motion_and_residual() {
    let fx = fixtures_or_skip!();
    let a = fixture_analysis(&fx, true);
    let want = rows_of(
        &read_npy(one_file(
            &fx.join("upstream-demo/stage1"),
            ".visidx_thw.npy",
        ))
        .unwrap(),
    );
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(one_file(&fx.join("upstream-demo/stage1"), ".meta.json")).unwrap(),
    )
    .unwrap();
    let sel = select::select_stage1(&a, &Stage1Params::upstream_run_script());
    assert_eq!(sel.k, 10368);
    assert_eq!(sel.padding_patch_filtered, 576);
    assert_eq!(
        serde_json::to_value(sel.pad_info).unwrap(),
        meta["pad_info"]
    );
    assert_eq!(
        serde_json::to_value(sel.valid_ranges).unwrap(),
        meta["valid_ranges"]
    );
    assert_eq!(sel.rows[..1296], want[..1296]);
    let r = recall(&sel.rows, &want);
    let same = sel.rows.iter().zip(&want).filter(|(a, b)| a == b).count();
    assert_eq!(sel.rows, want, "upstream's rows, in upstream's order");
    eprintln!("stage 1 (true residual): recall {r:.6}, {same} of 10368 rows in the same position");
    assert_eq!(set_of(&sel.rows), set_of(&want));
}

#[test]
fn stage1_motion_only_first_full() {
    let fx = fixtures_or_skip!();
    let dir = fx.join("upstream-motion-only/stage1_first_full");
    let ids: Array1<i32> = read_npy(one_file(&dir, ".frame_ids.npy")).unwrap();
    let a = fixture_analysis(&fx, false);
    assert_eq!(
        ids.to_vec(),
        a.frame_ids,
        "motion-only run sampled other frames"
    );
    let want = rows_of(&read_npy(one_file(&dir, ".visidx_thw.npy")).unwrap());
    let p = Stage1Params {
        w_res: 0.0,
        ..Stage1Params::upstream_run_script()
    };
    let sel = select::select_stage1(&a, &p);
    assert_eq!(sel.rows[..1296], want[..1296]);
    let same = sel.rows.iter().zip(&want).filter(|(a, b)| a == b).count();
    assert_eq!(sel.rows, want, "upstream's rows, in upstream's order");
    eprintln!(
        "stage 1 motion only, first full: recall {:.6}, {same} of 10368 rows in the same position",
        recall(&sel.rows, &want)
    );
    assert_eq!(set_of(&sel.rows), set_of(&want));
}

#[test]
fn stage1_motion_only_uniform_exclude() {
    let fx = fixtures_or_skip!();
    let dir = fx.join("upstream-motion-only/stage1_uniform_exclude");
    let ids: Array1<i32> = read_npy(one_file(&dir, ".frame_ids.npy")).unwrap();
    let a = fixture_analysis(&fx, false);
    let have: BTreeMap<i32, usize> = a
        .frame_ids
        .iter()
        .enumerate()
        .map(|(i, &f)| (f, i))
        .collect();
    let want = rows_of(&read_npy(one_file(&dir, ".visidx_thw.npy")).unwrap());
    // Upstream's structure holds either way: t=0's 720 valid patches first, no padding, K 4320.
    let g = SquareGeometry::new(640, 360, 576, 16);
    assert_eq!(want.len(), 4320);
    assert!(want
        .iter()
        .all(|r| g.is_valid(r[1] as usize, r[2] as usize)));
    assert!(want[..720].iter().all(|r| r[0] == 0));
    if !ids.iter().all(|f| have.contains_key(f)) {
        eprintln!(
            "SKIP comparison: the T=48 run sampled frames ({:?}...) that the 64-frame fixture grid \
             does not hold; only the policy's structure was checked",
            &ids.to_vec()[..6]
        );
        return;
    }
    let frames = ids.iter().map(|f| a.frames[have[f]].clone()).collect();
    let a48 = Analysis {
        frames,
        frame_ids: ids.to_vec(),
        ..a
    };
    let p = Stage1Params {
        w_res: 0.0,
        keep_uniform_first: true,
        mv_compensate: select::MvCompensate::None,
        sequence_length: 48,
        keep_frames_equiv: 6,
        ..Stage1Params::default()
    };
    let sel = select::select_stage1(&a48, &p);
    assert_eq!(set_of(&sel.rows), set_of(&want));
}

#[test]
fn offline_motion_only_mid_bucket() {
    let fx = fixtures_or_skip!();
    let dir = fx.join("upstream-motion-only/precompute_mid_bucket");
    let ids: Array1<i32> = read_npy(dir.join("frame_ids.npy")).unwrap();
    let a = fixture_analysis(&fx, false);
    assert_eq!(
        ids.to_vec(),
        a.frame_ids,
        "offline run matched other frames"
    );
    let want = rows_of(&read_npy(dir.join("positions_thw.npy")).unwrap());
    let want_vi: Array1<i64> = read_npy(dir.join("visible_indices.npy")).unwrap();
    let p = OfflineParams {
        w_res: 0.0,
        keep_mid_full_frame: true,
        topk_mode: TopkMode::TimeBucket,
        time_bucket_count: 4,
        ..OfflineParams::default()
    };
    let sel = select::select_offline(&a, &p);
    assert_eq!(sel.plan.mid_t, 32);
    assert_eq!(sel.rows.len(), want.len());
    let r = recall(&sel.rows, &want);
    eprintln!(
        "offline motion only, mid + 4 buckets: recall {r:.6}, {} repeated rows",
        sel.plan.repeated_rows
    );
    // Exact, ties included: the last row of the last bucket (a tie among equal scores that
    // torch's ranking decides) is the one repeated 2592 times to reach the target.
    let ours = set_of(&sel.rows);
    let theirs = set_of(&want);
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_theirs: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "differing rows: ours {only_ours:?}, upstream {only_theirs:?}"
    );
    assert_eq!(sel.plan.repeated_rows, 2592);
    assert_eq!(want.iter().filter(|r| **r == [57, 32, 9]).count(), 2593);
    assert!(
        sel.rows == want,
        "same rows, same multiplicities, same order"
    );
    assert_eq!(sel.visible_indices, want_vi.to_vec());
}

#[test]
fn offline_true_residual_default() {
    // Offline scores the raw patched Y (128 + r) while the fixture holds stage 1's
    // RGB-round-tripped luma, so this is a close proxy, not the same input: report only.
    let fx = fixtures_or_skip!();
    let dir = fx.join("upstream-precompute/assets/ytb_XwB-dkS5BVM");
    let want = rows_of(&read_npy(dir.join("positions_thw.npy")).unwrap());
    let a = fixture_analysis(&fx, true);
    let sel = select::select_offline(&a, &OfflineParams::default());
    assert_eq!(sel.rows.len(), want.len());
    assert_eq!(sel.rows[..1296], want[..1296]);
    eprintln!(
        "offline default (stage-1 residual as proxy): recall {:.4}",
        recall(&sel.rows, &want)
    );
}

#[test]
fn pack_positions_equal_stage2() {
    let fx = fixtures_or_skip!();
    let want_rows = rows_of(
        &read_npy(one_file(
            &fx.join("upstream-demo/stage1"),
            ".visidx_thw.npy",
        ))
        .unwrap(),
    );
    let stage2 = std::fs::read_dir(fx.join("upstream-demo/stage2"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let want_pos = rows_of(&read_npy(stage2.join("positions_thw.npy")).unwrap());
    let p = PackParams {
        first_full: true,
        ..PackParams::upstream_run_script(PaddingPolicy::Zero)
    };
    let g = SquareGeometry::new(640, 360, 576, 16);
    let plan = plan_stage2(&want_rows, &p, Some(&g.valid_ranges())).unwrap();
    assert_eq!(plan.positions, want_pos);
    assert_eq!(plan.placements.len(), 7 * 1296);
}
