//! Selection and packing on synthetic analyses: tiny and odd sizes, duplicated frames,
//! every policy and knob, offline buckets, and a straightforward reference implementation
//! of the scoring pipeline (full maps, whole-image resize, NumPy-order sums).

use std::collections::BTreeSet;

use codecscope::analysis::{
    sample_frame_ids, Analysis, FrameType, MotionGrid, Plane, ResidualPlane, ResidualSource,
    SampledFrame,
};
use codecscope::select::energy::{
    motion_norm, residual_norm, EnergyComponent, Fuser, ResidualCodes,
};
use codecscope::select::numeric::pairwise_sum_f32;
use codecscope::select::scores::torch_row_sum;
use codecscope::select::square::{nearest_map, resize_linear_f32};
use codecscope::select::{
    self, plan_stage2, render, score_frames_with, EnergyParams, FuseMode, MvCompensate,
    OfflineParams, PackParams, PaddingPolicy, PatchSum, SquareGeometry, Stage1Params, TopkMode,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// An analysis of `t` frames sampled from `n` decoded frames, `w x h` pixels.
fn analysis(w: usize, h: usize, n: usize, t: usize, seed: u64) -> Analysis {
    let mut rng = Rng(seed | 1);
    let ids = sample_frame_ids(n, t, 0);
    let (rows, cols) = (h / 4, w / 4);
    // One picture per decoded frame, so duplicated ids give identical frames.
    let pics: Vec<SampledFrame> = (0..n)
        .map(|i| {
            let mv = (0..rows * cols)
                .map(|c| {
                    if (c + i) % 3 == 0 {
                        [(rng.next() % 41) as i16 - 20, (rng.next() % 21) as i16 - 10]
                    } else {
                        [1, -1]
                    }
                })
                .collect();
            let data = (0..w * h)
                .map(|p| {
                    let spread = if (p / w / 5 + p % w / 7 + i).is_multiple_of(4) {
                        60
                    } else {
                        3
                    };
                    (128 + (rng.next() % (2 * spread + 1)) as i32 - spread as i32) as u8
                })
                .collect();
            SampledFrame {
                frame_index: i,
                frame_type: FrameType::P,
                vector_count: rows * cols,
                motion: MotionGrid::from_cells(rows, cols, mv),
                residual: Some(ResidualPlane::Patched(Plane {
                    width: w,
                    height: h,
                    data,
                })),
            }
        })
        .collect();
    Analysis {
        video: format!("synthetic_{w}x{h}.mp4"),
        codec: "h264".into(),
        width: w,
        height: h,
        frame_count: n,
        frame_ids: ids.clone(),
        frames: ids.iter().map(|&i| pics[i as usize].clone()).collect(),
        residual_source: ResidualSource::Emulate,
        notes: vec![],
    }
}

/// Straightforward scores: full fused map at `h0 x w0`, whole-map resize, padded square,
/// patch sums in NumPy's order.
fn reference_scores(
    a: &Analysis,
    g: &SquareGeometry,
    e: &EnergyParams,
    comp: EnergyComponent,
    sum: PatchSum,
) -> Vec<f32> {
    let (h0, w0) = (a.height, a.width);
    let fuser = Fuser::new(e, comp);
    let mut out = Vec::new();
    for f in &a.frames {
        let m = motion_norm(&f.motion, e);
        let r = residual_norm(f.residual.as_ref().unwrap(), e).unwrap();
        let (ry, rx) = (nearest_map(m.rows, h0), nearest_map(m.cols, w0));
        let mut map = vec![0f32; h0 * w0];
        for y in 0..h0 {
            for x in 0..w0 {
                let mv = if m.rows > 0 && m.cols > 0 {
                    m.norm[ry[y] * m.cols + rx[x]]
                } else {
                    0.0
                };
                let code = match &r.codes {
                    ResidualCodes::Bytes(b) => b[y * w0 + x] as usize,
                    ResidualCodes::Grad(gc) => gc[y * w0 + x] as usize,
                };
                map[y * w0 + x] = fuser.fuse(mv, r.lut[code]);
            }
        }
        let rs = resize_linear_f32(&map, w0, h0, g.wn, g.hn);
        let s = g.out_size;
        let mut sq = vec![0f32; s * s];
        for y in 0..g.hn {
            for x in 0..g.wn {
                sq[(g.pad_top + y) * s + g.pad_left + x] = rs[y * g.wn + x];
            }
        }
        for ph in 0..g.hb {
            for pw in 0..g.wb {
                let mut acc = 0f32;
                for y in 0..g.patch {
                    let row = &sq[(ph * g.patch + y) * s + pw * g.patch..][..g.patch];
                    acc += match sum {
                        PatchSum::NumPy => pairwise_sum_f32(row),
                        PatchSum::Torch => torch_row_sum(row),
                    };
                }
                out.push(acc);
            }
        }
    }
    out
}

fn assert_scores_match_reference(a: &Analysis, e: &EnergyParams) {
    assert_scores_match_reference_at(a, e, 576, 16);
}

fn assert_scores_match_reference_at(a: &Analysis, e: &EnergyParams, square: usize, patch: usize) {
    let g = SquareGeometry::new(a.height, a.width, square, patch);
    for comp in [
        EnergyComponent::Fused,
        EnergyComponent::Motion,
        EnergyComponent::Residual,
    ] {
        for sum in [PatchSum::Torch, PatchSum::NumPy] {
            let got = score_frames_with(a, None, &g, e, comp, true, sum);
            let want = reference_scores(a, &g, e, comp, sum);
            assert_eq!(got.scores.len(), want.len());
            for (i, (x, y)) in got.scores.iter().zip(&want).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "{}x{} {comp:?} score {i}: {x} vs {y}",
                    a.width,
                    a.height
                );
            }
        }
    }
}

