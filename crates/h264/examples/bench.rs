//! Decode speed against FFmpeg on the same Annex B file.
//!
//! Usage: bench FILE.h264 [RUNS]
//!
//! Prints the best-of-RUNS wall time for normal and residual decoding (with
//! reconstruction on its own thread, the default, and on one thread), the
//! time of `ffmpeg -threads 1 -v error -i FILE -f null -`, their ratios, and
//! the peak resident set size of this process (VmHWM, Linux only).

use std::time::{Duration, Instant};

use h264::{Decoder, Mode};

fn decode(data: &[u8], mode: Mode, threaded: bool) -> (Duration, usize) {
    let t = Instant::now();
    let mut dec = if threaded {
        Decoder::new(mode)
    } else {
        Decoder::single_threaded(mode)
    };
    let mut n = 0;
    for nal in h264::split_annexb(data) {
        if let Err(e) = dec.decode_nal(nal) {
            eprintln!("decode error: {e}");
            break;
        }
        while dec.next_frame().is_some() {
            n += 1;
        }
    }
    n += dec.flush().map(|v| v.len()).unwrap_or(0);
    (t.elapsed(), n)
}

fn ffmpeg(path: &str) -> Option<Duration> {
    let t = Instant::now();
    let ok = std::process::Command::new("ffmpeg")
        .args([
            "-threads", "1", "-v", "error", "-i", path, "-f", "null", "-",
        ])
        .status()
        .ok()?
        .success();
    ok.then(|| t.elapsed())
}

fn peak_rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn best<T>(runs: usize, mut f: impl FnMut() -> (Duration, T)) -> (Duration, T) {
    let mut r = f();
    for _ in 1..runs {
        let x = f();
        if x.0 < r.0 {
            r = x;
        }
    }
    r
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: bench FILE.h264 [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let data = std::fs::read(path).expect("read input");
    let tf = best(runs, || (ffmpeg(path).unwrap_or(Duration::ZERO), ())).0;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("file      {path}");
    let mut frames = 0;
    let mut rows = Vec::new();
    for (name, mode) in [
        ("normal", Mode::Normal),
        ("residual", Mode::UpstreamResidual),
    ] {
        for (threads, threaded) in [("2 threads", true), ("1 thread", false)] {
            let (t, n) = best(runs, || decode(&data, mode, threaded));
            frames = n;
            rows.push((format!("{name}, {threads}"), t));
        }
    }
    println!("frames    {frames}");
    for (label, t) in &rows {
        let ratio = if tf.is_zero() {
            String::new()
        } else {
            format!("  {:5.2}x ffmpeg", ms(*t) / ms(tf))
        };
        println!(
            "{label:<22}{:9.1} ms  {:7.1} fps{ratio}",
            ms(*t),
            frames as f64 / t.as_secs_f64()
        );
    }
    if tf.is_zero() {
        println!("ffmpeg    unavailable");
    } else {
        println!("ffmpeg (-threads 1 -f null) {:9.1} ms", ms(tf));
    }
    if let Some(kb) = peak_rss_kb() {
        println!("peak RSS  {:.1} MiB", kb as f64 / 1024.0);
    }
}
