//! Evaluation log parsing, in each of the formats evaluation writes.

use codecscope::diagnose::eval_log::{parse_eval_log, LogVerdict};

#[test]
fn debug_log_pairs_hit_lines_with_the_lookup_before_them() {
    let log = "\
[codec][offline] built meta.json index: root=/data/assets entries=4
[codec][offline] USE_OFFLINE=1 root=/data/assets video=/v/a.mp4 candidates=['/data/assets/a', '/data/assets'] (total=2)
[codec][offline] HIT dir=/data/assets/a images=8 sample=['/data/assets/a/mosaic_000.jpg', '/data/assets/a/mosaic_001.jpg'] positions_npy=/data/assets/a/positions_thw.npy pos_shape=(1, 10368, 3)
Using offline visuals for video:  /v/a.mp4
[generate_until] USING_OFFLINE video=/v/a.mp4 dir=/data/assets/a images=8 pos_shape=(1, 10368, 3) pid=4242
[codec][offline] USE_OFFLINE=1 root=/data/assets video=/v/b c.mp4 candidates=['/data/assets'] (total=1)
[codec][offline] MISS (no assets found) video=/v/b c.mp4 root=/data/assets -> fallback to frame extraction
[generate_until] USING_FRAME_EXTRACTION video=/v/b c.mp4 extracted_frames=8 paths_sample=['/tmp/x.jpg'] pid=4242
";
    let l = parse_eval_log(log);
    assert!(l.debug);
    assert_eq!(l.index_builds, vec![("/data/assets".to_string(), 4)]);
    assert_eq!(l.roots, vec!["/data/assets".to_string()]);
    let a = l.get("/v/a.mp4").unwrap();
    assert_eq!(a.verdict(), LogVerdict::Hit);
    assert_eq!(
        a.hits, 1,
        "HIT, plain and USING_OFFLINE lines are one lookup"
    );
    assert_eq!(a.dirs, vec!["/data/assets/a".to_string()]);
    assert_eq!(a.images, Some(8));
    assert_eq!(a.pos_shape.as_deref(), Some("(1, 10368, 3)"));
    assert_eq!(
        a.positions_npy.as_deref(),
        Some("/data/assets/a/positions_thw.npy")
    );
    assert_eq!(
        a.candidates,
        vec!["/data/assets/a".to_string(), "/data/assets".to_string()]
    );
    assert_eq!(a.pids, vec!["4242".to_string()]);
    let b = l.get("/v/b c.mp4").unwrap();
    assert_eq!(b.verdict(), LogVerdict::Miss);
    assert_eq!(b.misses, 1);
}

#[test]
fn loguru_duplicates_count_once() {
    let log = "\
2025-01-01 10:00:00.000 | INFO     | lmms_eval.models.llava_ov_encoder:_offline_load_visuals_and_positions:385 - [codec][offline] USE_OFFLINE=1 root=/r video=a.mp4 candidates=['/r/a', '/r'] (total=2)
[codec][offline] USE_OFFLINE=1 root=/r video=a.mp4 candidates=['/r/a', '/r'] (total=2)
2025-01-01 10:00:00.100 | INFO     | lmms_eval.models.llava_ov_encoder:_offline_load_visuals_and_positions:417 - [codec][offline] HIT dir=/r/a images=8 sample=['/r/a/mosaic_000.jpg'] positions_npy=None pos_shape=None
[codec][offline] HIT dir=/r/a images=8 sample=['/r/a/mosaic_000.jpg'] positions_npy=None pos_shape=None
";
    let l = parse_eval_log(log);
    let a = l.get("a.mp4").unwrap();
    assert_eq!(a.lookups, 1);
    assert_eq!(a.hits, 1);
    assert_eq!(a.silent_misses, 0);
    assert_eq!(a.positions_npy, None);
    assert_eq!(a.pos_shape.as_deref(), Some("None"));
}

