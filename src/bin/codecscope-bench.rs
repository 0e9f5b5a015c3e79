//! Benchmarks that print figures, never assert on time. `codecscope-bench check` measures
//! `check` throughput on a generated training JSONL.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("all");
    let records: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    match what {
        "check" | "all" => bench_check(records),
        other => {
            eprintln!("usage: codecscope-bench [check [RECORDS]]\nunknown benchmark `{other}`");
            std::process::exit(2);
        }
    }
}

fn exe() -> std::path::PathBuf {
    let me = std::env::current_exe().expect("current exe");
    me.with_file_name("codecscope")
}

/// A training JSONL of `n` codec records pointing at 64 real sample folders (8 mosaics and a
/// positions file each), as a real dataset reuses its files: one header read per file.
fn bench_check(n: usize) {
    let dir = tempfile_dir();
    let samples = 64;
    for s in 0..samples {
        let d = dir.join(format!("sample_{s}"));
        std::fs::create_dir_all(&d).unwrap();
        let img = image::RgbImage::from_fn(576, 576, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, s as u8])
        });
        for i in 0..8 {
            img.save(d.join(format!("v{s}_{i:03}.jpg"))).unwrap();
        }
        let rows: Vec<[i32; 3]> = (0..8 * 1296i32)
            .map(|j| [j / 1296 * 8, (j % 1296) / 36, j % 36])
            .collect();
        codecscope::formats::npy::write_rows(&d.join("positions_thw.npy"), &rows).unwrap();
    }
    let jsonl = dir.join("train.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&jsonl).unwrap());
    let question = "<image>\\n".repeat(8)
        + "What happens in the video? Describe the scene, the people and the objects.";
    for i in 0..n {
        let s = i % samples;
        let d = dir.join(format!("sample_{s}"));
        let images: Vec<String> = (0..8)
            .map(|k| format!("\"{}/v{s}_{k:03}.jpg\"", d.display()))
            .collect();
        writeln!(
            w,
            "{{\"id\": \"rec{i}\", \"conversations\": [{{\"from\": \"human\", \"value\": \"{question}\"}}, {{\"from\": \"gpt\", \"value\": \"A person walks along a beach at sunset while waves roll in.\"}}], \"image\": [{}], \"positions_thw\": \"{}/positions_thw.npy\"}}",
            images.join(", "),
            d.display()
        )
        .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let size = std::fs::metadata(&jsonl).unwrap().len();
    let run = run_measured(
        Command::new(exe())
            .args(["check", "--json", "-q"])
            .arg(&jsonl),
    );
    let summary = run.stdout.lines().last().unwrap_or_default().to_string();
    println!(
        "check: {n} records ({:.0} MB) in {:.2} s = {:.0} records/s on {} cores; peak RSS {:.1} MB; exit {:?}",
        size as f64 / 1e6,
        run.secs,
        n as f64 / run.secs,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        run.peak_rss_kb as f64 / 1024.0,
        run.code
    );
    println!("  summary: {summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("codecscope-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Measured {
    secs: f64,
    peak_rss_kb: u64,
    code: Option<i32>,
    stdout: String,
}

/// Runs a command, sampling its peak resident set (`VmHWM`) from /proc while it runs.
fn run_measured(cmd: &mut Command) -> Measured {
    use std::io::Read;
    let t = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let status_path = format!("/proc/{}/status", child.id());
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Measured {
        secs: t.elapsed().as_secs_f64(),
        peak_rss_kb: peak,
        code: status.code(),
        stdout: reader.join().unwrap(),
    }
}
