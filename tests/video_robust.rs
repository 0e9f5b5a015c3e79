//! Awkward inputs: a clear error or a correct answer, never a panic. Videos are generated
//! with the ffmpeg CLI into a temporary directory.

mod video_support;
use video_support as common;

use codecscope::analysis::{ResidualPlane, ResidualSource};
use codecscope::video::{
    analyze, analyze_with, probe, read_frames_rgb, AnalyzeOptions, VideoError,
};

fn all_sources() -> [ResidualSource; 3] {
    [
        ResidualSource::None,
        ResidualSource::FrameDiff,
        ResidualSource::Emulate,
    ]
}

fn opts(residual: ResidualSource) -> AnalyzeOptions {
    AnalyzeOptions {
        residual,
        ..AnalyzeOptions::default()
    }
}

/// Frame count by the ffmpeg CLI's own decode.
fn ffmpeg_frame_count(path: &std::path::Path) -> usize {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    s.split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(',')
        .parse()
        .unwrap()
}

#[test]
fn missing_empty_and_text_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.mp4");
    assert!(matches!(
        analyze(missing.to_str().unwrap(), &opts(ResidualSource::None)),
        Err(VideoError::Io { .. })
    ));
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let e = analyze(empty.to_str().unwrap(), &opts(ResidualSource::None)).unwrap_err();
    assert!(matches!(e, VideoError::EmptyFile { .. }), "{e}");
    assert!(e.to_string().contains("empty.mp4"));
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "this is not a video\n".repeat(50)).unwrap();
    let e = probe(text.to_str().unwrap()).unwrap_err();
    assert!(matches!(e, VideoError::NotAVideo { .. }), "{e}");
    let e = analyze(text.to_str().unwrap(), &opts(ResidualSource::Emulate)).unwrap_err();
    assert!(matches!(e, VideoError::NotAVideo { .. }), "{e}");
    assert!(read_frames_rgb(text.to_str().unwrap(), &[0]).is_err());
    assert!(matches!(
        analyze(text.to_str().unwrap(), &opts(ResidualSource::Exact)),
        Err(VideoError::ExactUnavailable)
    ));
}

#[test]
fn audio_only_and_other_codecs() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let audio = common::ffmpeg(
        dir.path(),
        "a.m4a",
        &["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"],
    );
    let e = analyze(audio.to_str().unwrap(), &opts(ResidualSource::None)).unwrap_err();
    assert!(matches!(e, VideoError::NoVideoStream { .. }), "{e}");
    let mpeg4 = common::ffmpeg(
        dir.path(),
        "m.avi",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x96:rate=25",
            "-frames:v",
            "10",
            "-c:v",
            "mpeg4",
        ],
    );
    let info = probe(mpeg4.to_str().unwrap()).unwrap();
    assert_eq!(info.codec, "mpeg4");
    let e = analyze(mpeg4.to_str().unwrap(), &opts(ResidualSource::None)).unwrap_err();
    assert!(e.is_unsupported_codec(), "{e}");
    // RGB reading works for any codec FFmpeg decodes.
    let rgb = read_frames_rgb(mpeg4.to_str().unwrap(), &[0, 9, 50]).unwrap();
    assert_eq!(rgb.len(), 3);
    assert_eq!(
        (rgb[0].width, rgb[0].height, rgb[0].data.len()),
        (160, 96, 160 * 96 * 3)
    );
    assert_eq!(rgb[2], rgb[1], "ids past the end take the last frame");
}