#[test]
fn streaming_scores_equal_reference_on_odd_sizes() {
    for (w, h) in [
        (32, 18),
        (33, 17),
        (17, 33),
        (7, 5),
        (100, 3),
        (1152, 20),
        (40, 40),
        (2000, 30),
        (30, 1900),
    ] {
        let a = analysis(w, h, 10, 4, (w * 1000 + h) as u64);
        assert_scores_match_reference(&a, &EnergyParams::default());
    }
    let a = analysis(33, 17, 10, 4, 5);
    for e in [
        EnergyParams {
            res_use_grad: true,
            ..Default::default()
        },
        EnergyParams {
            fuse_mode: FuseMode::Max,
            ..Default::default()
        },
        EnergyParams {
            fuse_mode: FuseMode::Sum,
            ..Default::default()
        },
        EnergyParams {
            fuse_mode: FuseMode::Geomean,
            ..Default::default()
        },
        EnergyParams {
            w_mv: 1.0,
            w_res: 2.0,
            ..Default::default()
        },
        EnergyParams {
            w_mv: 0.3,
            w_res: 0.0,
            ..Default::default()
        },
        EnergyParams {
            mv_compensate: MvCompensate::Mean,
            mv_unit_div: 3.0,
            ..Default::default()
        },
        EnergyParams {
            mv_compensate: MvCompensate::None,
            mv_pct: 100.0,
            res_pct: 0.0,
            ..Default::default()
        },
    ] {
        assert_scores_match_reference(&a, &e);
    }
}

#[test]
fn other_square_and_patch_sizes() {
    let a = analysis(50, 30, 10, 3, 43);
    for (square, patch) in [
        (576, 8),
        (576, 24),
        (576, 32),
        (448, 14),
        (224, 4),
        (576, 48),
    ] {
        assert_scores_match_reference_at(&a, &EnergyParams::default(), square, patch);
    }
    let p = Stage1Params {
        square_size: 448,
        patch_size: 14,
        ..Stage1Params::upstream_run_script()
    };
    let s = select::select_stage1(&a, &p);
    assert_eq!(s.s_total, 32 * 32);
    // 8 full frames from 3: upstream's top-k fails; the project returns every patch it has.
    assert!(s.upstream_failure.is_some());
    assert_eq!(s.k, 1024 + 3 * 1024);
}

fn unique(rows: &[[i32; 3]]) -> bool {
    rows.iter().collect::<BTreeSet<_>>().len() == rows.len()
}

