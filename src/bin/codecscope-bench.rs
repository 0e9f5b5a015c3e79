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
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
        }
        "check" => bench_check(records),
        "pipeline" => {
            let given = args.get(1).map(String::as_str);
            if let Some(v) = given.filter(|v| !std::path::Path::new(v).is_file()) {
                eprintln!("codecscope-bench: {v}: no such video file\n\n{USAGE}");
                std::process::exit(2);
            }
            bench_pipeline(given)
        }
        "all" => {
            bench_pipeline(None);
            bench_check(records);
        }
        other => {
            eprintln!("codecscope-bench: unknown benchmark `{other}`\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}

const USAGE: &str = "usage: codecscope-bench [all | check [RECORDS] | pipeline [VIDEO]]

  pipeline [VIDEO]  select, select+pack and precompute with each residual source (exact,
                    emulate, none), one worker, as ratios to `ffmpeg -threads 1 -f null`
                    decode of the same file (every time the best of three runs), with peak
                    RSS; then re-selection from a cached analysis, as the inspector's engine
                    runs it (best and median of ten). Without VIDEO: the ../shared fixture
                    video (when present) and a generated 1080p pan.
  check [RECORDS]   `codecscope check` throughput on a generated training JSONL (default
                    1,000,000 records).
  all               both, with defaults.

Figures are printed, never asserted: run on an idle machine.";

/// Videos to measure: the fixture video when present, a generated 1080p clip, or one given.
fn bench_videos(dir: &std::path::Path, given: Option<&str>) -> Vec<std::path::PathBuf> {
    if let Some(v) = given {
        return vec![v.into()];
    }
    let mut v = Vec::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    if fixture.is_file() {
        v.push(fixture);
    } else {
        eprintln!("NOTICE: ../shared fixture video absent; measuring generated clips only");
    }
    let hd = dir.join("pan_1080p.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=2560x1080:rate=30",
            "-vf",
        ])
        .arg("crop=1920:1080:x='min(t*120\\,640)':y=0")
        .args([
            "-frames:v",
            "300",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&hd)
        .status();
    if status.is_ok_and(|s| s.success()) {
        v.push(hd);
    } else {
        eprintln!("NOTICE: could not make the 1080p clip with the ffmpeg CLI");
    }
    v
}

/// Decode-only floor, stage 1, stage 1 + 2 and precompute on each video, as ratios to
/// `ffmpeg -threads 1 -f null`; then re-selection from a cached analysis.
fn bench_pipeline(given: Option<&str>) {
    use codecscope::analysis::ResidualSource;
    use codecscope::select::{select_stage1_with, AnalysisStats, PaddingPolicy, Stage1Params};
    let dir = tempfile_dir();
    for video in bench_videos(&dir, given) {
        let v = video.to_string_lossy().into_owned();
        // The floor is the best of three runs: on a shared machine one slow run would
        // flatter every ratio.
        let floor = best_of_3(|| {
            run_measured(
                Command::new("ffmpeg")
                    .args(["-v", "error", "-threads", "1", "-i", &v, "-f", "null", "-"]),
            )
        });
        let ds = dir.join("ds.json");
        std::fs::write(
            &ds,
            format!("[{{\"id\": \"b\", \"video\": {v:?}, \"conversations\": []}}]"),
        )
        .unwrap();
        let pre = dir.join("pre.jsonl");
        std::fs::write(&pre, format!("{{\"video\": {v:?}, \"key\": \"b\"}}\n")).unwrap();
        println!(
            "{v}: ffmpeg -threads 1 -f null: {:.2} s (CPU {:.2} s; best of 3)",
            floor.secs, floor.cpu_secs
        );
        for residual in ["exact", "emulate", "none"] {
            // Every command is timed the way the floor is, best of three, each run from
            // an empty output folder (a finished output would be skipped).
            let s1 = dir.join(format!("s1-{residual}"));
            let sel = best_of_3(|| {
                let _ = std::fs::remove_dir_all(&s1);
                run_measured(
                    Command::new(exe())
                        .args([
                            "select",
                            "-q",
                            "-j",
                            "1",
                            "--residual",
                            residual,
                            "--padding-policy",
                            "zero",
                            "--keep-first-full-frame",
                            "--out-root",
                        ])
                        .arg(&s1)
                        .arg(&ds),
                )
            });
            let s2 = dir.join(format!("s2-{residual}"));
            let pack = best_of_3(|| {
                let _ = std::fs::remove_dir_all(&s2);
                run_measured(
                    Command::new(exe())
                        .args([
                            "pack",
                            "-q",
                            "-j",
                            "1",
                            "--first-full",
                            "--write-positions",
                            "--visidx-root",
                        ])
                        .arg(&s1)
                        .arg("--out-jsonl")
                        .arg(s2.join("t.jsonl"))
                        .arg("--out-image-root")
                        .arg(&s2)
                        .arg(&ds),
                )
            });
            let pc = dir.join(format!("pc-{residual}"));
            let prec = best_of_3(|| {
                let _ = std::fs::remove_dir_all(&pc);
                run_measured(
                    Command::new(exe())
                        .args([
                            "precompute",
                            "-q",
                            "-j",
                            "1",
                            "--residual",
                            residual,
                            "--out-root",
                        ])
                        .arg(&pc)
                        .arg(&pre),
                )
            });
            let r = |x: f64| x / floor.secs.max(1e-9);
            println!(
                "  residual {residual:<8} select {:.2} s ({:.2}x, CPU {:.2} s = {:.2}x, {:.0} MB) | select+pack {:.2} s ({:.2}x) | precompute {:.2} s ({:.2}x, {:.0} MB)",
                sel.secs, r(sel.secs), sel.cpu_secs, sel.cpu_secs / floor.cpu_secs.max(1e-9), sel.peak_rss_kb as f64 / 1024.0,
                sel.secs + pack.secs, r(sel.secs + pack.secs),
                prec.secs, r(prec.secs), prec.peak_rss_kb as f64 / 1024.0,
            );
        }
        // Re-selection from a cached analysis, as the inspector does on every knob change.
        let analysis = match codecscope::video::analyze(
            &v,
            &codecscope::video::AnalyzeOptions {
                residual: ResidualSource::Emulate,
                ..Default::default()
            },
        ) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("  re-selection: not measured, the analysis failed: {e}");
                continue;
            }
        };
        let mut p = Stage1Params {
            padding_policy: PaddingPolicy::Zero,
            keep_first_full_frame: true,
            ..Default::default()
        };
        // The inspector's engine works out the analysis' statistics once, when it caches it.
        let t = Instant::now();
        let stats = AnalysisStats::new(&analysis);
        let stats_ms = t.elapsed().as_secs_f64() * 1000.0;
        let _ = select_stage1_with(&analysis, Some(&stats), &p);
        let mut times: Vec<f64> = (0..10)
            .map(|i| {
                p.mv_pct = 90.0 + i as f64 * 0.5;
                let t = Instant::now();
                std::hint::black_box(select_stage1_with(&analysis, Some(&stats), &p));
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "  re-selection from the cached analysis ({}x{}): best {:.1} ms, median {:.1} ms \
             (statistics once per analysis: {stats_ms:.1} ms)",
            analysis.width,
            analysis.height,
            times[0],
            times[times.len() / 2]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
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
    /// User + system CPU seconds (sampled from /proc every 20 ms, so a slight undercount).
    cpu_secs: f64,
    peak_rss_kb: u64,
    code: Option<i32>,
    stdout: String,
}

/// The fastest of three runs, with the highest peak resident set of the three: on a shared
/// machine one slow run says nothing about the program, while memory does not vary that way.
fn best_of_3(mut run: impl FnMut() -> Measured) -> Measured {
    let runs: Vec<Measured> = (0..3).map(|_| run()).collect();
    let peak = runs.iter().map(|m| m.peak_rss_kb).max().unwrap_or(0);
    let mut best = runs
        .into_iter()
        .min_by(|a, b| a.secs.total_cmp(&b.secs))
        .expect("three runs");
    best.peak_rss_kb = peak;
    best
}

/// Runs a command, sampling its peak resident set (`VmHWM`) from /proc while it runs. Its
/// standard error (run summaries) is shown only when it fails, to keep the table readable.
fn run_measured(cmd: &mut Command) -> Measured {
    let t = Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let errors = read_all_behind(child.stderr.take().unwrap());
    let status_path = format!("/proc/{}/status", child.id());
    let stat_path = format!("/proc/{}/stat", child.id());
    let mut ticks = 0u64;
    let reader = read_all_behind(child.stdout.take().unwrap());
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
        if let Ok(text) = std::fs::read_to_string(&stat_path) {
            // Fields after the command name: utime and stime are the 12th and 13th.
            if let Some(rest) = text.rsplit_once(')').map(|(_, r)| r) {
                let f: Vec<u64> = rest
                    .split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                if f.len() == 2 {
                    ticks = ticks.max(f[0] + f[1]);
                }
            }
        }
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let secs = t.elapsed().as_secs_f64();
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        eprintln!("{cmd:?} failed ({status}):\n{errors}");
    }
    Measured {
        secs,
        cpu_secs: ticks as f64 / 100.0,
        peak_rss_kb: peak,
        code: status.code(),
        stdout: reader.join().unwrap(),
    }
}

/// Reads a child's pipe to its end on a thread of its own, so that a full pipe never stalls
/// the child while it is being measured.
fn read_all_behind(
    mut pipe: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    })
}
