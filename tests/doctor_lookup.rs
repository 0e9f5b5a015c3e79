//! Evaluation's offline lookup, trap by trap, on roots built in temporary folders.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use codecscope::diagnose::asset_root::{asset_folder_findings, asset_root_findings};
use codecscope::diagnose::doctor::{run_doctor, DoctorConfig, VideoInput};
use codecscope::diagnose::eval_lookup::{lookup, AssetIndex, LookupStatus};
use codecscope::diagnose::Finding;

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

fn jpeg() -> &'static [u8] {
    static J: OnceLock<Vec<u8>> = OnceLock::new();
    J.get_or_init(|| {
        let img = image::RgbImage::from_fn(576, 576, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Jpeg).unwrap();
        buf.into_inner()
    })
}

fn png() -> &'static [u8] {
    static P: OnceLock<Vec<u8>> = OnceLock::new();
    P.get_or_init(|| {
        let img = image::RgbImage::from_fn(64, 64, |x, _| image::Rgb([x as u8, 0, 0]));
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Png).unwrap();
        buf.into_inner()
    })
}

fn npy_i32(path: &Path, shape: &[usize], data: &[i32]) {
    let shape_s = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<i4', 'fortran_order': False, 'shape': {shape_s}, }}");
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for v in data {
        b.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

fn positions(path: &Path, images: usize) {
    let mut data = Vec::with_capacity(images * 1296 * 3);
    for t in 0..images {
        for h in 0..36 {
            for w in 0..36 {
                data.extend_from_slice(&[t as i32, h, w]);
            }
        }
    }
    npy_i32(path, &[images * 1296, 3], &data);
}

const CFG: &str = r#"{"seq_len_frames": 64, "num_images": 8, "square_size": 576, "patch_size": 16, "topk_mode": "global"}"#;

fn meta(dir: &Path, video: &str, key: &str, cfg: &str) {
    std::fs::write(
        dir.join("meta.json"),
        format!(r#"{{"version": "llava_codec_offline_precompute_v1", "video": {video:?}, "key": {key:?}, "cfg": {cfg}}}"#),
    )
    .unwrap();
}

/// A finished precompute folder `root/key` for `video` with `n` mosaics.
fn asset(root: &Path, key: &str, video: &str, n: usize) -> PathBuf {
    let d = root.join(key);
    std::fs::create_dir_all(&d).unwrap();
    for i in 0..n {
        std::fs::write(d.join(format!("mosaic_{i:03}.jpg")), jpeg()).unwrap();
    }
    positions(&d.join("positions_thw.npy"), n);
    npy_i32(&d.join("frame_ids.npy"), &[64], &[0; 64]);
    npy_i32(&d.join("visible_indices.npy"), &[1], &[0]);
    meta(&d, video, key, CFG);
    d
}

fn mosaics(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("mosaic_{i:03}.jpg")).collect()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Lookup with a fresh index, as evaluation's process would.
fn eval(root: &Path, video: &str, n: usize) -> codecscope::diagnose::eval_lookup::LookupResult {
    let idx = AssetIndex::build(&s(root));
    lookup(&idx, root, video, n)
}

fn names(paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.rsplit('/').next().unwrap().to_string())
        .collect()
}

fn codes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.code).collect()
}

fn cfg(root: &Path) -> DoctorConfig {
    DoctorConfig {
        root: Some(s(root)),
        use_offline: true,
        num_images: 8,
        decode: true,
        expect: vec![],
        all_folders: false,
    }
}

fn vi(v: &str) -> VideoInput {
    VideoInput {
        video: v.into(),
        key: None,
    }
}

/// The shared fixtures folder: `CODECSCOPE_SHARED`, else a `shared/fixtures` found walking up.
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

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::write(&t, std::fs::read(e.path()).unwrap()).unwrap();
        }
    }
}

/// The upstream fixture copied into `tmp/out/assets/<key>` (the eval layout).
fn fixture_root(tmp: &Path) -> Option<PathBuf> {
    let Some(sh) = shared() else {
        eprintln!(
            "NOTICE: shared fixtures not found (set CODECSCOPE_SHARED); skipping fixture test"
        );
        return None;
    };
    let src = sh.join("fixtures/upstream-precompute/assets/ytb_XwB-dkS5BVM");
    let dst = tmp.join("out/assets/ytb_XwB-dkS5BVM");
    copy_dir(&src, &dst);
    Some(tmp.join("out"))
}

const FIXTURE_VIDEO: &str = "videos/ytb_XwB-dkS5BVM.mp4";

// ---------------------------------------------------------------------------------------------
// Healthy roots
// ---------------------------------------------------------------------------------------------

