//! The fixture video against upstream's own outputs: frame ids and motion grids exactly,
//! and the residual emulator's agreement with the true patched luma (reported).

mod video_support;
use video_support as common;

use codecscope::analysis::{ResidualPlane, ResidualSource};
use codecscope::video::{analyze, analyze_with, AnalyzeOptions};
use ndarray::{Array1, Array3, Array4};
use ndarray_npy::read_npy;

fn opts(residual: ResidualSource) -> AnalyzeOptions {
    AnalyzeOptions {
        residual,
        ..AnalyzeOptions::default()
    }
}

#[test]
fn frame_ids_and_motion_grids_match_upstream() {
    let (Some(video), Some(ids), Some(grid)) = (
        common::fixture(common::FIXTURE_VIDEO),
        common::fixture("upstream-residual/frame_ids.npy"),
        common::fixture("upstream-residual/mv_grid.npy"),
    ) else {
        return;
    };
    let want_ids: Array1<i32> = read_npy(ids).unwrap();
    let want_grid: Array4<i16> = read_npy(grid).unwrap();
    for skip in [true, false] {
        let o = AnalyzeOptions {
            residual: ResidualSource::None,
            skip_unneeded: skip,
            ..AnalyzeOptions::default()
        };
        let a = analyze(video.to_str().unwrap(), &o).unwrap();
        assert_eq!(a.frame_count, 487);
        assert_eq!(a.frame_ids, want_ids.to_vec(), "frame ids (skip={skip})");
        assert_eq!((a.width, a.height), (360, 640));
        for (t, f) in a.frames.iter().enumerate() {
            assert_eq!((f.motion.rows, f.motion.cols), (160, 90));
            let want = want_grid.index_axis(ndarray::Axis(0), t);
            let mut diff = 0;
            for r in 0..160 {
                for c in 0..90 {
                    let got = f.motion.at(r, c);
                    if got[0] != want[[r, c, 0]] || got[1] != want[[r, c, 1]] {
                        diff += 1;
                    }
                }
            }
            assert_eq!(
                diff, 0,
                "t={t} frame {}: {diff} cells differ (skip={skip})",
                f.frame_index
            );
        }
    }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        return 0.0;
    }
    sab / (saa.sqrt() * sbb.sqrt())
}

/// Per-16x16-block sums of |y - 128| (or of the magnitude).
fn block_energy(data: &[u8], w: usize, h: usize, patched: bool) -> Vec<f64> {
    let (bw, bh) = (w.div_ceil(16), h.div_ceil(16));
    let mut e = vec![0.0; bw * bh];
    for y in 0..h {
        for x in 0..w {
            let v = data[y * w + x] as f64;
            e[(y / 16) * bw + x / 16] += if patched { (v - 128.0).abs() } else { v };
        }
    }
    e
}

#[test]
fn residual_sources_against_true_patched_luma() {
    let (Some(video), Some(truth)) = (
        common::fixture(common::FIXTURE_VIDEO),
        common::fixture("upstream-residual/residual_y.npy"),
    ) else {
        return;
    };
    let truth: Array3<u8> = read_npy(truth).unwrap();
    for src in [ResidualSource::Emulate, ResidualSource::FrameDiff] {
        let a = analyze_with(video.to_str().unwrap(), &opts(src), &mut |_| true).unwrap();
        let mut maes = Vec::new();
        let mut corrs = Vec::new();
        for (t, f) in a.analysis.frames.iter().enumerate() {
            let want: Vec<u8> = truth
                .index_axis(ndarray::Axis(0), t)
                .iter()
                .copied()
                .collect();
            let (plane, patched) = match f.residual.as_ref().unwrap() {
                ResidualPlane::Patched(p) => (p, true),
                ResidualPlane::Magnitude(p) => (p, false),
                ResidualPlane::Sampled(_) | ResidualPlane::Scored(_) => {
                    unreachable!("whole pictures are kept by default")
                }
            };
            assert_eq!((plane.width, plane.height), (360, 640));
            if patched {
                let mae = plane
                    .data
                    .iter()
                    .zip(&want)
                    .map(|(&a, &b)| (a as f64 - b as f64).abs())
                    .sum::<f64>()
                    / want.len() as f64;
                maes.push(mae);
            }
            let e_got = block_energy(&plane.data, 360, 640, patched);
            let e_want = block_energy(&want, 360, 640, true);
            corrs.push(pearson(&e_got, &e_want));
        }
        let mean = |v: &[f64]| {
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        eprintln!(
            "residual {}: frame 0 corr {:.3}; mean abs error {:.2}; 16x16 |y-128| corr mean {:.3} min {:.3} (t>=1 mean {:.3}); stats {:?}",
            src.as_str(),
            corrs[0],
            mean(&maes),
            mean(&corrs),
            min(&corrs),
            mean(&corrs[1..]),
            a.stats
        );
        if src == ResidualSource::Emulate {
            // The I frame's intra estimate carries most of the signal; the emulator must track it.
            assert!(
                mean(&corrs) > 0.5,
                "emulator correlation too low: {}",
                mean(&corrs)
            );
        }
    }
}

#[test]
fn coding_tool_clips_count_frames_like_ffmpeg() {
    let Some(dir) = common::fixture("upstream-residual-decode/clips") else {
        return;
    };
    for name in [
        "cavlc_baseline",
        "cabac_high_bpyramid_weighted",
        "slices_cqm_temporal_odd",
        "interlaced_mbaff",
    ] {
        let clip = dir.join(format!("{name}.mp4"));
        let md5 = dir.parent().unwrap().join(format!("md5/{name}.stock.txt"));
        let lines = std::fs::read_to_string(&md5).unwrap();
        let frames = lines
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        for skip in [true, false] {
            for src in [
                ResidualSource::None,
                ResidualSource::FrameDiff,
                ResidualSource::Emulate,
            ] {
                let o = AnalyzeOptions {
                    residual: src,
                    skip_unneeded: skip,
                    ..AnalyzeOptions::default()
                };
                let a = analyze_with(clip.to_str().unwrap(), &o, &mut |_| true).unwrap();
                assert_eq!(a.analysis.frame_count, frames, "{name} {src:?} skip={skip}");
                assert_eq!(a.analysis.frames.len(), 64);
                if src != ResidualSource::None {
                    assert!(a.analysis.frames.iter().all(|f| f.residual.is_some()));
                }
            }
        }
    }
}
