//! `codecscope doctor` end to end: exit codes, environment, lists, logs, JSON Lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(576, 576, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
    });
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Jpeg).unwrap();
    buf.into_inner()
}

/// `root/key` with `n` mosaics and a meta naming `video` (no positions: a finding, not a miss).
fn asset(root: &Path, key: &str, video: &str, n: usize) -> PathBuf {
    let d = root.join(key);
    std::fs::create_dir_all(&d).unwrap();
    let j = jpeg();
    for i in 0..n {
        std::fs::write(d.join(format!("mosaic_{i:03}.jpg")), &j).unwrap();
    }
    std::fs::write(
        d.join("meta.json"),
        format!(r#"{{"video": {video:?}, "key": {key:?}, "cfg": {{"seq_len_frames": 64}}}}"#),
    )
    .unwrap();
    d
}

fn doctor(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_codecscope"));
    c.arg("doctor").args(args);
    for k in [
        "LLAVA_CODEC_USE_OFFLINE",
        "LLAVA_CODEC_OFFLINE_ROOT",
        "LLAVA_CODEC_NUM_IMAGES",
        "LLAVA_CODEC_DEBUG",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn shared() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CODECSCOPE_SHARED") {
        let p = PathBuf::from(p);
        if p.join("fixtures").is_dir() {
            return Some(p);
        }
    }
    let mut cur = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    while let Some(c) = cur {
        if c.join("shared/fixtures").is_dir() {
            return Some(c.join("shared"));
        }
        cur = c.parent().map(Path::to_path_buf);
    }
    None
}

#[test]
fn fixture_root_exit_codes_and_json() {
    let Some(sh) = shared() else {
        eprintln!("NOTICE: shared fixtures not found (set CODECSCOPE_SHARED); skipping");
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let assets = t.path().join("out/assets");
    let dst = assets.join("ytb_XwB-dkS5BVM");
    std::fs::create_dir_all(&dst).unwrap();
    let src = sh.join("fixtures/upstream-precompute/assets/ytb_XwB-dkS5BVM");
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::write(dst.join(e.file_name()), std::fs::read(e.path()).unwrap()).unwrap();
    }
    let input = sh.join("fixtures/upstream-precompute/input.jsonl");
    let root = assets.to_string_lossy().into_owned();
    let o = doctor(&["--root", &root, "--videos", input.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("1 HIT, 0 MISS"), "{}", out(&o));
    assert!(out(&o)
        .lines()
        .any(|l| l.starts_with("HIT") && l.contains("mosaic_007.jpg")));
    // JSON Lines: envelope on every line, summary last.
    let o = doctor(
        &[
            "--root",
            &root,
            "--json",
            "videos/ytb_XwB-dkS5BVM.mp4",
            "videos/missing.mp4",
        ],
        &[],
    );
    assert_eq!(code(&o), 1);
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .all(|l| l["type"].is_string() && !l["data"].is_null()));
    assert_eq!(lines.first().unwrap()["type"], "config");
    assert_eq!(lines.last().unwrap()["type"], "summary");
    assert_eq!(lines.last().unwrap()["data"]["hits"], 1);
    assert_eq!(lines.last().unwrap()["data"]["misses"], 1);
    let videos: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "video").collect();
    assert_eq!(videos[0]["data"]["lookup"]["status"], "hit");
    assert_eq!(
        videos[0]["data"]["lookup"]["images"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    assert_eq!(videos[1]["data"]["lookup"]["reason"], "not-found");
    assert!(
        err(&o).is_empty(),
        "no human chatter under --json: {}",
        err(&o)
    );
    // The out_root also HITs (exit 0) with a warning; --strict makes the warning fail.
    let outroot = t.path().join("out").to_string_lossy().into_owned();
    let o = doctor(&["--root", &outroot, "videos/ytb_XwB-dkS5BVM.mp4"], &[]);
    assert_eq!(code(&o), 0);
    assert!(out(&o).contains("root-is-out-root"));
    let o = doctor(
        &["--root", &outroot, "--strict", "videos/ytb_XwB-dkS5BVM.mp4"],
        &[],
    );
    assert_eq!(code(&o), 1);
    let o = doctor(
        &[
            "--root",
            &root,
            "--expect",
            "seq_len_frames=64,num_images=8,square_size=576",
            "videos/ytb_XwB-dkS5BVM.mp4",
        ],
        &[],
    );
    assert_eq!(code(&o), 0);
    assert!(!out(&o).contains("config-mismatch"));
}

#[test]
fn environment_is_read_as_evaluation_reads_it() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    asset(&root, "a", "a.mp4", 8);
    let r = root.to_string_lossy().into_owned();
    // Root from the environment, USE_OFFLINE unset: nothing is looked up.
    let o = doctor(&["a.mp4"], &[("LLAVA_CODEC_OFFLINE_ROOT", &r)]);
    assert_eq!(code(&o), 1);
    assert!(out(&o).contains("offline-disabled"), "{}", out(&o));
    assert!(out(&o).contains("OFF"));
    assert!(err(&o).contains("environment"));
    // "on" is not one of evaluation's true values.
    let o = doctor(
        &["a.mp4"],
        &[
            ("LLAVA_CODEC_OFFLINE_ROOT", &r),
            ("LLAVA_CODEC_USE_OFFLINE", "on"),
        ],
    );
    assert_eq!(code(&o), 1);
    let o = doctor(
        &["a.mp4"],
        &[
            ("LLAVA_CODEC_OFFLINE_ROOT", &r),
            ("LLAVA_CODEC_USE_OFFLINE", "True"),
        ],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("environment LLAVA_CODEC_OFFLINE_ROOT"));
    // NUM_IMAGES from the environment.
    let o = doctor(
        &["a.mp4"],
        &[
            ("LLAVA_CODEC_OFFLINE_ROOT", &r),
            ("LLAVA_CODEC_USE_OFFLINE", "1"),
            ("LLAVA_CODEC_NUM_IMAGES", "2"),
        ],
    );
    assert_eq!(code(&o), 0);
    assert!(
        out(&o).contains("2 image(s): mosaic_000.jpg mosaic_001.jpg |"),
        "{}",
        out(&o)
    );
    // A non-integer NUM_IMAGES crashes evaluation: a usage error here.
    let o = doctor(
        &["a.mp4"],
        &[
            ("LLAVA_CODEC_OFFLINE_ROOT", &r),
            ("LLAVA_CODEC_USE_OFFLINE", "1"),
            ("LLAVA_CODEC_NUM_IMAGES", "eight"),
        ],
    );
    assert_eq!(code(&o), 2);
    // Captured shell text in the root: every video misses, the hidden folder is shown.
    let captured = format!("  [OK] Found: mvbench -> {r}\n{r}");
    let o = doctor(
        &["a.mp4"],
        &[
            ("LLAVA_CODEC_OFFLINE_ROOT", &captured),
            ("LLAVA_CODEC_USE_OFFLINE", "1"),
        ],
    );
    assert_eq!(code(&o), 1);
    assert!(out(&o).contains("root-captured-output"));
    assert!(out(&o).contains(&format!("LLAVA_CODEC_OFFLINE_ROOT={r}")));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().to_string_lossy().into_owned();
    assert_eq!(
        code(&doctor(&["--root", &r, "--expect", "oops", "a.mp4"], &[])),
        2
    );
    assert_eq!(
        code(&doctor(&["--root", &r, "--num-images", "x", "a.mp4"], &[])),
        2
    );
    assert_eq!(
        code(&doctor(
            &["--root", &r, "--videos", "/nonexistent/list.jsonl"],
            &[]
        )),
        2
    );
    assert_eq!(
        code(&doctor(
            &["--root", &r, "--log", "/nonexistent/eval.log", "a.mp4"],
            &[]
        )),
        2
    );
    assert_eq!(code(&doctor(&["--no-such-flag"], &[])), 2);
    let bad = t.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"video\": \"a.mp4\"}\n{oops\n").unwrap();
    assert_eq!(
        code(&doctor(
            &["--root", &r, "--videos", bad.to_str().unwrap()],
            &[]
        )),
        2
    );
}

