//! Re-selection timings from a cached analysis (run with `--ignored --nocapture`):
//! synthetic analyses at 360p (both orientations) and 1080p, 64 frames each.

use std::time::Instant;

use codecscope::analysis::{
    Analysis, FrameType, MotionGrid, Plane, ResidualPlane, ResidualSource, SampledFrame,
};
use codecscope::select::{self, OfflineParams, Stage1Params, TopkMode};

/// A deterministic synthetic analysis: blocky motion and residual with structure and noise.
pub fn synthetic(width: usize, height: usize, t: usize) -> Analysis {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (rows, cols) = (height / 4, width / 4);
    let frames = (0..t)
        .map(|i| {
            let mv = (0..rows * cols)
                .map(|c| {
                    let (r, k) = (c / cols, c % cols);
                    if (r / 4 + k / 4 + i) % 5 == 0 {
                        [(rnd() % 64) as i16 - 32, (rnd() % 32) as i16 - 16]
                    } else {
                        [2, 0]
                    }
                })
                .collect();
            let data = (0..width * height)
                .map(|p| {
                    let (y, x) = (p / width, p % width);
                    let base = if (y / 16 + x / 16 + i) % 7 == 0 {
                        40
                    } else {
                        2
                    };
                    (128 + (rnd() % (2 * base + 1)) as i32 - base as i32) as u8
                })
                .collect();
            SampledFrame {
                frame_index: i * 7,
                frame_type: FrameType::P,
                vector_count: 100,
                motion: MotionGrid::from_cells(rows, cols, mv),
                residual: Some(ResidualPlane::Patched(Plane {
                    width,
                    height,
                    data,
                })),
            }
        })
        .collect();
    Analysis {
        video: "synthetic.mp4".into(),
        codec: "h264".into(),
        width,
        height,
        frame_count: t * 7,
        frame_ids: (0..t as i32).map(|i| i * 7).collect(),
        frames,
        residual_source: ResidualSource::Emulate,
        notes: vec![],
    }
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1e3
}

/// Process CPU time (user + system) in ms, from `/proc/self/stat` (10 ms ticks); `None`
/// elsewhere. Reported beside wall time because a busy machine inflates wall time.
fn cpu_ms() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) * 10.0)
}

fn time(label: &str, a: &Analysis) {
    let p = Stage1Params::upstream_run_script();
    let _ = select::select_stage1(a, &p); // warm-up
    let runs = 10;
    let mut best = f64::MAX;
    let mut total = 0.0;
    let cpu0 = cpu_ms();
    for i in 0..runs {
        // Change a knob each run so nothing could be reused between runs.
        let p = Stage1Params {
            mv_pct: 95.0 - i as f64,
            ..p.clone()
        };
        let t0 = Instant::now();
        let s = select::select_stage1(a, &p);
        let dt = ms(t0);
        assert_eq!(s.k, 10368);
        best = best.min(dt);
        total += dt;
    }
    let cpu = match (cpu0, cpu_ms()) {
        (Some(a), Some(b)) => format!("{:.0} ms CPU", (b - a) / runs as f64),
        _ => "CPU time unknown".into(),
    };
    let stats = select::AnalysisStats::new(a);
    let (mut best_st, c0) = (f64::MAX, cpu_ms());
    for i in 0..runs {
        let p = Stage1Params {
            mv_pct: 95.0 - i as f64,
            ..p.clone()
        };
        let t0 = Instant::now();
        let _ = select::select_stage1_with(a, Some(&stats), &p);
        best_st = best_st.min(ms(t0));
    }
    let cpu_st = match (c0, cpu_ms()) {
        (Some(a), Some(b)) => format!("{:.0} ms CPU", (b - a) / runs as f64),
        _ => "CPU time unknown".into(),
    };
    let t0 = Instant::now();
    let _ = select::select_stage1(
        a,
        &Stage1Params {
            w_res: 0.0,
            ..p.clone()
        },
    );
    let mo = ms(t0);
    let t0 = Instant::now();
    let _ = select::select_stage1(
        a,
        &Stage1Params {
            res_use_grad: true,
            ..p.clone()
        },
    );
    let gr = ms(t0);
    let off = OfflineParams {
        topk_mode: TopkMode::TimeBucket,
        ..OfflineParams::default()
    };
    let t0 = Instant::now();
    let _ = select::select_offline(a, &off);
    let of = ms(t0);
    eprintln!(
        "{label}: stage 1 re-selection best {best:.1} ms, mean {:.1} ms wall ({cpu}); \
         with AnalysisStats best {best_st:.1} ms ({cpu_st}); motion only {mo:.1} ms; res_use_grad {gr:.1} ms; offline time_bucket {of:.1} ms \
         ({} threads)",
        total / runs as f64,
        rayon::current_num_threads()
    );
}

/// The fixture video's analysis (true motion grid and residual), when `shared/` is present.
fn fixture() -> Option<Analysis> {
    use ndarray::{Array1, Array3, Array4};
    let mut dir = Some(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let mut shared = std::env::var("CODECSCOPE_SHARED")
        .ok()
        .map(std::path::PathBuf::from);
    while shared.is_none() {
        let d = dir?;
        if d.join("shared/fixtures").is_dir() {
            shared = Some(d.join("shared"));
        }
        dir = d.parent().map(|p| p.to_path_buf());
    }
    let fx = shared?.join("fixtures/upstream-residual");
    let mv: Array4<i16> = ndarray_npy::read_npy(fx.join("mv_grid.npy")).ok()?;
    let res: Array3<u8> = ndarray_npy::read_npy(fx.join("residual_y.npy")).ok()?;
    let ids: Array1<i32> = ndarray_npy::read_npy(fx.join("frame_ids.npy")).ok()?;
    let (t, rows, cols, _) = mv.dim();
    let (_, h, w) = res.dim();
    let frames = (0..t)
        .map(|i| SampledFrame {
            frame_index: ids[i] as usize,
            frame_type: FrameType::Other,
            vector_count: 0,
            motion: MotionGrid::from_cells(
                rows,
                cols,
                mv.slice(ndarray::s![i, .., .., ..])
                    .outer_iter()
                    .flat_map(|r| r.outer_iter().map(|c| [c[0], c[1]]).collect::<Vec<_>>())
                    .collect(),
            ),
            residual: Some(ResidualPlane::Patched(Plane {
                width: w,
                height: h,
                data: res.slice(ndarray::s![i, .., ..]).iter().copied().collect(),
            })),
        })
        .collect();
    Some(Analysis {
        video: "fixture".into(),
        codec: "h264".into(),
        width: w,
        height: h,
        frame_count: 487,
        frame_ids: ids.to_vec(),
        frames,
        residual_source: ResidualSource::Exact,
        notes: vec![],
    })
}

#[test]
#[ignore = "timing; run with --ignored --nocapture"]
fn reselection_timings() {
    match fixture() {
        Some(a) => time("fixture video 360x640 (true residual)", &a),
        None => eprintln!("SKIP fixture timing: shared/fixtures not found"),
    }
    time("synthetic 640x360", &synthetic(640, 360, 64));
    time(
        "synthetic 360x640 (fixture geometry)",
        &synthetic(360, 640, 64),
    );
    time("synthetic 1920x1080", &synthetic(1920, 1080, 64));
}