#[test]
fn fixture_in_eval_layout_hits() {
    let t = tempfile::tempdir().unwrap();
    let Some(out) = fixture_root(t.path()) else {
        return;
    };
    let root = out.join("assets");
    let r = eval(&root, FIXTURE_VIDEO, 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert_eq!(r.reason, None);
    assert_eq!(
        r.chosen.as_deref(),
        Some(s(&root.join("ytb_XwB-dkS5BVM")).as_str())
    );
    assert_eq!(names(&r.images), mosaics(8));
    let p = r.positions.clone().unwrap();
    assert!(p.path.ends_with("/positions_thw.npy"));
    assert_eq!(p.shape, Some(vec![10368, 3]));
    assert_eq!(p.eval_shape, Some(vec![1, 10368, 3]));
    assert!(p.used);
    assert!(r
        .opened
        .iter()
        .all(|o| o.ok && o.width == 576 && o.height == 576));
    // Nothing to report about a healthy root or folder.
    assert_eq!(codes(&asset_root_findings(&root, 8)), Vec::<&str>::new());
    assert_eq!(
        codes(&asset_folder_findings(&root.join("ytb_XwB-dkS5BVM"), 8)),
        Vec::<&str>::new()
    );
    // A trailing slash is stripped as evaluation strips it.
    let r2 = eval(Path::new(&format!("{}/", s(&root))), FIXTURE_VIDEO, 8);
    assert_eq!(r2.chosen, r.chosen);
    let rep = run_doctor(&cfg(&root), &[vi(FIXTURE_VIDEO)], None, false);
    assert_eq!(rep.exit_code(false), 0);
    assert!(
        rep.videos[0].findings.is_empty(),
        "{:?}",
        rep.videos[0].findings
    );
}

#[test]
fn fixture_root_given_as_out_root_hits_through_index() {
    let t = tempfile::tempdir().unwrap();
    let Some(out) = fixture_root(t.path()) else {
        return;
    };
    let r = eval(&out, FIXTURE_VIDEO, 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert_eq!(
        r.chosen.as_deref(),
        Some(s(&out.join("assets/ytb_XwB-dkS5BVM")).as_str())
    );
    assert_eq!(names(&r.images), mosaics(8));
    assert!(matches!(
        r.candidates.last().unwrap().source,
        codecscope::diagnose::eval_lookup::CandidateSource::Index { .. }
    ));
    assert!(codes(&asset_root_findings(&out, 8)).contains(&"root-is-out-root"));
    let rep = run_doctor(&cfg(&out), &[vi(FIXTURE_VIDEO)], None, false);
    assert_eq!(rep.exit_code(false), 0);
    assert!(codes(&rep.videos[0].findings).contains(&"root-is-out-root"));
    assert!(rep
        .root_findings
        .iter()
        .any(|f| f.code == "root-is-out-root" && f.hint.contains("/assets")));
}

// ---------------------------------------------------------------------------------------------
// Root traps
// ---------------------------------------------------------------------------------------------

#[test]
fn root_missing_every_video_misses() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("nope/assets");
    let rep = run_doctor(&cfg(&root), &[vi("a.mp4"), vi("b.mp4")], None, false);
    assert!(rep
        .videos
        .iter()
        .all(|v| v.lookup.status == LookupStatus::Miss && v.lookup.reason == Some("root-missing")));
    assert_eq!(rep.exit_code(false), 1);
    assert_eq!(codes(&asset_root_findings(&root, 8)), vec!["root-missing"]);
}

#[test]
fn root_not_a_directory() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("root.txt");
    std::fs::write(&f, "x").unwrap();
    let rep = run_doctor(&cfg(&f), &[vi("a.mp4")], None, false);
    assert_eq!(rep.videos[0].lookup.reason, Some("root-not-dir"));
    assert_eq!(rep.exit_code(false), 1);
}

#[test]
fn root_with_captured_shell_text_shows_hidden_dir() {
    let t = tempfile::tempdir().unwrap();
    let assets = t.path().join("X/assets");
    asset(&assets, "clip", "v/clip.mp4", 8);
    let raw = format!("  [OK] Found: mvbench -> {}\n{}", s(&assets), s(&assets));
    let c = DoctorConfig {
        root: Some(raw.clone()),
        ..cfg(&assets)
    };
    let rep = run_doctor(&c, &[vi("v/clip.mp4")], None, false);
    let v = &rep.videos[0];
    assert_eq!(v.lookup.status, LookupStatus::Miss);
    assert_eq!(v.lookup.reason, Some("root-captured-output"));
    let f = rep
        .root_findings
        .iter()
        .find(|f| f.code == "root-captured-output")
        .unwrap();
    assert!(f.message.contains(&s(&assets)), "{}", f.message);
    assert!(f
        .hint
        .contains(&format!("LLAVA_CODEC_OFFLINE_ROOT={}", s(&assets))));
    assert_eq!(rep.exit_code(false), 1);
}

#[test]
fn root_as_colon_joined_list() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a/assets");
    let b = t.path().join("b/assets");
    asset(&a, "clip", "clip.mp4", 8);
    std::fs::create_dir_all(&b).unwrap();
    let raw = format!("{}:{}", s(&a), s(&b));
    let c = DoctorConfig {
        root: Some(raw),
        ..cfg(&a)
    };
    let rep = run_doctor(&c, &[vi("clip.mp4")], None, false);
    assert_eq!(rep.videos[0].lookup.reason, Some("root-path-list"));
    let f = rep
        .root_findings
        .iter()
        .find(|f| f.code == "root-path-list")
        .unwrap();
    assert!(f.message.contains(&s(&a)) && f.message.contains(&s(&b)));
    assert_eq!(rep.exit_code(false), 1);
}

#[test]
fn flat_root_gives_every_video_the_same_images() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..8 {
        std::fs::write(root.join(format!("mosaic_{i:03}.jpg")), jpeg()).unwrap();
    }
    positions(&root.join("positions_thw.npy"), 8);
    meta(&root, "one.mp4", "", CFG);
    // A properly keyed folder exists too: the flat root still wins (it comes before the index).
    asset(&root.join("sub"), "two", "two.mp4", 8);
    for v in ["one.mp4", "two.mp4", "anything.mp4"] {
        let r = eval(&root, v, 8);
        assert_eq!(r.status, LookupStatus::Hit, "{v}");
        assert_eq!(r.chosen.as_deref(), Some(s(&root).as_str()), "{v}");
        assert_eq!(names(&r.images), mosaics(8));
    }
    assert!(codes(&asset_root_findings(&root, 8)).contains(&"root-flat-images"));
    let rep = run_doctor(&cfg(&root), &[vi("x.mp4")], None, false);
    assert!(codes(&rep.videos[0].findings).contains(&"hit-flat-root"));
    assert_eq!(rep.exit_code(false), 0);
}