#[test]
fn video_lists_logs_and_disagreements() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    asset(&root, "a", "/v/a.mp4", 8);
    asset(&root, "doc_7", "/v/b.mp4", 8);
    let r = root.to_string_lossy().into_owned();
    // Precompute input JSONL: video and key; exists=false skipped.
    let jl = t.path().join("input.jsonl");
    std::fs::write(
        &jl,
        "{\"video\": \"/v/a.mp4\", \"key\": \"a\"}\n\n{\"video\": \"/v/b.mp4\", \"key\": \"doc_7\"}\n{\"video\": \"/v/gone.mp4\", \"key\": \"g\", \"exists\": false}\n",
    )
    .unwrap();
    // A log without debug: only a.mp4 was a hit, so b.mp4 was a miss according to evaluation.
    let log = t.path().join("eval.log");
    std::fs::write(&log, "Using offline visuals for video:  /v/a.mp4\n").unwrap();
    let o = doctor(
        &[
            "--root",
            &r,
            "--videos",
            jl.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", out(&o));
    let s = out(&o);
    assert!(s.contains("2 video(s): 2 HIT"), "{s}");
    assert!(!s.contains("gone.mp4"));
    let b_line = s.lines().find(|l| l.contains("/v/b.mp4")).unwrap();
    assert!(b_line.contains("eval log: MISS DISAGREES"), "{b_line}");
    assert!(s.contains("1 video(s) where evaluation's verdict differs"));
    // A text list and a folder of videos.
    let txt = t.path().join("list.txt");
    std::fs::write(&txt, "# videos\n/v/a.mp4\n\n/v/zzz.mp4\n").unwrap();
    let o = doctor(&["--root", &r, "--videos", txt.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    assert!(out(&o).contains("1 HIT, 1 MISS"));
    let vids = t.path().join("videos");
    std::fs::create_dir_all(vids.join("sub")).unwrap();
    std::fs::write(vids.join("sub/a.mp4"), b"").unwrap();
    std::fs::write(vids.join("notes.txt"), b"").unwrap();
    let o = doctor(&["--root", &r, "--videos", vids.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 0, "{}", out(&o));
    assert!(out(&o).contains("1 video(s): 1 HIT"));
    // A debug log supplies the root and the videos by itself.
    let dlog = t.path().join("debug.log");
    std::fs::write(
        &dlog,
        format!(
            "[codec][offline] USE_OFFLINE=1 root={r} video=/v/a.mp4 candidates=['{r}/a', '{r}'] (total=2)\n\
             [codec][offline] HIT dir={r}/a images=8 sample=[] positions_npy=None pos_shape=None\n\
             [codec][offline] USE_OFFLINE=1 root={r} video=/v/c.mp4 candidates=['{r}'] (total=1)\n\
             [codec][offline] MISS (no assets found) video=/v/c.mp4 root={r} -> fallback to frame extraction\n"
        ),
    )
    .unwrap();
    let o = doctor(&["--log", dlog.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    let s = out(&o);
    assert!(s.contains("(from the eval log)"), "{s}");
    assert!(s
        .lines()
        .any(|l| l.starts_with("HIT") && l.contains("/v/a.mp4") && l.contains("eval log: HIT")));
    assert!(s
        .lines()
        .any(|l| l.starts_with("MISS") && l.contains("/v/c.mp4") && l.contains("eval log: MISS")));
    assert!(!s.contains("DISAGREES"));
}

#[test]
fn root_without_videos_checks_what_the_metas_name() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    asset(&root, "a", "/v/a.mp4", 8);
    let b = asset(&root, "b", "/v/b.mp4", 8);
    std::fs::write(b.join("mosaic_002.jpg"), b"truncated").unwrap();
    let o = doctor(&["--root", root.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1);
    assert!(out(&o).contains("1 HIT, 1 MISS (1 silent)"), "{}", out(&o));
    assert!(out(&o)
        .lines()
        .any(|l| l.starts_with("SILENT-MISS") && l.contains("/v/b.mp4")));
}
