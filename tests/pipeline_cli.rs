//! The pipeline commands end to end on the fixture: files upstream's loaders accept, logs,
//! exit codes.

mod common;

use codecscope::formats::{meta, npy};

#[test]
fn select_on_fixture_dataset_logs_the_missing_video_and_goes_on() {
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let out = tempfile::tempdir().unwrap();
    let root = out.path().join("s1");
    let (code, _, err) = common::run_in(
        &demo,
        &[
            "select",
            "--dataset_path",
            "raw_video_samples.json",
            "--out_root",
            root.to_str().unwrap(),
            "--padding_policy",
            "zero",
            "--keep_first_full_frame",
            "--residual",
            "none",
            "-q",
        ],
    );
    assert_eq!(code, 1, "one record fails, so exit 1: {err}");
    let log = std::fs::read_to_string(root.join("stage1_failed.shard00of01.txt")).unwrap();
    assert!(
        log.starts_with("YVQwAEKZpaU\tvideos/ytb_YVQwAEKZpaU.mp4\t"),
        "{log}"
    );
    // Same names as upstream's run on the same strings (its motion-only fixture).
    let theirs = fx.join("upstream-motion-only/stage1_first_full");
    let name = "sample_XwB-dkS5BVM__ytb_XwB-dkS5BVM__69f828b5__968ef9dc_T64_square576_p16_K10368";
    let ours_meta = meta::read_stage1_meta(&root.join(format!("{name}.meta.json"))).unwrap();
    let mut theirs_meta =
        meta::read_stage1_meta(&theirs.join(format!("{name}.meta.json"))).unwrap();
    theirs_meta.codecscope = ours_meta.codecscope.clone();
    assert_eq!(ours_meta, theirs_meta);
    let mut a = npy::read_rows(&root.join(format!("{name}.visidx_thw.npy"))).unwrap();
    let mut b = npy::read_rows(&theirs.join(format!("{name}.visidx_thw.npy"))).unwrap();
    a.sort();
    b.sort();
    assert_eq!(a, b);

    // A rerun resumes: nothing is redone.
    let (code, out_json, _) = common::run_in(
        &demo,
        &[
            "select",
            "raw_video_samples.json",
            "--out-root",
            root.to_str().unwrap(),
            "--padding-policy",
            "zero",
            "--keep-first-full-frame",
            "--residual",
            "none",
            "--json",
        ],
    );
    assert_eq!(code, 1);
    assert!(out_json.contains("\"existing\""), "{out_json}");

    // Stage 2 on our stage 1: a training JSONL that `check` passes.
    let s2 = out.path().join("s2");
    let jsonl = s2.join("train.jsonl");
    let (code, _, err) = common::run_in(
        &demo,
        &[
            "pack",
            "--input_dataset",
            "raw_video_samples.json",
            "--visidx_root",
            root.to_str().unwrap(),
            "--out_jsonl",
            jsonl.to_str().unwrap(),
            "--out_image_root",
            s2.join("img").to_str().unwrap(),
            "--first_full",
            "--write_positions",
            "--skip_missing",
            "--force_shard_out",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let sharded = s2.join("train.jsonl.shard00of01.jsonl");
    let (code, out, _) = common::run_in(&demo, &["check", sharded.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let line = std::fs::read_to_string(&sharded).unwrap();
    assert_eq!(line.lines().count(), 1);
    assert!(
        line.starts_with("{\"id\": \"XwB-dkS5BVM\", \"conversations\": "),
        "{line}"
    );
}

#[test]
fn precompute_on_fixture_input_makes_an_eval_folder() {
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let out = tempfile::tempdir().unwrap();
    let input = fx.join("upstream-precompute/input.jsonl");
    let (code, _, err) = common::run_in(
        &demo,
        &[
            "precompute",
            "--jsonl",
            input.to_str().unwrap(),
            "--out_root",
            out.path().to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let ours = out.path().join("assets/ytb_XwB-dkS5BVM");
    let theirs = fx.join("upstream-precompute/assets/ytb_XwB-dkS5BVM");
    for i in 0..8 {
        let img = image::open(ours.join(format!("mosaic_{i:03}.jpg"))).unwrap();
        assert_eq!((img.width(), img.height()), (576, 576));
    }
    assert_eq!(
        npy::read_frame_ids(&ours.join("frame_ids.npy")).unwrap(),
        npy::read_frame_ids(&theirs.join("frame_ids.npy")).unwrap()
    );
    let rows = npy::read_rows(&ours.join("positions_thw.npy")).unwrap();
    assert_eq!(rows.len(), 8 * 1296);
    assert!(rows.windows(2).all(|w| w[0] <= w[1]));
    let m = meta::read_offline_meta(&ours.join("meta.json")).unwrap();
    assert_eq!(
        m.cfg,
        meta::read_offline_meta(&theirs.join("meta.json"))
            .unwrap()
            .cfg
    );
    // No staging folder is left behind.
    let names: Vec<String> = std::fs::read_dir(out.path().join("assets"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["ytb_XwB-dkS5BVM".to_string()]);
    // A second run skips the finished folder.
    let (code, stdout, _) = common::run_in(
        &demo,
        &[
            "precompute",
            input.to_str().unwrap(),
            "--out-root",
            out.path().to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("\"existing\""), "{stdout}");
}

/// Makes a clip with the ffmpeg CLI; `None` (with a notice) when ffmpeg is missing.
fn make_clip(
    dir: &std::path::Path,
    name: &str,
    size: &str,
    frames: u32,
) -> Option<std::path::PathBuf> {
    let out = dir.join(name);
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=25"))
        .args([
            "-frames:v",
            &frames.to_string(),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-bf",
            "2",
        ])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("NOTICE: ffmpeg could not make {name}; skipping");
        return None;
    }
    Some(out)
}

#[test]
fn bad_videos_are_logged_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(good) = make_clip(d, "good.mp4", "320x180", 80) else {
        return;
    };
    let Some(short) = make_clip(d, "short.mp4", "64x48", 20) else {
        return;
    };
    let Some(tiny) = make_clip(d, "tiny.mp4", "32x18", 70) else {
        return;
    };
    let Some(odd) = make_clip(d, "odd.mp4", "200x120", 70) else {
        return;
    };
    std::fs::write(d.join("empty.mp4"), b"").unwrap();
    std::fs::write(d.join("text.mp4"), b"this is not a video\n").unwrap();
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(d.join("truncated.mp4"), &bytes[..bytes.len() / 3]).unwrap();
    let videos = [
        "good.mp4",
        "short.mp4",
        "tiny.mp4",
        "odd.mp4",
        "empty.mp4",
        "text.mp4",
        "truncated.mp4",
        "missing.mp4",
    ];
    let records: Vec<String> = videos
        .iter()
        .map(|v| format!("{{\"id\": \"{v}\", \"video\": \"{v}\", \"conversations\": [{{\"from\": \"human\", \"value\": \"<video>\"}}]}}"))
        .collect();
    std::fs::write(d.join("ds.jsonl"), records.join("\n") + "\n{broken\n").unwrap();
    let (code, out, err) = common::run_in(
        d,
        &[
            "select",
            "ds.jsonl",
            "--out-root",
            "s1",
            "--residual",
            "emulate",
            "--json",
        ],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let outcome = |v: &str| -> String {
        out.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|j| j["data"]["video"] == v)
            .map(|j| {
                j["data"]["outcome"]["status"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_default()
    };
    for ok in [good, short, tiny, odd] {
        let name = ok.file_name().unwrap().to_str().unwrap();
        assert_eq!(outcome(name), "written", "{name}: {out}");
    }
    for bad in ["empty.mp4", "text.mp4", "missing.mp4"] {
        assert_eq!(outcome(bad), "failed", "{bad}: {out}");
    }
    // A truncated file either decodes what is there (with a note) or fails clearly.
    assert!(["written", "failed"].contains(&outcome("truncated.mp4").as_str()));
    let log = std::fs::read_to_string(d.join("s1/stage1_failed.shard00of01.txt")).unwrap();
    assert!(
        log.contains("empty.mp4\tempty.mp4\t") && log.contains("text.mp4\ttext.mp4\t"),
        "{log}"
    );
    assert!(
        log.contains("JSONDecodeError"),
        "the malformed line is logged: {log}"
    );
    // Every written output is one that `check` accepts.
    let (code, report, _) = common::run_in(d, &["check", "s1"]);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn hostile_ids_stay_inside_the_output_root() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(_) = make_clip(d, "v.mp4", "96x64", 70) else {
        return;
    };
    let long = "L".repeat(400);
    let ids = ["../../escape", "/abs/olute", "a\u{0}b", long.as_str()];
    let records: Vec<String> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "video": "v.mp4", "conversations": []}).to_string())
        .collect();
    std::fs::write(d.join("ds.jsonl"), records.join("\n")).unwrap();
    let out_root = d.join("deep/out");
    let (code, out, err) = common::run_in(
        d,
        &[
            "select",
            "ds.jsonl",
            "--out-root",
            out_root.to_str().unwrap(),
            "--residual",
            "none",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // Every id was written, each as three files directly in the root, and it said how it escaped them.
    let names: Vec<String> = std::fs::read_dir(&out_root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".meta.json")).count(),
        ids.len(),
        "{names:?}"
    );
    assert!(std::fs::read_dir(&out_root)
        .unwrap()
        .flatten()
        .all(|e| e.file_type().unwrap().is_file()));
    assert!(names.iter().all(|n| n.len() <= 255 && !n.contains('\0')));
    assert!(!d.join("escape").exists() && !d.join("deep/escape").exists());
    assert_eq!(out.matches("written as").count(), ids.len(), "{out}");
}
