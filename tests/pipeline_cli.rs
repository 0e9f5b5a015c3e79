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