// ---------------------------------------------------------------------------------------------
// Not found: nearest keys and stems
// ---------------------------------------------------------------------------------------------

#[test]
fn not_found_suggests_nearest_names() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    // Folders without meta.json: only root/<stem> can find them.
    for k in [
        "Clip_Case",
        "v_actnet1",
        "double.mp4",
        "sample_7__hashed__0123abcd",
        "near_name_12345",
    ] {
        let d = root.join(k);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("mosaic_000.jpg"), jpeg()).unwrap();
    }
    // A folder named by the precompute key (sample id) without meta.json.
    let d = root.join("doc_42");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("mosaic_000.jpg"), jpeg()).unwrap();
    let cases = [
        ("clip_case.mp4", None, "Clip_Case", "case"),
        ("actnet1.mp4", None, "v_actnet1", "v_"),
        ("double.mp4", None, "double.mp4", "extension"),
        ("hashed.mp4", None, "sample_7__hashed__0123abcd", "stage-2"),
        (
            "near_name_12346.mp4",
            None,
            "near_name_12345",
            "edit distance",
        ),
        (
            "videos/real_stem.mp4",
            Some("doc_42"),
            "doc_42",
            "sample id",
        ),
    ];
    let videos: Vec<VideoInput> = cases
        .iter()
        .map(|(v, k, _, _)| VideoInput {
            video: v.to_string(),
            key: k.map(str::to_string),
        })
        .collect();
    let rep = run_doctor(&cfg(&root), &videos, None, false);
    for ((v, _, want, rel), r) in cases.iter().zip(&rep.videos) {
        assert_eq!(r.lookup.status, LookupStatus::Miss, "{v}");
        assert_eq!(r.lookup.reason, Some("not-found"), "{v}");
        let sug = r
            .suggestions
            .first()
            .unwrap_or_else(|| panic!("no suggestion for {v}"));
        assert_eq!(sug.name, *want, "{v}");
        assert!(sug.relation.contains(rel), "{v}: {}", sug.relation);
        assert!(
            r.fix.as_deref().unwrap_or("").contains(want),
            "{v}: {:?}",
            r.fix
        );
    }
    assert_eq!(rep.exit_code(false), 1);
}

// ---------------------------------------------------------------------------------------------
// Duplicates and walk order
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_stems_first_in_walk_order_wins() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("out");
    // Same video in two copies, neither at root/<stem>: only the index finds them.
    let a = asset(&root.join("assets"), "k1", "videos/dup.mp4", 8);
    let b = asset(&root.join("assets_old"), "k1", "videos/dup.mp4", 8);
    // os.walk order: the root's listing order decides which copy is met first.
    let first_top: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let (winner, loser) = if first_top[0] == "assets" {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let r = eval(&root, "elsewhere/dup.mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert_eq!(r.chosen.as_deref(), Some(s(winner).as_str()));
    // The key is shared too: same winner.
    let r = eval(&root, "k1.mp4", 8);
    assert_eq!(r.chosen.as_deref(), Some(s(winner).as_str()));
    let f = asset_root_findings(&root, 8);
    let dup: Vec<&Finding> = f.iter().filter(|f| f.code == "duplicate-name").collect();
    assert_eq!(dup.len(), 2, "{f:?}"); // "dup" (stem) and "k1" (key)
    assert!(dup
        .iter()
        .all(|d| d.location == s(winner) && d.message.contains(&s(loser))));
    let rep = run_doctor(&cfg(&root), &[vi("videos/dup.mp4")], None, false);
    assert!(codes(&rep.videos[0].findings).contains(&"duplicate-name"));
}

#[test]
fn stems_and_keys_share_one_dictionary() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    std::fs::create_dir_all(&root).unwrap();
    // Folder A's key is "shared"; folder B's video stem is "shared". Whichever the walk meets
    // first owns the name.
    let a = asset(&root.join("x"), "ka", "videos/other_a.mp4", 8);
    meta(&a, "videos/other_a.mp4", "shared", CFG);
    let b = asset(&root.join("y"), "kb", "videos/shared.mp4", 8);
    let idx = AssetIndex::build(&s(&root));
    let first = idx
        .metas
        .iter()
        .position(|m| m.key.as_deref() == Some("shared") || m.stem.as_deref() == Some("shared"))
        .unwrap();
    let want = &idx.metas[first].dir;
    let r = lookup(&idx, &root, "videos/shared.mp4", 8);
    assert_eq!(r.chosen.as_deref(), Some(want.as_str()));
    assert!(want == &s(&a) || want == &s(&b));
}

// ---------------------------------------------------------------------------------------------
// Images: sort order, stray files, failures, counts
// ---------------------------------------------------------------------------------------------

#[test]
fn stray_image_sorts_before_mosaics() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    let d = asset(&root, "clip", "clip.mp4", 8);
    std::fs::write(d.join("0_preview.png"), png()).unwrap();
    std::fs::write(d.join("mosaic_000.tmp.jpg"), jpeg()).unwrap();
    let r = eval(&root, "clip.mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    let mut want = vec![
        "0_preview.png".to_string(),
        "mosaic_000.jpg".into(),
        "mosaic_000.tmp.jpg".into(),
    ];
    want.extend(mosaics(8)[1..6].iter().cloned());
    assert_eq!(names(&r.images), want);
    let f = asset_folder_findings(&d, 8);
    assert!(codes(&f).contains(&"stray-image-first"), "{f:?}");
}