#[test]
fn tiny_video_every_stage1_policy() {
    let a = analysis(32, 18, 40, 64, 7); // N < T: duplicated frames
    assert_eq!(a.frame_ids[..4], [0, 0, 1, 1]);
    let g = SquareGeometry::new(18, 32, 576, 16);
    let (s_total, s_valid) = (g.s_total(), g.s_valid());
    assert_eq!((g.hn, g.wn, s_valid), (324, 576, 20 * 36));
    let mask = g.valid_mask();
    let valid = |r: &[i32; 3]| mask[r[1] as usize * 36 + r[2] as usize];

    // Default: exclude, global top-k, no padding.
    let s = select::select_stage1(&a, &Stage1Params::default());
    assert_eq!(s.k, 8 * s_valid);
    assert!(s.rows.iter().all(valid) && unique(&s.rows));
    assert_eq!(s.padding_patch_filtered, 0);
    assert_eq!(s.valid_ranges.grid(), Some((8, 20, 0, 36)));

    // Zero: whole-frame budget; padding only after all content.
    let p = Stage1Params {
        padding_policy: PaddingPolicy::Zero,
        ..Default::default()
    };
    let s = select::select_stage1(&a, &p);
    assert_eq!(s.k, 8 * s_total);
    assert!(unique(&s.rows));
    let content_total = 64 * s_valid;
    assert!(s.k <= content_total);
    assert_eq!(
        s.padding_patch_filtered,
        s.rows.iter().filter(|r| !valid(r)).count()
    );

    // First full frame, zero: t=0 raster then the rest.
    let p = Stage1Params::upstream_run_script();
    let s = select::select_stage1(&a, &p);
    assert_eq!(s.k, 8 * s_total);
    assert!(s.rows[..s_total]
        .iter()
        .enumerate()
        .all(|(i, r)| *r == [0, (i / 36) as i32, (i % 36) as i32]));
    assert!(s.rows[s_total..].iter().all(|r| r[0] >= 1));
    assert!(unique(&s.rows));

    // First full frame with exclude: padding rows (t=0's included) dropped after selection.
    let p = Stage1Params {
        keep_first_full_frame: true,
        ..Default::default()
    };
    let s = select::select_stage1(&a, &p);
    assert!(s.rows.iter().all(valid));
    assert_eq!(s.k, s.rows.len());
    assert_eq!(s.k + s.padding_patch_filtered, 8 * s_total);
    assert!(s.padding_patch_filtered >= s_total - s_valid);

    // First full frame with K <= 1296: only t=0's first K rows.
    let p = Stage1Params {
        keep_frames_equiv: 1,
        ..Stage1Params::upstream_run_script()
    };
    let s = select::select_stage1(&a, &p);
    assert_eq!(s.k, s_total);
    assert!(s.rows.iter().all(|r| r[0] == 0));

    // Uniform first: t=0's valid patches in raster order, then the rest from t >= 1.
    let p = Stage1Params {
        keep_uniform_first: true,
        ..Default::default()
    };
    let s = select::select_stage1(&a, &p);
    assert_eq!(s.k, 8 * s_valid);
    assert!(s.rows[..s_valid].iter().all(|r| r[0] == 0 && valid(r)));
    assert!(s.rows[..s_valid].windows(2).all(|w| w[0] < w[1]));
    assert!(s.rows[s_valid..].iter().all(|r| r[0] >= 1 && valid(r)));
    // Uniform first with a budget below one frame: truncated mandatory rows.
    let p = Stage1Params {
        keep_uniform_first: true,
        keep_frames_equiv: 1,
        padding_policy: PaddingPolicy::Exclude,
        ..Default::default()
    };
    let s = select::select_stage1(&a, &p);
    assert_eq!(s.k, s_valid);
    assert!(s.rows.iter().all(|r| r[0] == 0));

    // Both flags: first full wins.
    let p = Stage1Params {
        keep_uniform_first: true,
        ..Stage1Params::upstream_run_script()
    };
    assert_eq!(
        select::select_stage1(&a, &p).rows,
        select::select_stage1(&a, &Stage1Params::upstream_run_script()).rows
    );

    // keep_frames_equiv 0: nothing.
    let p = Stage1Params {
        keep_frames_equiv: 0,
        ..Default::default()
    };
    assert_eq!(select::select_stage1(&a, &p).k, 0);

    // Rows per frame add up; duplicated frames (identical scores) are ranked by torch's order.
    let s = select::select_stage1(&a, &Stage1Params::default());
    assert_eq!(s.rows_per_frame().iter().sum::<usize>(), s.k);
}

