//! The exact residual (`--residual exact`) against upstream's own outputs: stage 1's rows,
//! the residual luma stage 1 scores, the offline precompute, the fallback to the emulator
//! and damaged files.

mod common;

use std::path::Path;

use codecscope::analysis::{ResidualPlane, ResidualSource};
use codecscope::formats::{meta, npy};
use codecscope::video::{analyze, analyze_offline, AnalyzeOptions, OfflineOptions, VideoError};

fn exact() -> AnalyzeOptions {
    AnalyzeOptions {
        residual: ResidualSource::Exact,
        ..Default::default()
    }
}

/// (a) stage 1 with the exact residual reproduces upstream's selection.
#[test]
fn select_exact_reproduces_upstream_stage1() {
    let Some(fx) = common::fixtures() else { return };
    let demo = fx.join("upstream-demo");
    let out = tempfile::tempdir().unwrap();
    let root = out.path().join("s1");
    let (code, _, err) = common::run_in(
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
            "exact",
            "-q",
        ],
    );
    assert_eq!(code, 1, "the record without its video fails: {err}");
    let theirs = demo.join("stage1");
    let ours_meta = meta::read_stage1_meta(&common::file_ending(&root, ".meta.json")).unwrap();
    let mut theirs_meta =
        meta::read_stage1_meta(&common::file_ending(&theirs, ".meta.json")).unwrap();
    let cs = ours_meta.codecscope.clone().unwrap();
    assert_eq!(cs["residual_source"], "exact", "{cs}");
    theirs_meta.codecscope = ours_meta.codecscope.clone();
    assert_eq!(ours_meta, theirs_meta);
    assert_eq!(
        npy::read_frame_ids(&common::file_ending(&root, ".frame_ids.npy")).unwrap(),
        npy::read_frame_ids(&common::file_ending(&theirs, ".frame_ids.npy")).unwrap()
    );
    let a = npy::read_rows(&common::file_ending(&root, ".visidx_thw.npy")).unwrap();
    let b = npy::read_rows(&common::file_ending(&theirs, ".visidx_thw.npy")).unwrap();
    assert_eq!(a.len(), b.len());
    let sa: std::collections::HashSet<_> = a.iter().copied().collect();
    let sb: std::collections::HashSet<_> = b.iter().copied().collect();
    let recall = sa.intersection(&sb).count() as f64 / sb.len() as f64;
    assert_eq!(recall, 1.0, "recall {recall}");
    // The scores are upstream's exactly, so even the order (torch's top-k) agrees.
    assert_eq!(a, b, "same rows, same order");
}

/// (b) the luma stage 1 scores equals upstream's for all 64 sampled frames.
#[test]
fn exact_stage1_luma_equals_upstream() {
    let Some(fx) = common::fixtures() else { return };
    let video = fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    let truth: ndarray::Array3<u8> =
        ndarray_npy::read_npy(fx.join("upstream-residual/residual_y.npy")).unwrap();
    assert_eq!(truth.shape(), &[64, 640, 360]);
    let ids = npy::read_frame_ids(&fx.join("upstream-residual/frame_ids.npy")).unwrap();
    let a = analyze(video.to_str().unwrap(), &exact()).unwrap();
    assert_eq!(a.residual_source, ResidualSource::Exact, "{:?}", a.notes);
    assert_eq!(a.frame_ids, ids);
    let mut equal = 0;
    for (t, f) in a.frames.iter().enumerate() {
        let Some(ResidualPlane::Patched(p)) = &f.residual else {
            panic!("frame {t}: no patched plane")
        };
        assert_eq!((p.width, p.height), (360, 640));
        let want = truth.index_axis(ndarray::Axis(0), t);
        if want.iter().copied().eq(p.data.iter().copied()) {
            equal += 1;
        } else {
            let diff = want.iter().zip(&p.data).filter(|(x, y)| *x != *y).count();
            eprintln!("frame t={t} (#{}): {diff} pixels differ", f.frame_index);
        }
    }
    assert_eq!(equal, 64, "frames equal to upstream's residual luma");
}

/// (c) the offline precompute with the exact residual reproduces upstream's assets.
#[test]
fn precompute_exact_reproduces_upstream_assets() {
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
            "--residual",
            "exact",
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let ours = out.path().join("assets/ytb_XwB-dkS5BVM");
    let theirs = fx.join("upstream-precompute/assets/ytb_XwB-dkS5BVM");
    assert_eq!(
        npy::read_rows(&ours.join("positions_thw.npy")).unwrap(),
        npy::read_rows(&theirs.join("positions_thw.npy")).unwrap()
    );
    let vi = |d: &Path| -> Vec<i64> {
        ndarray_npy::read_npy::<_, ndarray::Array1<i64>>(d.join("visible_indices.npy"))
            .unwrap()
            .to_vec()
    };
    assert_eq!(vi(&ours), vi(&theirs));
    assert_eq!(
        npy::read_frame_ids(&ours.join("frame_ids.npy")).unwrap(),
        npy::read_frame_ids(&theirs.join("frame_ids.npy")).unwrap()
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ours.join("meta.json")).unwrap()).unwrap();
    assert_eq!(m["codecscope"]["residual_source"], "exact");
    // Mosaics: the pixels come from the same frames and patches; the JPEG encoders differ.
    for i in 0..8 {
        let name = format!("mosaic_{i:03}.jpg");
        let a = image::open(ours.join(&name)).unwrap().to_rgb8();
        let b = image::open(theirs.join(&name)).unwrap().to_rgb8();
        let p = common::psnr(a.as_raw(), b.as_raw());
        eprintln!("{name}: PSNR {p:.2} dB");
        assert!(p >= 40.0, "{name}: PSNR {p:.2} dB");
    }
}