#[test]
fn natural_sort_and_case_sensitive_globs() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    let d = root.join("clip");
    std::fs::create_dir_all(&d).unwrap();
    for n in [
        "img10.jpg",
        "img2.jpg",
        "img1.webp",
        "IMG0.JPG",
        ".img0.jpg",
        "pack3.jpeg",
        "grid_1.png",
        "notes.txt",
    ] {
        std::fs::write(d.join(n), if n.ends_with(".png") { png() } else { jpeg() }).unwrap();
    }
    let r = eval(&root, "clip.mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert_eq!(
        names(&r.images),
        [
            "grid_1.png",
            "img1.webp",
            "img2.jpg",
            "img10.jpg",
            "pack3.jpeg"
        ]
    );
    // max(1, N): N = 0 still takes one image.
    let r0 = eval(&root, "clip.mp4", 0);
    assert_eq!(names(&r0.images), ["grid_1.png"]);
    // Only uppercase or hidden images: nothing matches.
    let d2 = root.join("upper");
    std::fs::create_dir_all(&d2).unwrap();
    std::fs::write(d2.join("MOSAIC_000.JPG"), jpeg()).unwrap();
    std::fs::write(d2.join(".mosaic_001.jpg"), jpeg()).unwrap();
    let r2 = eval(&root, "upper.mp4", 8);
    assert_eq!(r2.status, LookupStatus::Miss);
    assert_eq!(r2.reason, Some("no-images"));
}

#[test]
fn unreadable_images_are_a_silent_miss() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    let d = asset(&root, "trunc", "trunc.mp4", 8);
    let j = jpeg();
    std::fs::write(d.join("mosaic_003.jpg"), &j[..j.len() / 2]).unwrap();
    let r = eval(&root, "trunc.mp4", 8);
    assert_eq!(r.status, LookupStatus::SilentMiss);
    assert_eq!(r.reason, Some("images-unreadable"));
    assert_eq!(r.chosen.as_deref(), Some(s(&d).as_str()));
    assert!(r.images.is_empty());
    // Missing only the final EOI marker fails in PIL as well.
    let d2 = asset(&root, "noeoi", "noeoi.mp4", 8);
    std::fs::write(d2.join("mosaic_000.jpg"), &j[..j.len() - 2]).unwrap();
    assert_eq!(eval(&root, "noeoi.mp4", 8).status, LookupStatus::SilentMiss);
    // Not an image at all.
    let d3 = asset(&root, "text", "text.mp4", 8);
    std::fs::write(d3.join("mosaic_007.jpg"), b"<html>not an image</html>").unwrap();
    assert_eq!(eval(&root, "text.mp4", 8).status, LookupStatus::SilentMiss);
    // Trailing bytes after EOI are fine.
    let d4 = asset(&root, "trail", "trail.mp4", 8);
    let mut tj = j.to_vec();
    tj.extend_from_slice(b"trailing");
    std::fs::write(d4.join("mosaic_000.jpg"), tj).unwrap();
    assert_eq!(eval(&root, "trail.mp4", 8).status, LookupStatus::Hit);
    let rep = run_doctor(&cfg(&root), &[vi("trunc.mp4")], None, false);
    assert_eq!(rep.exit_code(false), 1);
    assert!(rep.videos[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("mosaic_003.jpg"));
    assert!(codes(&asset_folder_findings(&d, 8)).contains(&"image-unreadable"));
}

#[test]
fn failing_candidate_falls_through_to_the_next() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    // root/<stem> has a broken image; the index maps the stem to a good folder.
    let bad = root.join("clip");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("mosaic_000.jpg"), b"junk").unwrap();
    let good = asset(&root.join("good"), "k", "clip.mp4", 8);
    let r = eval(&root, "clip.mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert_eq!(r.chosen.as_deref(), Some(s(&good).as_str()));
    let rep = run_doctor(&cfg(&root), &[vi("clip.mp4")], None, false);
    assert!(codes(&rep.videos[0].findings).contains(&"candidate-skipped"));
}

#[test]
fn fewer_images_than_n_still_hits() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    let d = asset(&root, "few", "few.mp4", 3);
    let r = eval(&root, "few.mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert_eq!(names(&r.images), mosaics(3));
    assert!(codes(&asset_folder_findings(&d, 8)).contains(&"fewer-images"));
    let rep = run_doctor(&cfg(&root), &[vi("few.mp4")], None, false);
    assert!(codes(&rep.videos[0].findings).contains(&"fewer-images"));
    assert_eq!(rep.exit_code(false), 0);
}

// ---------------------------------------------------------------------------------------------
// Incomplete and failed folders
// ---------------------------------------------------------------------------------------------