#[test]
fn budget_capped_by_frames_and_first_full_failure() {
    let a = analysis(33, 17, 3, 3, 11);
    let p = Stage1Params {
        padding_policy: PaddingPolicy::Zero,
        ..Default::default()
    };
    let s = select::select_stage1(&a, &p);
    assert_eq!(s.k, 3 * 1296); // min(8, T) frames
    assert!(unique(&s.rows));
    let p = Stage1Params::upstream_run_script(); // 7 * 1296 from 3 frames
    let s = select::select_stage1(&a, &p);
    assert!(s.upstream_failure.is_some());
    assert!(s.notes.iter().any(|n| n.contains("sequence_length")));
}

#[test]
fn no_residual_forces_motion_only() {
    let mut a = analysis(32, 18, 10, 4, 3);
    for f in &mut a.frames {
        f.residual = None;
    }
    a.residual_source = ResidualSource::None;
    let s = select::select_stage1(&a, &Stage1Params::default());
    assert_eq!(s.w_res_used, 0.0);
    assert!(s.notes.iter().any(|n| n.contains("w_res")));
    let mut b = analysis(32, 18, 10, 4, 3);
    let m = select::select_stage1(
        &b,
        &Stage1Params {
            w_res: 0.0,
            ..Default::default()
        },
    );
    assert_eq!(m.scores, s.scores);
    // Energy summaries are cheap and consistent.
    assert!(m
        .energy
        .iter()
        .all(|e| e.residual_raw_sum == 0.0 && e.motion_norm_sum > 0.0));
    b.frames[0].residual = Some(ResidualPlane::Magnitude(Plane {
        width: 32,
        height: 18,
        data: vec![9; 32 * 18],
    }));
    let f = select::select_stage1(&b, &Stage1Params::default());
    assert!(f.energy[0].residual_raw_sum > 0.0);
}

#[test]
fn offline_policies() {
    let a = analysis(33, 17, 100, 64, 13);
    let g = SquareGeometry::new(17, 33, 576, 16);
    let sorted = |r: &[[i32; 3]]| r.windows(2).all(|w| w[0] <= w[1]);

    let s = select::select_offline(&a, &OfflineParams::default());
    assert_eq!(s.rows.len(), 8 * 1296);
    assert!(sorted(&s.rows));
    assert!(s.rows[..1296].iter().all(|r| r[0] == 0));
    assert!(s.rows[1296..]
        .iter()
        .all(|r| g.is_valid(r[1] as usize, r[2] as usize)));
    for (r, vi) in s.rows.iter().zip(&s.visible_indices) {
        assert_eq!(*vi, r[0] as i64 * 1296 + r[1] as i64 * 36 + r[2] as i64);
    }

    // time_bucket with 2 buckets: 1296 + 2 * 1296 chosen, the last row repeated 6480 times.
    let p = OfflineParams {
        topk_mode: TopkMode::TimeBucket,
        time_bucket_count: 2,
        ..Default::default()
    };
    let s = select::select_offline(&a, &p);
    assert_eq!(s.plan.repeated_rows, 6480);
    assert_eq!(s.rows.len(), 8 * 1296);
    assert!(sorted(&s.rows));
    assert!(s.notes.iter().any(|n| n.contains("repeated")));
    let problems = p.validate_for_size(Some((17, 33)));
    assert!(problems.iter().any(|x| x.message.contains("6480")));

    // Middle frame: T/2, or the given index clamped; index 0 disables it.
    let p = OfflineParams {
        keep_mid_full_frame: true,
        ..Default::default()
    };
    let s = select::select_offline(&a, &p);
    assert_eq!(s.plan.mid_t, 32);
    assert_eq!(s.rows.iter().filter(|r| r[0] == 32).count(), 1296);
    let p = OfflineParams {
        keep_mid_full_frame: true,
        mid_full_frame_index: 500,
        ..Default::default()
    };
    assert_eq!(select::select_offline(&a, &p).plan.mid_t, 63);
    let p = OfflineParams {
        keep_mid_full_frame: true,
        mid_full_frame_index: 0,
        ..Default::default()
    };
    assert_eq!(select::select_offline(&a, &p).plan.mid_t, -1);

    // time_bucket default count: one bucket per remaining image.
    let p = OfflineParams {
        keep_mid_full_frame: true,
        topk_mode: TopkMode::TimeBucket,
        ..Default::default()
    };
    let s = select::select_offline(&a, &p);
    assert_eq!(s.plan.bucket_count, 6);
    assert_eq!(s.plan.repeated_rows, 0);

    // Few frames: global availability runs out and the last row repeats.
    let b = analysis(33, 17, 3, 3, 17);
    let s = select::select_offline(&b, &OfflineParams::default());
    let s_valid = g.s_valid();
    assert_eq!(s.plan.chosen_rows, 1296 + 2 * s_valid);
    assert_eq!(s.rows.len(), 8 * 1296);
}