#[test]
fn lookup_without_hit_or_miss_is_a_silent_miss() {
    let log = "\
[codec][offline] USE_OFFLINE=1 root=/r video=t.mp4 candidates=['/r/t', '/r'] (total=2)
[codec][offline] failed to open images in /r/t: image file is truncated (5 bytes not processed)
[generate_until] USING_FRAME_EXTRACTION video=t.mp4 extracted_frames=8 paths_sample=[] pid=7
[codec][offline] USE_OFFLINE=1 root=/r video=u.mp4 candidates=['/r/u', '/r'] (total=2)
[codec][offline] failed to open images in /r/u: cannot identify image file '/r/u/mosaic_000.jpg'
[codec][offline] USE_OFFLINE=1 root=/r video=w.mp4 candidates=['/r/w', '/r'] (total=2)
[codec][offline] HIT dir=/r/w images=8 sample=[] positions_npy=None pos_shape=None
";
    let l = parse_eval_log(log);
    let t = l.get("t.mp4").unwrap();
    assert_eq!(t.verdict(), LogVerdict::Miss);
    assert_eq!(t.silent_misses, 1);
    assert_eq!(t.misses, 0);
    assert!(t.open_failures[0].contains("truncated"));
    // u.mp4: the next lookup started without a HIT or MISS line.
    let u = l.get("u.mp4").unwrap();
    assert_eq!(u.silent_misses, 1);
    assert_eq!(l.get("w.mp4").unwrap().verdict(), LogVerdict::Hit);
}

#[test]
fn launcher_tags_keep_processes_apart() {
    let log = "\
[rank0]: [codec][offline] USE_OFFLINE=1 root=/r video=a.mp4 candidates=[] (total=0)
[rank1]: [codec][offline] USE_OFFLINE=1 root=/r video=b.mp4 candidates=['/r/b'] (total=1)
[rank1]: [codec][offline] HIT dir=/r/b images=8 sample=[] positions_npy=None pos_shape=None
[rank0]: [codec][offline] MISS (no assets found) video=a.mp4 root=/r -> fallback to frame extraction
";
    let l = parse_eval_log(log);
    assert_eq!(l.get("a.mp4").unwrap().verdict(), LogVerdict::Miss);
    let b = l.get("b.mp4").unwrap();
    assert_eq!(b.verdict(), LogVerdict::Hit);
    assert_eq!(b.dirs, vec!["/r/b".to_string()]);
}

#[test]
fn root_with_newlines_splits_lines_and_is_joined_back() {
    let log = "\
[codec][offline] USE_OFFLINE=1 root=  [OK] Found: mvbench -> /x/assets
/x/assets video=v.mp4 candidates=[] (total=0)
[codec][offline] MISS (no assets found) video=v.mp4 root=  [OK] Found: mvbench -> /x/assets
/x/assets -> fallback to frame extraction
";
    let l = parse_eval_log(log);
    assert_eq!(
        l.roots,
        vec!["  [OK] Found: mvbench -> /x/assets\n/x/assets".to_string()]
    );
    let v = l.get("v.mp4").unwrap();
    assert_eq!(v.verdict(), LogVerdict::Miss);
    assert_eq!(v.misses, 1);
}

#[test]
fn plain_log_with_a_video_list() {
    let log = "\
Model Responding:  10%|#         | 1/10
Using offline visuals for video:  /v/a.mp4
Using offline visuals for video:  /v/with space.mp4
";
    let mut l = parse_eval_log(log);
    assert!(!l.debug);
    assert_eq!(l.get("/v/a.mp4").unwrap().verdict(), LogVerdict::Hit);
    assert_eq!(
        l.get("/v/with space.mp4").unwrap().verdict(),
        LogVerdict::Hit
    );
    l.apply_listed(&[
        "/v/a.mp4".into(),
        "/v/b.mp4".into(),
        "/v/with space.mp4".into(),
    ]);
    assert_eq!(l.get("/v/b.mp4").unwrap().verdict(), LogVerdict::Miss);
    assert_eq!(l.get("/v/a.mp4").unwrap().verdict(), LogVerdict::Hit);
}

#[test]
fn convert_inputs_lines_and_mixed_outcomes() {
    let log = "\
[convert_inputs] USING_OFFLINE video=m.mp4 dir=/r/m images=8 pid=1
[convert_inputs] USING_FRAME_EXTRACTION video=m.mp4 img_dir=/tmp/m num_frames=8 pid=2
";
    let l = parse_eval_log(log);
    let m = l.get("m.mp4").unwrap();
    assert_eq!(m.verdict(), LogVerdict::Mixed);
    assert_eq!(m.pids, vec!["1".to_string(), "2".to_string()]);
}