#[test]
fn error_json_without_images_misses() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    let d = root.join("bad");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("error.json"),
        r#"{"error": "RuntimeError('decode failed')", "video": "bad.mp4", "key": "bad"}"#,
    )
    .unwrap();
    let rep = run_doctor(&cfg(&root), &[vi("bad.mp4")], None, false);
    assert_eq!(rep.videos[0].lookup.status, LookupStatus::Miss);
    assert_eq!(rep.videos[0].lookup.reason, Some("error-json"));
    assert!(rep.videos[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("decode failed"));
    assert!(codes(&asset_root_findings(&root, 8)).contains(&"error-json"));
    // A stale error.json beside a finished folder: HIT with a warning.
    let d2 = asset(&root, "stale", "stale.mp4", 8);
    std::fs::write(d2.join("error.json"), r#"{"error": "old"}"#).unwrap();
    let rep = run_doctor(&cfg(&root), &[vi("stale.mp4")], None, false);
    assert_eq!(rep.videos[0].lookup.status, LookupStatus::Hit);
    let f = rep.videos[0]
        .findings
        .iter()
        .find(|f| f.code == "error-json")
        .unwrap();
    assert_eq!(f.severity, codecscope::diagnose::Severity::Warning);
}

#[test]
fn incomplete_folder_hits_and_empty_folder_misses() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    // Killed run: mosaics only, no meta or npy.
    let d = root.join("killed");
    std::fs::create_dir_all(&d).unwrap();
    for i in 0..8 {
        std::fs::write(d.join(format!("mosaic_{i:03}.jpg")), jpeg()).unwrap();
    }
    let r = eval(&root, "killed.mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    let f = asset_root_findings(&root, 8);
    assert!(codes(&f).contains(&"asset-incomplete"), "{f:?}");
    assert!(codes(&f).contains(&"positions-missing"));
    // Missing video: an empty folder.
    std::fs::create_dir_all(root.join("empty")).unwrap();
    let r = eval(&root, "empty.mp4", 8);
    assert_eq!(r.status, LookupStatus::Miss);
    assert_eq!(r.reason, Some("no-images"));
    assert!(codes(&asset_root_findings(&root, 8)).contains(&"asset-folder-empty"));
}

// ---------------------------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------------------------

#[test]
fn positions_search_order_shapes_and_lengths() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    // positions.npy comes before positions_thw.npy.
    let d = asset(&root, "order", "order.mp4", 8);
    positions(&d.join("positions.npy"), 8);
    assert!(eval(&root, "order.mp4", 8)
        .positions
        .unwrap()
        .path
        .ends_with("/positions.npy"));
    // [1,S,3] is accepted.
    let d = asset(&root, "batched", "batched.mp4", 8);
    npy_i32(
        &d.join("positions_thw.npy"),
        &[1, 8 * 1296, 3],
        &vec![0; 8 * 1296 * 3],
    );
    let p = eval(&root, "batched.mp4", 8).positions.unwrap();
    assert!(p.used);
    assert_eq!(p.eval_shape, Some(vec![1, 10368, 3]));
    // [8,1296,3] is silently ignored.
    let d = asset(&root, "shape", "shape.mp4", 8);
    npy_i32(
        &d.join("positions_thw.npy"),
        &[8, 1296, 3],
        &vec![0; 8 * 1296 * 3],
    );
    let p = eval(&root, "shape.mp4", 8).positions.unwrap();
    assert!(!p.used);
    assert!(codes(&asset_folder_findings(&d, 8)).contains(&"positions-shape-ignored"));
    // Garbage: load error, ignored.
    let d = asset(&root, "garbage", "garbage.mp4", 8);
    std::fs::write(d.join("positions_thw.npy"), b"not numpy").unwrap();
    assert!(!eval(&root, "garbage.mp4", 8).positions.unwrap().used);
    assert!(codes(&asset_folder_findings(&d, 8)).contains(&"positions-unreadable"));
    // Missing: uniform positions.
    let d = asset(&root, "nopos", "nopos.mp4", 8);
    std::fs::remove_file(d.join("positions_thw.npy")).unwrap();
    let r = eval(&root, "nopos.mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert!(r.positions.is_none());
    assert!(codes(&asset_folder_findings(&d, 8)).contains(&"positions-missing"));
    // Fallback: alphabetically first *position*.npy.
    let d = asset(&root, "fallback", "fallback.mp4", 8);
    std::fs::rename(d.join("positions_thw.npy"), d.join("z_position_b.npy")).unwrap();
    positions(&d.join("a_position_a.npy"), 8);
    assert!(eval(&root, "fallback.mp4", 8)
        .positions
        .unwrap()
        .path
        .ends_with("/a_position_a.npy"));
    // Length not images x 1296.
    let d = asset(&root, "short", "short.mp4", 8);
    positions(&d.join("positions_thw.npy"), 7);
    let f = asset_folder_findings(&d, 8);
    assert!(codes(&f).contains(&"positions-length"), "{f:?}");
    let rep = run_doctor(
        &cfg(&root),
        &[vi("short.mp4"), vi("shape.mp4")],
        None,
        false,
    );
    assert_eq!(
        rep.exit_code(false),
        0,
        "findings inside a HIT folder keep exit 0"
    );
}

// ---------------------------------------------------------------------------------------------
// Metas and config
// ---------------------------------------------------------------------------------------------

#[test]
fn config_drift_and_expect() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    asset(&root, "a", "a.mp4", 8);
    asset(&root, "b", "b.mp4", 8);
    let c = asset(&root, "c", "c.mp4", 8);
    meta(
        &c,
        "c.mp4",
        "c",
        &CFG.replace("\"seq_len_frames\": 64", "\"seq_len_frames\": 32"),
    );
    let f = asset_root_findings(&root, 8);
    let drift = f.iter().find(|f| f.code == "config-drift").unwrap();
    assert!(
        drift.message.contains("seq_len_frames") && drift.message.contains(&s(&c)),
        "{}",
        drift.message
    );
    let mut conf = cfg(&root);
    conf.expect =
        codecscope::diagnose::asset_root::parse_expect("seq_len_frames=64,num_images=8").unwrap();
    let rep = run_doctor(&conf, &[vi("a.mp4"), vi("c.mp4")], None, false);
    assert!(!codes(&rep.videos[0].findings).contains(&"config-mismatch"));
    assert!(codes(&rep.videos[1].findings).contains(&"config-mismatch"));
    assert!(codes(&rep.root_findings).contains(&"config-mismatch"));
    assert_eq!(rep.exit_code(false), 0);
    assert_eq!(
        rep.exit_code(true),
        1,
        "--strict fails on warnings and errors"
    );
}