#[test]
fn pack_first_full_with_exclude_geometry() {
    // K = 8 * S_valid under exclude: images 1..7 take the valid grid, image 0 the full frame.
    let a = analysis(32, 18, 40, 64, 19);
    let s = select::select_stage1(&a, &Stage1Params::default());
    let p = PackParams {
        first_full: true,
        padding_policy: PaddingPolicy::Exclude,
        ..Default::default()
    };
    let plan = plan_stage2(&s.rows, &p, Some(&s.valid_ranges)).unwrap();
    assert_eq!(plan.positions.len(), 1296 + 7 * s.s_valid);
    assert_eq!(plan.frames_needed()[0], 0);
    // Render with frames whose pixels encode t; empty cells stay black.
    let size = 576;
    let imgs = render(&plan, 3, |t| {
        Ok::<_, String>(vec![t as u8 + 1; size * size * 3])
    })
    .unwrap();
    assert_eq!(imgs.images.len(), 8);
    assert!(imgs.images[0].iter().all(|&v| v == 1));
    let img1 = &imgs.images[1];
    assert_eq!(img1[0], 0, "cell (0, 0) lies outside the valid grid: black");
    let first = plan.placements.iter().find(|pl| pl.image == 1).unwrap();
    let (y, x) = (first.cell[0] * 16, first.cell[1] * 16);
    assert_eq!(img1[(y * size + x) * 3], first.src[0] as u8 + 1);
}

#[test]
fn square_frame_pads_and_resizes() {
    let (w, h) = (33, 17);
    let src: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
    let g = SquareGeometry::new(h, w, 576, 16);
    let sq = select::square_frame_u8(&src, w, h, 3, &g);
    assert_eq!(sq.len(), 576 * 576 * 3);
    assert!(sq[..g.pad_top * 576 * 3].iter().all(|&v| v == 0));
    assert!(sq[(g.pad_top + g.hn) * 576 * 3..].iter().all(|&v| v == 0));
    // A constant picture stays constant inside the content box.
    let flat = vec![77u8; w * h * 3];
    let sq = select::square_frame_u8(&flat, w, h, 3, &g);
    let row = &sq[(g.pad_top + 5) * 576 * 3..][..576 * 3];
    assert!(row.iter().all(|&v| v == 77));
}

#[test]
fn degenerate_inputs_do_not_panic() {
    // No frames.
    let mut a = analysis(32, 18, 10, 4, 23);
    a.frames.clear();
    a.frame_ids.clear();
    let s = select::select_stage1(&a, &Stage1Params::upstream_run_script());
    assert_eq!(s.k, 0);
    let o = select::select_offline(&a, &OfflineParams::default());
    assert_eq!(o.t, 0);
    // No picture size.
    let mut b = analysis(32, 18, 10, 4, 29);
    b.width = 0;
    b.height = 0;
    let s = select::select_stage1(&b, &Stage1Params::default());
    assert_eq!(s.k, 0);
    assert!(s.notes.iter().any(|n| n.contains("nothing to score")));
    // No motion vectors at all (an empty grid) and a residual of the wrong size.
    let mut c = analysis(33, 17, 10, 4, 31);
    for f in &mut c.frames {
        f.motion = MotionGrid::zeros(0, 0);
    }
    c.frames[1].residual = Some(ResidualPlane::Patched(Plane {
        width: 3,
        height: 3,
        data: vec![200; 9],
    }));
    let s = select::select_stage1(&c, &Stage1Params::default());
    assert!(s.energy.iter().all(|e| e.motion_norm_sum == 0.0));
    assert_eq!(s.energy[1].residual_raw_sum, 0.0);
    assert!(s.notes.iter().any(|n| n.contains("do not match")));
    assert_eq!(
        s.k,
        4 * SquareGeometry::new(17, 33, 576, 16).s_valid() // min(keep_frames_equiv 8, T 4)
    );
}

