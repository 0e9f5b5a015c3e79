//! Bit-exactness against the shared fixture lists (normal and residual).

mod common;

use common::*;
use h264::Mode;
use std::path::PathBuf;

fn fixture_dir() -> Option<PathBuf> {
    let Some(f) = shared_fixtures() else {
        eprintln!("SKIP: shared fixtures not found (set CODECSCOPE_SHARED)");
        return None;
    };
    if !have_ffmpeg() {
        eprintln!("SKIP: ffmpeg CLI not available");
        return None;
    }
    Some(f)
}

fn check(video: PathBuf, list_base: PathBuf, mode: Mode) {
    if !video.exists() {
        eprintln!("SKIP: {} not found", video.display());
        return;
    }
    let dir = temp_dir("fixture");
    let data = to_annexb(&video, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let pics = decode_all(&data, mode).expect("decode");
    let suffix = match mode {
        Mode::Normal => "stock",
        Mode::UpstreamResidual => "upstream_residual",
    };
    let list = PathBuf::from(format!("{}.{suffix}.txt", list_base.display()));
    let want = read_md5_list(&list);
    assert_eq!(pics.len(), want.len(), "frame count for {}", list.display());
    let mut bad = Vec::new();
    for (i, (p, (md5, t))) in pics.iter().zip(&want).enumerate() {
        if &p.md5() != md5 || p.pict_type != *t {
            bad.push(i);
        }
    }
    assert!(
        bad.is_empty(),
        "{}: {} of {} frames differ, first {:?}",
        list.display(),
        bad.len(),
        want.len(),
        &bad[..bad.len().min(10)]
    );
}

fn clip(name: &str, mode: Mode) {
    let Some(f) = fixture_dir() else { return };
    let d = f.join("upstream-residual-decode");
    check(
        d.join("clips").join(format!("{name}.mp4")),
        d.join("md5").join(name),
        mode,
    );
}

#[test]
fn cavlc_baseline_normal() {
    clip("cavlc_baseline", Mode::Normal);
}

#[test]
fn cavlc_baseline_residual() {
    clip("cavlc_baseline", Mode::UpstreamResidual);
}

#[test]
fn cabac_high_bpyramid_weighted_normal() {
    clip("cabac_high_bpyramid_weighted", Mode::Normal);
}

#[test]
fn cabac_high_bpyramid_weighted_residual() {
    clip("cabac_high_bpyramid_weighted", Mode::UpstreamResidual);
}

#[test]
fn slices_cqm_temporal_odd_normal() {
    clip("slices_cqm_temporal_odd", Mode::Normal);
}

#[test]
fn slices_cqm_temporal_odd_residual() {
    clip("slices_cqm_temporal_odd", Mode::UpstreamResidual);
}

fn demo_video(mode: Mode) {
    let Some(f) = fixture_dir() else { return };
    check(
        f.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4"),
        f.join("upstream-residual-decode/md5/ytb_XwB-dkS5BVM"),
        mode,
    );
}

#[test]
fn demo_video_normal() {
    demo_video(Mode::Normal);
}

#[test]
fn demo_video_residual() {
    demo_video(Mode::UpstreamResidual);
}

/// Non-reference pictures parsed but not reconstructed leave every other picture as a full
/// decode makes it (in residual mode the coded-block state they carry matters).
fn parse_only_non_reference(video: PathBuf, list_base: PathBuf) {
    if !video.exists() {
        eprintln!("SKIP: {} not found", video.display());
        return;
    }
    let dir = temp_dir("parse-only");
    let data = to_annexb(&video, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let mut dec = h264::Decoder::new(Mode::UpstreamResidual);
    dec.set_parse_only_non_reference(true);
    let pics = decode_all_with(&data, dec).expect("decode");
    let want = read_md5_list(&PathBuf::from(format!(
        "{}.upstream_residual.txt",
        list_base.display()
    )));
    assert_eq!(pics.len(), want.len());
    let mut skipped = 0;
    for (i, (p, (md5, t))) in pics.iter().zip(&want).enumerate() {
        assert_eq!(p.pict_type, *t, "frame {i} type");
        if p.reconstructed {
            assert_eq!(&p.md5(), md5, "frame {i}");
        } else {
            assert!(!p.is_reference && p.y.is_empty(), "frame {i}");
            skipped += 1;
        }
    }
    assert!(skipped > 0, "the clip has non-reference pictures");
}

#[test]
fn demo_video_residual_parse_only_non_reference() {
    let Some(f) = fixture_dir() else { return };
    parse_only_non_reference(
        f.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4"),
        f.join("upstream-residual-decode/md5/ytb_XwB-dkS5BVM"),
    );
}

#[test]
fn bpyramid_residual_parse_only_non_reference() {
    let Some(f) = fixture_dir() else { return };
    let d = f.join("upstream-residual-decode");
    parse_only_non_reference(
        d.join("clips/cabac_high_bpyramid_weighted.mp4"),
        d.join("md5/cabac_high_bpyramid_weighted"),
    );
}

#[test]
fn demo_video_residual_raw_frames() {
    let Some(f) = fixture_dir() else { return };
    let raw = f.join("upstream-residual-decode/ytb_XwB-dkS5BVM.first24.upstream_residual.yuv");
    let video = f.join("upstream-demo/videos/ytb_XwB-dkS5BVM.mp4");
    if !raw.exists() || !video.exists() {
        eprintln!("SKIP: raw residual frames not found");
        return;
    }
    let want = std::fs::read(raw).expect("read raw frames");
    let dir = temp_dir("raw");
    let data = to_annexb(&video, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let pics = decode_all(&data, Mode::UpstreamResidual).expect("decode");
    let frame = 360 * 640 * 3 / 2;
    for (i, p) in pics.iter().take(24).enumerate() {
        assert_eq!((p.width, p.height), (360, 640));
        let mut got = p.y.clone();
        got.extend_from_slice(&p.u);
        got.extend_from_slice(&p.v);
        assert!(
            got == want[i * frame..(i + 1) * frame],
            "raw frame {i} differs"
        );
    }
}

#[test]
fn interlaced_is_unsupported() {
    let Some(f) = fixture_dir() else { return };
    let video = f.join("upstream-residual-decode/clips/interlaced_mbaff.mp4");
    if !video.exists() {
        eprintln!("SKIP: interlaced clip not found");
        return;
    }
    let dir = temp_dir("interlaced");
    let data = to_annexb(&video, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    match decode_all(&data, Mode::Normal) {
        Err(h264::Error::Unsupported(m)) => assert!(m.contains("interlaced"), "{m}"),
        other => panic!("expected Unsupported, got {:?}", other.map(|v| v.len())),
    }
    // a caller that keeps feeding gets the same reason for every slice
    let mut dec = h264::Decoder::new(Mode::Normal);
    let mut errors = 0;
    for nal in h264::split_annexb(&data) {
        if let Err(e) = dec.decode_nal(nal) {
            errors += 1;
            assert!(matches!(e, h264::Error::Unsupported(_)), "{e}");
        }
    }
    assert!(errors > 0);
}