#[test]
fn unreadable_and_non_object_metas() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    let a = asset(&root.join("deep"), "ka", "videos/alpha.mp4", 8);
    // Unreadable meta: skipped, that folder is not indexed.
    let b = asset(&root.join("deep"), "kb", "videos/beta.mp4", 8);
    std::fs::write(b.join("meta.json"), "{broken").unwrap();
    let idx = AssetIndex::build(&s(&root));
    assert_eq!(
        lookup(&idx, &root, "videos/alpha.mp4", 8).chosen.as_deref(),
        Some(s(&a).as_str())
    );
    assert_eq!(
        lookup(&idx, &root, "videos/beta.mp4", 8).reason,
        Some("not-found")
    );
    assert!(codes(&asset_root_findings(&root, 8)).contains(&"meta-unreadable"));
    // NaN is valid for Python's json.
    meta(&b, "videos/beta.mp4", "kb", r#"{"mv_pct": NaN}"#);
    let idx = AssetIndex::build(&s(&root));
    assert_eq!(
        lookup(&idx, &root, "videos/beta.mp4", 8).status,
        LookupStatus::Hit
    );
    // A meta that is a JSON list makes evaluation's whole index build raise.
    let c = root.join("deep/kc");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join("meta.json"), "[1, 2]").unwrap();
    let idx = AssetIndex::build(&s(&root));
    assert!(!idx.usable());
    let r = lookup(&idx, &root, "videos/alpha.mp4", 8);
    assert_eq!(r.status, LookupStatus::Miss);
    assert_eq!(r.reason, Some("index-unusable"));
    assert!(codes(&asset_root_findings(&root, 8)).contains(&"meta-not-object"));
}

// ---------------------------------------------------------------------------------------------
// Paths are data
// ---------------------------------------------------------------------------------------------

#[test]
fn stems_never_leave_the_root() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("in/assets");
    std::fs::create_dir_all(&root).unwrap();
    // Images in the root's parent: evaluation would look there for a stem of "..".
    for i in 0..8 {
        std::fs::write(
            t.path().join("in").join(format!("mosaic_{i:03}.jpg")),
            jpeg(),
        )
        .unwrap();
    }
    let r = eval(&root, "videos/..", 8);
    assert_eq!(r.stem, "..");
    assert_eq!(r.status, LookupStatus::Miss);
    assert_eq!(r.reason, Some("stem-outside-root"));
    assert!(r.images.is_empty());
    // A key with a path separator in the JSONL is never joined onto the root.
    let rep = run_doctor(
        &cfg(&root),
        &[VideoInput {
            video: "v.mp4".into(),
            key: Some("../../etc".into()),
        }],
        None,
        false,
    );
    assert!(rep.videos[0].suggestions.is_empty());
}

#[test]
fn glob_characters_in_a_stem_are_patterns() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    // root/clip[1] exists, but glob reads "clip[1]" as "clip1": the images come from clip1.
    let lit = asset(&root, "clip[1]", "clip[1].mp4", 8);
    let other = asset(&root, "clip1", "clip1.mp4", 2);
    let r = eval(&root, "clip[1].mp4", 8);
    assert_eq!(r.status, LookupStatus::Hit);
    assert_eq!(r.chosen.as_deref(), Some(s(&lit).as_str()));
    assert!(
        r.images.iter().all(|p| p.starts_with(&s(&other))),
        "{:?}",
        r.images
    );
    assert_eq!(names(&r.images), mosaics(2));
    // Without a look-alike folder, glob finds nothing.
    std::fs::remove_dir_all(&other).unwrap();
    let r = eval(&root, "clip[1].mp4", 8);
    assert_eq!(r.status, LookupStatus::Miss);
    assert_eq!(r.reason, Some("glob-magic"));
}

#[test]
fn offline_off_looks_nothing_up() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    asset(&root, "a", "a.mp4", 8);
    let mut c = cfg(&root);
    c.use_offline = false;
    let rep = run_doctor(&c, &[vi("a.mp4")], None, false);
    assert_eq!(rep.videos[0].lookup.status, LookupStatus::Off);
    assert_eq!(rep.videos[0].lookup.reason, Some("offline-disabled"));
    assert_eq!(rep.exit_code(false), 1);
}