#[test]
fn short_tiny_and_odd_sizes() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 4:2:0 H.264 has even sides; 33x17 needs 4:4:4 (converted to 4:2:0 for the residual).
    let cases: [(&str, &str, u32, &str); 5] = [
        ("short.mp4", "320x180", 20, "yuv420p"),
        ("tiny.mp4", "32x18", 70, "yuv420p"),
        ("odd.mp4", "200x120", 70, "yuv420p"),
        ("odd2.mp4", "34x18", 30, "yuv420p"),
        ("odd444.mp4", "33x17", 30, "yuv444p"),
    ];
    for (name, size, frames, pix) in cases {
        let scale = format!("scale={}", size.replace('x', ":"));
        let v = common::x264_clip(
            dir.path(),
            name,
            "64x36",
            frames,
            &["-bf", "2", "-vf", &scale, "-pix_fmt", pix],
        );
        let n = ffmpeg_frame_count(&v);
        let (w, h): (usize, usize) = {
            let mut it = size.split('x').map(|s| s.parse().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        };
        for src in all_sources() {
            for skip in [true, false] {
                let o = AnalyzeOptions {
                    residual: src,
                    skip_unneeded: skip,
                    with_rgb: true,
                    ..AnalyzeOptions::default()
                };
                let a = analyze_with(v.to_str().unwrap(), &o, &mut |_| true).unwrap();
                let an = &a.analysis;
                assert_eq!(an.frame_count, n, "{name} {src:?}");
                assert_eq!(
                    an.frame_ids,
                    codecscope::analysis::sample_frame_ids(n, 64, 0)
                );
                assert_eq!(an.frames.len(), 64);
                assert_eq!(a.rgb.len(), 64);
                assert_eq!((an.width, an.height), (w, h));
                for f in &an.frames {
                    assert_eq!((f.motion.rows, f.motion.cols), (h / 4, w / 4));
                    match (&f.residual, src) {
                        (None, ResidualSource::None) => {}
                        (Some(ResidualPlane::Patched(p)), ResidualSource::Emulate)
                        | (Some(ResidualPlane::Magnitude(p)), ResidualSource::FrameDiff) => {
                            assert_eq!((p.width, p.height, p.data.len()), (w, h, w * h))
                        }
                        other => panic!(
                            "{name}: unexpected residual {:?} for {src:?}",
                            other.0.is_some()
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn truncated_mp4_reports_or_fails_cleanly() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // moov in front, so a cut file still opens and the cut shows as a demuxer error.
    let v = common::x264_clip(
        dir.path(),
        "full.mp4",
        "320x180",
        120,
        &["-bf", "2", "-movflags", "+faststart"],
    );
    let bytes = std::fs::read(&v).unwrap();
    for frac in [0.3, 0.6, 0.95] {
        let cut = dir.path().join(format!("cut{frac}.mp4"));
        std::fs::write(&cut, &bytes[..(bytes.len() as f64 * frac) as usize]).unwrap();
        for src in all_sources() {
            match analyze(cut.to_str().unwrap(), &opts(src)) {
                Ok(a) => {
                    assert!(a.frame_count < 120, "{frac}: {}", a.frame_count);
                    assert!(a.frame_count > 0);
                    assert!(
                        a.notes.iter().any(|n| n.contains("truncated")),
                        "{frac}: notes {:?}",
                        a.notes
                    );
                }
                Err(e) => assert!(
                    matches!(e, VideoError::Corrupt { .. } | VideoError::NotAVideo { .. }),
                    "{e}"
                ),
            }
        }
    }
    // moov at the end: a cut file has no index at all.
    let v2 = common::x264_clip(dir.path(), "tail.mp4", "320x180", 60, &[]);
    let bytes = std::fs::read(&v2).unwrap();
    let cut = dir.path().join("tailcut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = analyze(cut.to_str().unwrap(), &opts(ResidualSource::Emulate)).unwrap_err();
    assert!(
        matches!(e, VideoError::NotAVideo { .. } | VideoError::Corrupt { .. }),
        "{e}"
    );
}

#[test]
fn transport_stream_and_open_gop_match_full_decode() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ts = common::x264_clip(
        dir.path(),
        "a.ts",
        "256x144",
        150,
        &["-bf", "3", "-g", "40"],
    );
    let pyr = common::x264_clip(
        dir.path(),
        "pyr.mp4",
        "256x144",
        150,
        &[
            "-bf",
            "3",
            "-x264-params",
            "b-pyramid=normal:open-gop=1:keyint=50",
        ],
    );
    for v in [ts, pyr] {
        let n = ffmpeg_frame_count(&v);
        let fast = analyze(v.to_str().unwrap(), &opts(ResidualSource::Emulate)).unwrap();
        let full = analyze(
            v.to_str().unwrap(),
            &AnalyzeOptions {
                residual: ResidualSource::Emulate,
                skip_unneeded: false,
                ..AnalyzeOptions::default()
            },
        )
        .unwrap();
        assert_eq!(fast.frame_count, n);
        assert_eq!(full.frame_count, n);
        assert_eq!(fast.frame_ids, full.frame_ids);
        for (a, b) in fast.frames.iter().zip(&full.frames) {
            assert_eq!(
                a.motion,
                b.motion,
                "{}: frame {}",
                v.display(),
                a.frame_index
            );
            assert_eq!(a.frame_type, b.frame_type);
            assert_eq!(
                a.residual,
                b.residual,
                "{}: frame {}",
                v.display(),
                a.frame_index
            );
        }
    }
}

#[test]
fn hevc_decodes_with_a_note() {
    if !common::have_ffmpeg() || !common::have_encoder("libx265") {
        eprintln!("SKIPPED: libx265 not available");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = common::ffmpeg(
        dir.path(),
        "h.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=192x108:rate=25",
            "-frames:v",
            "40",
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
        ],
    );
    let a = analyze(v.to_str().unwrap(), &opts(ResidualSource::Emulate)).unwrap();
    assert_eq!(a.codec, "hevc");
    assert_eq!(a.frame_count, 40);
    assert!(a.notes.iter().any(|n| n.contains("HEVC")), "{:?}", a.notes);
    assert!(a.frames.iter().all(|f| f.residual.is_some()));
}

#[test]
fn progress_reports_and_cancels() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = common::x264_clip(dir.path(), "p.mp4", "160x96", 100, &[]);
    let mut seen = 0;
    let mut last = (0, 0);
    analyze_with(v.to_str().unwrap(), &opts(ResidualSource::None), &mut |p| {
        seen += 1;
        last = (p.done, p.total);
        true
    })
    .unwrap();
    assert!(seen > 0);
    assert_eq!(last, (100, 100));
    let mut calls = 0;
    let e = analyze_with(
        v.to_str().unwrap(),
        &opts(ResidualSource::Emulate),
        &mut |p| {
            calls += 1;
            !matches!(p.stage, codecscope::video::Stage::Decode { .. }) || p.done < 10
        },
    )
    .unwrap_err();
    assert!(matches!(e, VideoError::Cancelled { .. }), "{e}");
}

#[test]
fn rgb_frames_match_the_same_pass() {
    let Some(video) = common::fixture(common::FIXTURE_VIDEO) else {
        return;
    };
    let path = video.to_str().unwrap();
    let o = AnalyzeOptions {
        residual: ResidualSource::None,
        with_rgb: true,
        ..AnalyzeOptions::default()
    };
    let a = analyze_with(path, &o, &mut |_| true).unwrap();
    let ids: Vec<i64> = a.analysis.frame_ids.iter().map(|&i| i as i64).collect();
    let rgb = read_frames_rgb(path, &ids).unwrap();
    assert_eq!(rgb.len(), 64);
    assert!(
        rgb == a.rgb,
        "RGB from analyze and from read_frames_rgb differ"
    );
    assert_eq!((rgb[0].width, rgb[0].height), (360, 640));
}

#[test]
fn sparse_sampling_drops_whole_gops_with_the_same_answer() {
    if !common::have_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v = common::x264_clip(
        dir.path(),
        "long.mp4",
        "192x108",
        600,
        &[
            "-bf",
            "2",
            "-x264-params",
            "keyint=30:min-keyint=30:scenecut=0",
        ],
    );
    let path = v.to_str().unwrap();
    for src in [ResidualSource::Emulate, ResidualSource::FrameDiff] {
        let base = AnalyzeOptions {
            sequence_length: 8,
            residual: src,
            with_rgb: true,
            ..AnalyzeOptions::default()
        };
        let fast = analyze_with(path, &base, &mut |_| true).unwrap();
        let full = analyze_with(
            path,
            &AnalyzeOptions {
                skip_unneeded: false,
                ..base.clone()
            },
            &mut |_| true,
        )
        .unwrap();
        assert_eq!(fast.analysis.frame_count, 600);
        assert_eq!(fast.analysis, full.analysis, "{src:?}");
        assert!(fast.rgb == full.rgb);
        assert!(
            fast.stats.frames_output < 300,
            "whole GOPs should be left out: {:?}",
            fast.stats
        );
    }
}
