//! Decode benchmark: `ffmpeg -threads 1 -f null` decode time of each file next to
//! `analyze` with each residual source. Usage: `bench_video FILE...` (release build).

use std::process::Command;
use std::time::Instant;

use codecscope::analysis::ResidualSource;
use codecscope::video::{analyze_with, AnalyzeOptions};

fn ffmpeg_decode_seconds(path: &str, extra: &[&str]) -> Option<f64> {
    let t = Instant::now();
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-threads", "1", "-v", "error"])
        .args(extra)
        .args(["-i", path, "-f", "null", "-"])
        .status()
        .ok()?
        .success();
    ok.then(|| t.elapsed().as_secs_f64())
}

fn best_of<F: FnMut() -> Option<f64>>(n: usize, mut f: F) -> Option<f64> {
    (0..n).filter_map(|_| f()).min_by(|a, b| a.total_cmp(b))
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: bench_video FILE...");
        std::process::exit(2);
    }
    let reps = 3;
    for path in &files {
        let Some(base) = best_of(reps, || ffmpeg_decode_seconds(path, &[])) else {
            eprintln!("{path}: ffmpeg could not decode it");
            continue;
        };
        let noref = best_of(reps, || {
            ffmpeg_decode_seconds(path, &["-skip_frame", "noref"])
        });
        println!("{path}");
        println!("  ffmpeg -threads 1 -f null           {base:7.3} s  1.00x");
        if let Some(n) = noref {
            println!(
                "  ffmpeg -skip_frame noref            {n:7.3} s  {:.2}x",
                n / base
            );
        }
        for src in [
            ResidualSource::None,
            ResidualSource::FrameDiff,
            ResidualSource::Emulate,
        ] {
            for rgb in [false, true] {
                let opts = AnalyzeOptions {
                    residual: src,
                    with_rgb: rgb,
                    ..AnalyzeOptions::default()
                };
                let mut stats = None;
                let secs = best_of(reps, || {
                    let t = Instant::now();
                    let a = analyze_with(path, &opts, &mut |_| true).ok()?;
                    stats = Some(a.stats);
                    Some(t.elapsed().as_secs_f64())
                });
                if let (Some(s), Some(st)) = (secs, stats) {
                    println!(
                        "  analyze --residual {:<10} rgb={:<5} {s:7.3} s  {:.2}x  (passes {}, decoded {}, skipped {}, scan {:.3} s)",
                        src.as_str(),
                        rgb,
                        s / base,
                        st.passes,
                        st.frames_output,
                        st.frames_skipped,
                        st.scan_seconds
                    );
                }
            }
        }
    }
}