#[test]
fn index_is_built_once_and_reused() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("assets");
    for i in 0..50 {
        asset(
            &root.join("nested"),
            &format!("k{i}"),
            &format!("videos/v{i}.mp4"),
            1,
        );
    }
    let idx = AssetIndex::build(&s(&root));
    assert_eq!(idx.metas.len(), 50);
    assert_eq!(idx.eval_entries(), 100);
    for i in 0..50 {
        let r = lookup(&idx, &root, &format!("x/v{i}.mp4"), 1);
        assert_eq!(r.status, LookupStatus::Hit);
        assert_eq!(
            r.chosen.as_deref(),
            Some(s(&root.join(format!("nested/k{i}"))).as_str())
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Every trap root in one folder, with doctor's verdicts, for comparison with evaluation's own
// code: `DOCTOR_TRAP_DIR=/some/dir cargo test --test doctor_lookup -- --ignored dump_trap_roots`
// ---------------------------------------------------------------------------------------------

#[test]
#[ignore]
fn dump_trap_roots() {
    let Ok(base) = std::env::var("DOCTOR_TRAP_DIR") else {
        eprintln!("NOTICE: set DOCTOR_TRAP_DIR to dump the trap roots");
        return;
    };
    let base = PathBuf::from(base);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let mut cases: Vec<(String, String, usize)> = Vec::new();
    fn add(cases: &mut Vec<(String, String, usize)>, root: &Path, videos: &[&str], n: usize) {
        for v in videos {
            cases.push((s(root), v.to_string(), n));
        }
    }
    // Healthy, out_root.
    if let Some(out) = fixture_root(&base.join("fixture")) {
        add(
            &mut cases,
            &out.join("assets"),
            &[FIXTURE_VIDEO, "videos/YTB_XwB-dkS5BVM.mp4"],
            8,
        );
        add(&mut cases, &out, &[FIXTURE_VIDEO], 8);
    }
    // Flat root with a keyed folder below.
    let flat = base.join("flat/assets");
    std::fs::create_dir_all(&flat).unwrap();
    for i in 0..8 {
        std::fs::write(flat.join(format!("mosaic_{i:03}.jpg")), jpeg()).unwrap();
    }
    meta(&flat, "one.mp4", "", CFG);
    asset(&flat.join("sub"), "two", "two.mp4", 8);
    add(&mut cases, &flat, &["one.mp4", "two.mp4", "x.mp4"], 8);
    // Duplicates under an out_root.
    let dup = base.join("dup/out");
    asset(&dup.join("assets"), "k1", "videos/dup.mp4", 8);
    asset(&dup.join("assets_old"), "k1", "videos/dup.mp4", 3);
    asset(&dup.join("assets_old"), "k2", "videos/other.mp4", 2);
    add(
        &mut cases,
        &dup,
        &["videos/dup.mp4", "k1.mp4", "k2", "videos/other.mp4"],
        8,
    );
    // Images, sorting, failures, counts, folders.
    let r = base.join("misc/assets");
    let d = asset(&r, "clip", "clip.mp4", 8);
    std::fs::write(d.join("0_preview.png"), png()).unwrap();
    std::fs::write(d.join("mosaic_000.tmp.jpg"), jpeg()).unwrap();
    let d = r.join("sorts");
    std::fs::create_dir_all(&d).unwrap();
    for n in [
        "img10.jpg",
        "img2.jpg",
        "img1.webp",
        "IMG0.JPG",
        ".img0.jpg",
        "pack3.jpeg",
        "grid_1.png",
        "a1.jpg",
        "a!.jpg",
        "m_01.jpg",
        "m_1.jpg",
    ] {
        std::fs::write(d.join(n), if n.ends_with(".png") { png() } else { jpeg() }).unwrap();
    }
    let d = r.join("upper");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("MOSAIC_000.JPG"), jpeg()).unwrap();
    std::fs::write(d.join(".mosaic_001.jpg"), jpeg()).unwrap();
    let j = jpeg();
    let d = asset(&r, "trunc", "trunc.mp4", 8);
    std::fs::write(d.join("mosaic_003.jpg"), &j[..j.len() / 2]).unwrap();
    let d = asset(&r, "noeoi", "noeoi.mp4", 8);
    std::fs::write(d.join("mosaic_000.jpg"), &j[..j.len() - 2]).unwrap();
    let d = asset(&r, "text", "text.mp4", 8);
    std::fs::write(d.join("mosaic_007.jpg"), b"<html>").unwrap();
    let d = asset(&r, "trail", "trail.mp4", 8);
    let mut tj = j.to_vec();
    tj.extend_from_slice(b"trailing");
    std::fs::write(d.join("mosaic_000.jpg"), tj).unwrap();
    let d = r.join("fall");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("mosaic_000.jpg"), b"junk").unwrap();
    asset(&r.join("good"), "kfall", "fall.mp4", 8);
    asset(&r, "few", "few.mp4", 3);
    let d = r.join("bad");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("error.json"), r#"{"error": "x"}"#).unwrap();
    let d = r.join("killed");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("mosaic_000.jpg"), jpeg()).unwrap();
    std::fs::create_dir_all(r.join("empty")).unwrap();
    let d = asset(&r, "order", "order.mp4", 8);
    positions(&d.join("positions.npy"), 8);
    let d = asset(&r, "batched", "batched.mp4", 8);
    npy_i32(
        &d.join("positions_thw.npy"),
        &[1, 8 * 1296, 3],
        &vec![0; 8 * 1296 * 3],
    );
    let d = asset(&r, "shape", "shape.mp4", 8);
    npy_i32(
        &d.join("positions_thw.npy"),
        &[8, 1296, 3],
        &vec![0; 8 * 1296 * 3],
    );
    let d = asset(&r, "garbage", "garbage.mp4", 8);
    std::fs::write(d.join("positions_thw.npy"), b"not numpy").unwrap();
    let d = asset(&r, "nopos", "nopos.mp4", 8);
    std::fs::remove_file(d.join("positions_thw.npy")).unwrap();
    let d = asset(&r, "fallback", "fallback.mp4", 8);
    std::fs::rename(d.join("positions_thw.npy"), d.join("z_position_b.npy")).unwrap();
    positions(&d.join("a_position_a.npy"), 8);
    asset(&r, "clip[1]", "clip[1].mp4", 8);
    asset(&r, "clip1", "clip1.mp4", 2);
    asset(&r, "lone[2]", "lone[2].mp4", 8);
    add(
        &mut cases,
        &r,
        &[
            "clip.mp4",
            "sorts.mp4",
            "upper.mp4",
            "trunc.mp4",
            "noeoi.mp4",
            "text.mp4",
            "trail.mp4",
            "fall.mp4",
            "few.mp4",
            "bad.mp4",
            "killed.mp4",
            "empty.mp4",
            "order.mp4",
            "batched.mp4",
            "shape.mp4",
            "garbage.mp4",
            "nopos.mp4",
            "fallback.mp4",
            "clip[1].mp4",
            "lone[2].mp4",
            "nothing.mp4",
            "",
        ],
        8,
    );
    add(&mut cases, &r, &["sorts.mp4"], 0);
    add(&mut cases, &r, &["sorts.mp4"], 3);
    // Metas.
    let m = base.join("metas/assets");
    asset(&m.join("deep"), "ka", "videos/alpha.mp4", 8);
    let b = asset(&m.join("deep"), "kb", "videos/beta.mp4", 8);
    std::fs::write(b.join("meta.json"), "{broken").unwrap();
    let c = asset(&m.join("deep"), "kc", "videos/gamma.mp4", 8);
    meta(&c, "videos/gamma.mp4", "kc", r#"{"mv_pct": NaN}"#);
    let x = asset(&m.join("x"), "kx", "videos/other_x.mp4", 8);
    meta(&x, "videos/other_x.mp4", "shared", CFG);
    asset(&m.join("y"), "ky", "videos/shared.mp4", 8);
    let n = asset(&m.join("num"), "kn", "x", 8);
    std::fs::write(n.join("meta.json"), r#"{"video": 12345, "key": 6.0}"#).unwrap();
    add(
        &mut cases,
        &m,
        &[
            "videos/alpha.mp4",
            "videos/beta.mp4",
            "videos/gamma.mp4",
            "videos/shared.mp4",
            "12345.mp4",
            "6.0",
            "kx",
        ],
        8,
    );
    let crash = base.join("crash/assets");
    asset(&crash.join("deep"), "ka", "videos/alpha.mp4", 8);
    let c = crash.join("deep/kc");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join("meta.json"), "[1, 2]").unwrap();
    add(&mut cases, &crash, &["videos/alpha.mp4"], 8);
    // Walk details: a symlinked folder is listed but not entered; a meta.json that is a
    // folder is no file; a stem of ".." looks outside the root (doctor refuses on purpose).
    let w = base.join("walk/assets");
    let outside = asset(&base.join("walk/elsewhere"), "kl", "videos/linked.mp4", 8);
    std::fs::create_dir_all(&w).unwrap();
    std::os::unix::fs::symlink(&outside, w.join("link")).unwrap();
    let md = w.join("metadir");
    std::fs::create_dir_all(md.join("meta.json")).unwrap();
    std::fs::write(md.join("mosaic_000.jpg"), jpeg()).unwrap();
    for i in 0..2 {
        std::fs::write(base.join("walk").join(format!("mosaic_{i:03}.jpg")), jpeg()).unwrap();
    }
    // Positions of other dtypes and layouts.
    let raw = |path: &Path, descr: &str, fortran: bool, shape: &str, data: &[u8]| {
        let mut header = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        std::fs::write(path, b).unwrap();
    };
    let rows = 8 * 1296;
    let d = asset(&w, "f64", "f64.mp4", 8);
    raw(
        &d.join("positions_thw.npy"),
        "<f8",
        false,
        &format!("({rows}, 3)"),
        &vec![0u8; rows * 3 * 8],
    );
    let d = asset(&w, "be", "be.mp4", 8);
    raw(
        &d.join("positions_thw.npy"),
        ">i4",
        false,
        &format!("({rows}, 3)"),
        &vec![0u8; rows * 3 * 4],
    );
    let d = asset(&w, "fortran", "fortran.mp4", 8);
    raw(
        &d.join("positions_thw.npy"),
        "<i8",
        true,
        &format!("({rows}, 3)"),
        &vec![0u8; rows * 3 * 8],
    );
    let d = asset(&w, "short", "short.mp4", 8);
    raw(
        &d.join("positions_thw.npy"),
        "<i4",
        false,
        &format!("({rows}, 3)"),
        &[0u8; 100],
    );
    let d = asset(&w, "t1", "t1.mp4", 8);
    raw(
        &d.join("positions_thw.npy"),
        "<i4",
        false,
        "(3,)",
        &[0u8; 12],
    );
    add(
        &mut cases,
        &w,
        &[
            "videos/linked.mp4",
            "link.mp4",
            "metadir.mp4",
            "f64.mp4",
            "be.mp4",
            "fortran.mp4",
            "short.mp4",
            "t1.mp4",
        ],
        8,
    );
    cases.push((s(&w), "videos/..".into(), 8));
    // Roots that are no directory.
    let a = base.join("roots/X/assets");
    asset(&a, "clip", "clip.mp4", 8);
    let captured = format!("  [OK] Found: mvbench -> {}\n{}", s(&a), s(&a));
    cases.push((captured, "clip.mp4".into(), 8));
    cases.push((format!("{}:{}", s(&a), s(&a)), "clip.mp4".into(), 8));
    cases.push((s(&base.join("roots/missing")), "clip.mp4".into(), 8));
    cases.push((format!("{}/", s(&a)), "clip.mp4".into(), 8));

    let mut lines = String::new();
    for (root, video, n) in &cases {
        let idx = AssetIndex::build(root);
        let r = codecscope::diagnose::eval_lookup::lookup_with(
            &idx,
            root,
            video,
            *n,
            codecscope::diagnose::eval_lookup::LookupOptions::default(),
        );
        let (pos_path, pos_shape) = match &r.positions {
            Some(p) => (Some(p.path.clone()), p.eval_shape.clone()),
            None => (None, None),
        };
        lines.push_str(
            &serde_json::json!({
                "root": root, "video": video, "n": n,
                "status": r.status, "reason": r.reason, "chosen": r.chosen,
                "images": r.images, "positions": pos_path, "pos_shape": pos_shape,
                "entries": idx.eval_entries(),
            })
            .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(base.join("verdicts.jsonl"), lines).unwrap();
    eprintln!(
        "wrote {} cases to {}",
        cases.len(),
        base.join("verdicts.jsonl").display()
    );
}