#[test]
fn precomputed_stats_give_identical_selections() {
    let a = analysis(33, 17, 50, 16, 37);
    let stats = select::AnalysisStats::new(&a);
    assert!(stats.fits(&a));
    for p in [
        Stage1Params::default(),
        Stage1Params::upstream_run_script(),
        Stage1Params {
            mv_compensate: MvCompensate::Mean,
            res_use_grad: true,
            ..Default::default()
        },
        Stage1Params {
            mv_unit_div: -3.0,
            fuse_mode: FuseMode::Geomean,
            ..Default::default()
        },
    ] {
        let x = select::select_stage1(&a, &p);
        let y = select::select_stage1_with(&a, Some(&stats), &p);
        assert_eq!(x.rows, y.rows);
        assert_eq!(x.scores, y.scores);
        assert_eq!(x.energy, y.energy);
    }
    let o = OfflineParams {
        keep_mid_full_frame: true,
        ..Default::default()
    };
    assert_eq!(
        select::select_offline(&a, &o).rows,
        select::select_offline_with(&a, Some(&stats), &o).rows
    );
    // Statistics of another analysis are refused, not misused.
    let b = analysis(32, 18, 50, 16, 41);
    let z = select::select_stage1_with(&b, Some(&stats), &Stage1Params::default());
    assert!(z.notes.iter().any(|n| n.contains("do not fit")));
    assert_eq!(
        z.rows,
        select::select_stage1(&b, &Stage1Params::default()).rows
    );
}

/// `a` with every residual picture reduced to what scoring with `p` reads.
fn kept_for(a: &Analysis, p: &Stage1Params) -> Analysis {
    let mut b = a.clone();
    for f in &mut b.frames {
        f.residual = f
            .residual
            .take()
            .map(|r| select::keep_residual(r, p.residual_keep()));
    }
    b
}

#[test]
fn kept_samples_score_as_whole_pictures() {
    for (w, h) in [(2000, 30), (30, 1900), (33, 17), (1152, 20), (600, 1)] {
        let a = analysis(w, h, 12, 6, (w * 7 + h) as u64);
        for (square, patch, grad) in [(576, 16, false), (576, 16, true), (448, 14, false)] {
            let p = Stage1Params {
                square_size: square,
                patch_size: patch,
                res_use_grad: grad,
                ..Stage1Params::upstream_run_script()
            };
            let b = kept_for(&a, &p);
            assert!(b
                .frames
                .iter()
                .all(|f| matches!(f.residual, Some(ResidualPlane::Sampled(_)))));
            let (x, y) = (select::select_stage1(&a, &p), select::select_stage1(&b, &p));
            let what = format!("{w}x{h} square {square} patch {patch} grad {grad}");
            assert_eq!(x.rows, y.rows, "{what}");
            assert_eq!(x.scores, y.scores, "{what}");
            assert_eq!(x.energy, y.energy, "{what}");
            let o = OfflineParams {
                square_size: square,
                patch_size: patch,
                res_use_grad: grad,
                ..Default::default()
            };
            assert_eq!(
                select::select_offline(&a, &o).rows,
                select::select_offline(&b, &o).rows,
                "{what}"
            );
        }
    }
    // Samples kept for one geometry or energy kind are refused by another, with a note.
    let a = analysis(2000, 30, 12, 6, 3);
    let b = kept_for(&a, &Stage1Params::default());
    for p in [
        Stage1Params {
            square_size: 448,
            ..Default::default()
        },
        Stage1Params {
            res_use_grad: true,
            ..Default::default()
        },
    ] {
        let s = select::select_stage1(&b, &p);
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("kept for other scoring knobs")),
            "{:?}",
            s.notes
        );
    }
}