/// Frame numbering of the project's decoder agrees with FFmpeg's on the coding-tool clips
/// (a disagreement would fall back to the emulator).
#[test]
fn coding_tool_clips_take_the_exact_path() {
    let Some(fx) = common::fixtures() else { return };
    let dir = fx.join("upstream-residual-decode");
    for name in [
        "cavlc_baseline",
        "cabac_high_bpyramid_weighted",
        "slices_cqm_temporal_odd",
    ] {
        let clip = dir.join(format!("clips/{name}.mp4"));
        let md5 =
            std::fs::read_to_string(dir.join(format!("md5/{name}.upstream_residual.txt"))).unwrap();
        let types: Vec<&str> = md5
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.rsplit(',').next().unwrap().trim())
            .collect();
        let a = analyze(clip.to_str().unwrap(), &exact()).unwrap();
        assert_eq!(
            a.residual_source,
            ResidualSource::Exact,
            "{name}: {:?}",
            a.notes
        );
        assert_eq!(a.frame_count, types.len(), "{name}");
        for f in &a.frames {
            assert_eq!(
                f.frame_type.as_char().to_string(),
                types[f.frame_index],
                "{name} frame {}",
                f.frame_index
            );
            assert!(matches!(f.residual, Some(ResidualPlane::Patched(_))));
        }
        let o = analyze_offline(
            clip.to_str().unwrap(),
            &OfflineOptions {
                residual: ResidualSource::Exact,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(o.analysis.residual_source, ResidualSource::Exact, "{name}");
    }
}

/// (d) an interlaced stream falls back to the emulator with the reason, not an error.
#[test]
fn interlaced_clip_falls_back_to_the_emulator() {
    let Some(fx) = common::fixtures() else { return };
    let clip = fx.join("upstream-residual-decode/clips/interlaced_mbaff.mp4");
    let a = analyze(clip.to_str().unwrap(), &exact()).unwrap();
    assert_eq!(a.residual_source, ResidualSource::Emulate);
    assert!(
        a.notes[0].starts_with("no exact residual for this stream: ")
            && a.notes[0].contains("interlaced")
            && a.notes[0].ends_with("; using the emulator"),
        "{:?}",
        a.notes
    );
    assert!(a.frames.iter().all(|f| f.residual.is_some()));
    let o = analyze_offline(
        clip.to_str().unwrap(),
        &OfflineOptions {
            residual: ResidualSource::Exact,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(o.analysis.residual_source, ResidualSource::Emulate);
    assert!(o.analysis.notes[0].contains("interlaced"));

    // The CLI records the source actually used in the meta.
    let out = tempfile::tempdir().unwrap();
    let ds = out.path().join("ds.jsonl");
    std::fs::write(
        &ds,
        format!(
            "{{\"id\": \"i\", \"video\": \"{}\", \"conversations\": []}}\n",
            clip.display()
        ),
    )
    .unwrap();
    let root = out.path().join("s1");
    let (code, _, err) = common::run_in(
        out.path(),
        &[
            "select",
            ds.to_str().unwrap(),
            "--out-root",
            root.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let m = meta::read_stage1_meta(&common::file_ending(&root, ".meta.json")).unwrap();
    let cs = m.codecscope.unwrap();
    assert_eq!(cs["residual_source"], "emulate");
    assert!(
        cs["notes"][0].as_str().unwrap().contains("interlaced"),
        "{cs}"
    );
}

/// (e) damaged files give errors, never a panic.
#[test]
fn damaged_files_are_errors_with_exact() {
    let Some(fx) = common::fixtures() else { return };
    let video = fx.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        analyze(empty.to_str().unwrap(), &exact()),
        Err(VideoError::EmptyFile { .. })
    ));
    let text = dir.path().join("text.mp4");
    std::fs::write(&text, "not a video at all\n".repeat(40)).unwrap();
    assert!(matches!(
        analyze(text.to_str().unwrap(), &exact()),
        Err(VideoError::NotAVideo { .. })
    ));
    let bytes = std::fs::read(&video).unwrap();
    let mut lines = String::new();
    for (k, frac) in [0.1, 0.5, 0.9].iter().enumerate() {
        let cut = dir.path().join(format!("cut{k}.mp4"));
        std::fs::write(&cut, &bytes[..(bytes.len() as f64 * frac) as usize]).unwrap();
        match analyze(cut.to_str().unwrap(), &exact()) {
            Ok(a) => assert!(
                a.notes.iter().any(|n| n.contains("truncated")),
                "{frac}: {:?}",
                a.notes
            ),
            Err(e) => assert!(
                matches!(e, VideoError::NotAVideo { .. } | VideoError::Corrupt { .. }),
                "{e}"
            ),
        }
        lines.push_str(&format!(
            "{{\"id\": \"c{k}\", \"video\": \"{}\"}}\n",
            cut.display()
        ));
    }
    for (id, p) in [("e", &empty), ("t", &text)] {
        lines.push_str(&format!(
            "{{\"id\": \"{id}\", \"video\": \"{}\"}}\n",
            p.display()
        ));
    }
    let ds = dir.path().join("ds.jsonl");
    std::fs::write(&ds, lines).unwrap();
    let root = dir.path().join("s1");
    let (code, _, err) = common::run_in(
        dir.path(),
        &[
            "select",
            ds.to_str().unwrap(),
            "--out-root",
            root.to_str().unwrap(),
            "--residual",
            "exact",
            "-q",
        ],
    );
    assert_eq!(code, 1, "failures, not a crash: {err}");
    let log = std::fs::read_to_string(root.join("stage1_failed.shard00of01.txt")).unwrap();
    assert!(log.contains("e\t") && log.contains("t\t"), "{log}");
    assert!(!err.contains("panicked"), "{err}");
}
