//! Decode benchmark: `ffmpeg -threads 1 -f null` decode time of each file next to
//! `analyze` with each residual source. Usage: `bench_video FILE...` (release build).

use std::process::Command;
use std::time::Instant;

use codecscope::analysis::ResidualSource;
use codecscope::video::{analyze_with, AnalyzeOptions};

/// CPU seconds (user + system) of this process and of its waited-for children, from
/// /proc/self/stat (clock ticks of 1/100 s).
fn cpu_times() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(") ").next().unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields after the command: state is index 0, utime 11, stime 12, cutime 13, cstime 14.
    let get = |i: usize| f.get(i).copied().unwrap_or(0.0) / 100.0;
    (get(11) + get(12), get(13) + get(14))
}

/// Wall and CPU seconds of `ffmpeg -threads 1 ... -f null -`.
fn ffmpeg_decode(path: &str, extra: &[&str]) -> Option<(f64, f64)> {
    let c0 = cpu_times().1;
    let t = Instant::now();
    let ok = Command::new("ffmpeg")
        .args(["-hide_banner", "-threads", "1", "-v", "error"])
        .args(extra)
        .args(["-i", path, "-f", "null", "-"])
        .status()
        .ok()?
        .success();
    ok.then(|| (t.elapsed().as_secs_f64(), cpu_times().1 - c0))
}

/// Best (lowest wall time) of `n` runs, as (wall, cpu).
fn best_of<F: FnMut() -> Option<(f64, f64)>>(n: usize, mut f: F) -> Option<(f64, f64)> {
    (0..n)
        .filter_map(|_| f())
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

fn main() {
    let mut files: Vec<String> = Vec::new();
    let mut sources = vec![
        ResidualSource::None,
        ResidualSource::FrameDiff,
        ResidualSource::Emulate,
    ];
    let mut reps = 3;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--only" => {
                sources = match args.next().as_deref() {
                    Some("none") => vec![ResidualSource::None],
                    Some("frame-diff") => vec![ResidualSource::FrameDiff],
                    _ => vec![ResidualSource::Emulate],
                }
            }
            "--reps" => reps = args.next().and_then(|r| r.parse().ok()).unwrap_or(3),
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("usage: bench_video [--only none|frame-diff|emulate] [--reps N] FILE...");
        std::process::exit(2);
    }
    for path in &files {
        let Some((base, base_cpu)) = best_of(reps, || ffmpeg_decode(path, &[])) else {
            eprintln!("{path}: ffmpeg could not decode it");
            continue;
        };
        let noref = best_of(reps, || ffmpeg_decode(path, &["-skip_frame", "noref"]));
        let cpu_ratio = |c: f64| c / base_cpu.max(0.01);
        println!("{path}");
        println!("  (best of {reps} by wall time; ratios to ffmpeg's wall and CPU time)");
        println!("  ffmpeg -threads 1 -f null                 {base:7.3} s  1.00x  cpu {base_cpu:6.2} s  1.00x");
        if let Some((n, c)) = noref {
            println!(
                "  ffmpeg -skip_frame noref                  {n:7.3} s  {:.2}x  cpu {c:6.2} s  {:.2}x",
                n / base,
                cpu_ratio(c)
            );
        }
        for &src in &sources {
            for rgb in [false, true] {
                let opts = AnalyzeOptions {
                    residual: src,
                    with_rgb: rgb,
                    ..AnalyzeOptions::default()
                };
                let mut stats = None;
                let secs = best_of(reps, || {
                    let c0 = cpu_times().0;
                    let t = Instant::now();
                    let a = analyze_with(path, &opts, &mut |_| true).ok()?;
                    stats = Some(a.stats);
                    Some((t.elapsed().as_secs_f64(), cpu_times().0 - c0))
                });
                if let (Some((s, c)), Some(st)) = (secs, stats) {
                    println!(
                        "  analyze --residual {:<10} rgb={:<5} {s:7.3} s  {:.2}x  cpu {c:6.2} s  {:.2}x  (passes {}, decoded {}, skipped {})",
                        src.as_str(),
                        rgb,
                        s / base,
                        cpu_ratio(c),
                        st.passes,
                        st.frames_output,
                        st.frames_skipped,
                    );
                }
            }
        }
    }
}
