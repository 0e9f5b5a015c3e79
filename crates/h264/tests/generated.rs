//! Clips generated with the ffmpeg CLI and libx264, compared with ffmpeg's
//! own decode (`-f framemd5`).

mod common;

use common::*;
use h264::{Decoder, Mode};
use std::path::PathBuf;

fn have_libx264() -> bool {
    if !have_ffmpeg() {
        return false;
    }
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output();
    matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("libx264"))
}

/// Encode `frames` frames of testsrc2 at `size` with extra libx264 options
/// into an Annex B file.
fn encode(tag: &str, size: &str, frames: u32, opts: &[&str]) -> Option<PathBuf> {
    if !have_libx264() {
        eprintln!("SKIP: ffmpeg with libx264 not available");
        return None;
    }
    let dir = temp_dir(tag);
    let out = dir.join("clip.h264");
    let src = format!("testsrc2=size={size}:rate=25");
    let n = frames.to_string();
    let mut args = vec![
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        &src,
        "-frames:v",
        &n,
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
    ];
    args.extend_from_slice(opts);
    args.extend_from_slice(&["-f", "h264", out.to_str().unwrap()]);
    run_ffmpeg(&args);
    Some(out)
}

fn check_against_ffmpeg(tag: &str, size: &str, frames: u32, opts: &[&str]) {
    let Some(clip) = encode(tag, size, frames, opts) else {
        return;
    };
    let want = ffmpeg_framemd5(&clip);
    let data = std::fs::read(&clip).expect("read clip");
    let _ = std::fs::remove_dir_all(clip.parent().unwrap());
    let pics = decode_all(&data, Mode::Normal).expect("decode");
    let got: Vec<String> = pics.iter().map(|p| p.md5()).collect();
    assert_eq!(got.len(), want.len(), "{tag}: frame count");
    let bad: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    assert!(bad.is_empty(), "{tag}: frames {bad:?} differ from ffmpeg");
    // residual output decodes the same stream without error and differs
    let res = decode_all(&data, Mode::UpstreamResidual).expect("decode residual");
    assert_eq!(res.len(), pics.len());
}

#[test]
fn baseline_cavlc_p() {
    check_against_ffmpeg(
        "baseline",
        "176x144",
        30,
        &["-profile:v", "baseline", "-g", "12"],
    );
}

#[test]
fn main_cabac_bframes() {
    check_against_ffmpeg(
        "main",
        "176x144",
        30,
        &[
            "-profile:v",
            "main",
            "-bf",
            "3",
            "-refs",
            "3",
            "-x264-params",
            "b-pyramid=normal",
        ],
    );
}

#[test]
fn high_temporal_direct_weighted() {
    check_against_ffmpeg(
        "high",
        "176x144",
        30,
        &[
            "-profile:v",
            "high",
            "-bf",
            "2",
            "-x264-params",
            "direct=temporal:weightb=1:weightp=2:ref=4:8x8dct=1:b-pyramid=strict",
        ],
    );
}

#[test]
fn high_cavlc_8x8_transform() {
    check_against_ffmpeg(
        "cavlc8x8",
        "176x144",
        25,
        &[
            "-profile:v",
            "high",
            "-bf",
            "2",
            "-x264-params",
            "cabac=0:8x8dct=1:direct=spatial",
        ],
    );
}

#[test]
fn slices_cqm_constrained_intra_cropped() {
    check_against_ffmpeg(
        "slices",
        "98x58",
        20,
        &[
            "-profile:v",
            "high",
            "-bf",
            "1",
            "-x264-params",
            "slices=3:cqm=jvt:constrained-intra=1:deblock=-2,1",
        ],
    );
}

#[test]
fn no_deblocking_and_high_qp() {
    check_against_ffmpeg(
        "nodeblock",
        "128x96",
        15,
        &[
            "-profile:v",
            "main",
            "-qp",
            "45",
            "-x264-params",
            "no-deblock=1",
        ],
    );
}

#[test]
fn low_qp_intra_heavy() {
    check_against_ffmpeg(
        "lowqp",
        "112x80",
        10,
        &["-profile:v", "high", "-qp", "4", "-g", "4"],
    );
}

#[test]
fn cavlc_bframes_temporal_weighted() {
    check_against_ffmpeg(
        "cavlcb",
        "176x144",
        30,
        &[
            "-profile:v",
            "main",
            "-x264-params",
            "cabac=0:bframes=3:b-pyramid=normal:weightb=1:direct=temporal",
        ],
    );
}

#[test]
fn field_capable_stream_coded_as_frames() {
    check_against_ffmpeg(
        "fakeint",
        "176x120",
        20,
        &[
            "-profile:v",
            "high",
            "-x264-params",
            "fake-interlaced=1:bframes=2",
        ],
    );
}

#[test]
fn open_gop_many_bframes() {
    check_against_ffmpeg(
        "opengop",
        "160x96",
        50,
        &[
            "-profile:v",
            "high",
            "-x264-params",
            "keyint=12:open-gop=1:bframes=8:b-adapt=2:ref=6",
        ],
    );
}

#[test]
fn lossless_is_unsupported() {
    let Some(clip) = encode("lossless", "64x64", 2, &["-qp", "0"]) else {
        return;
    };
    let data = std::fs::read(&clip).expect("read clip");
    let _ = std::fs::remove_dir_all(clip.parent().unwrap());
    match decode_all(&data, Mode::Normal) {
        Err(h264::Error::Unsupported(m)) => assert!(m.contains("lossless"), "{m}"),
        other => panic!("expected Unsupported, got {:?}", other.map(|v| v.len())),
    }
}

#[test]
fn avcc_packets_match_annexb() {
    let Some(clip) = encode("avcc", "96x64", 12, &["-profile:v", "main", "-bf", "2"]) else {
        return;
    };
    let data = std::fs::read(&clip).expect("read clip");
    let _ = std::fs::remove_dir_all(clip.parent().unwrap());
    let nals = h264::split_annexb(&data);
    let sps: Vec<&[u8]> = nals.iter().copied().filter(|n| n[0] & 0x1f == 7).collect();
    let pps: Vec<&[u8]> = nals.iter().copied().filter(|n| n[0] & 0x1f == 8).collect();
    // build an avcC record
    let mut avcc = vec![
        1,
        sps[0][1],
        sps[0][2],
        sps[0][3],
        0xff,
        0xe0 | sps.len() as u8,
    ];
    for s in &sps {
        avcc.extend_from_slice(&(s.len() as u16).to_be_bytes());
        avcc.extend_from_slice(s);
    }
    avcc.push(pps.len() as u8);
    for p in &pps {
        avcc.extend_from_slice(&(p.len() as u16).to_be_bytes());
        avcc.extend_from_slice(p);
    }
    let (len, ps) = h264::parse_avcc(&avcc).expect("parse avcC");
    assert_eq!(len, 4);
    assert_eq!(ps.len(), sps.len() + pps.len());
    let mut dec = Decoder::new(Mode::Normal);
    dec.set_avcc(&avcc).expect("avcC");
    let mut got = Vec::new();
    for n in nals.iter().filter(|n| !matches!(n[0] & 0x1f, 7 | 8)) {
        let mut pkt = (n.len() as u32).to_be_bytes().to_vec();
        pkt.extend_from_slice(n);
        dec.push_avcc_packet(&pkt).expect("packet");
        while let Some(p) = dec.next_frame() {
            got.push(p.md5());
        }
    }
    got.extend(dec.flush().expect("flush").iter().map(|p| p.md5()));
    let want: Vec<String> = decode_all(&data, Mode::Normal)
        .expect("decode")
        .iter()
        .map(|p| p.md5())
        .collect();
    assert_eq!(got, want);
}

/// Output keys from slice headers alone order the pictures as the decoder outputs them:
/// B-pyramids, open GOPs over several IDR periods, P-only streams (POC type 2) and
/// several slices per picture.
#[test]
fn output_order_from_headers_matches_decoding() {
    let cases: [(&str, &[&str]); 4] = [
        ("ord-pyr", &["-bf", "3", "-b-pyramid", "normal", "-g", "20"]),
        (
            "ord-open",
            &[
                "-bf",
                "5",
                "-x264-params",
                "open-gop=1:keyint=12:min-keyint=4",
            ],
        ),
        ("ord-p", &["-profile:v", "baseline", "-g", "15"]),
        ("ord-slices", &["-bf", "2", "-slices", "3", "-g", "9"]),
    ];
    for (tag, opts) in cases {
        let Some(clip) = encode(tag, "128x96", 40, opts) else {
            return;
        };
        let data = std::fs::read(&clip).expect("read clip");
        let _ = std::fs::remove_dir_all(clip.parent().unwrap());
        // Access units: a slice whose first_mb_in_slice is 0 (first RBSP bit set) starts
        // a picture; parameter sets and SEI go with the picture after them.
        let mut units: Vec<Vec<&[u8]>> = vec![Vec::new()];
        for n in h264::split_annexb(&data) {
            let t = n[0] & 0x1f;
            let starts = matches!(t, 1 | 5) && n.len() > 1 && n[1] & 0x80 != 0;
            let has_slice = units
                .last()
                .unwrap()
                .iter()
                .any(|u| matches!(u[0] & 0x1f, 1 | 5));
            if starts && has_slice {
                units.push(Vec::new());
            }
            units.last_mut().unwrap().push(n);
        }
        let mut order = h264::OutputOrder::new();
        let keys: Vec<(u32, i32)> = units
            .iter()
            .map(|u| order.push(u).expect("a key per picture"))
            .collect();
        assert_eq!(keys.len(), 40, "{tag}");
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        let pics = decode_all(&data, Mode::Normal).expect("decode");
        let got: Vec<i32> = pics.iter().map(|p| p.poc).collect();
        let want: Vec<i32> = sorted.iter().map(|k| k.1).collect();
        assert_eq!(got, want, "{tag}");
        let reordered = keys.windows(2).any(|w| w[1] < w[0]);
        assert_eq!(reordered, tag != "ord-p", "{tag}: reordering");
        let last = keys.iter().map(|k| k.0).max().unwrap();
        // Open GOPs start with non-IDR I pictures: one period.
        assert_eq!(last >= 1, tag != "ord-open", "{tag}: several IDR periods");
    }
}

/// Decoding without chroma gives the luma planes of a full decode, with empty chroma planes,
/// in both output modes and on one thread or two: weighted B-pyramids with temporal direct
/// and 8x8 transforms, slices with scaling matrices and cropping, intra-heavy CAVLC.
#[test]
fn luma_only_decoding_keeps_the_luma() {
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "lo-weighted",
            "176x144",
            &[
                "-profile:v",
                "high",
                "-bf",
                "3",
                "-x264-params",
                "direct=temporal:weightb=1:weightp=2:ref=4:8x8dct=1:b-pyramid=normal",
            ],
        ),
        (
            "lo-slices",
            "150x94",
            &[
                "-bf",
                "2",
                "-slices",
                "3",
                "-x264-params",
                "cqm=jvt:constrained-intra=1",
            ],
        ),
        (
            "lo-intra",
            "96x64",
            &["-x264-params", "cabac=0:keyint=4:qp=8", "-bf", "0"],
        ),
    ];
    for (tag, size, opts) in cases {
        let Some(clip) = encode(tag, size, 24, opts) else {
            return;
        };
        let data = std::fs::read(&clip).expect("read clip");
        let _ = std::fs::remove_dir_all(clip.parent().unwrap());
        for mode in [Mode::Normal, Mode::UpstreamResidual] {
            let full = decode_all(&data, mode).expect("decode");
            for threaded in [true, false] {
                let mut dec = if threaded {
                    Decoder::new(mode)
                } else {
                    Decoder::single_threaded(mode)
                };
                dec.set_luma_only(true);
                let luma = decode_all_with(&data, dec).expect("decode without chroma");
                assert_eq!(luma.len(), full.len(), "{tag}");
                for (i, (a, b)) in luma.iter().zip(&full).enumerate() {
                    let what = format!("{tag} {mode:?} threaded {threaded} picture {i}");
                    assert!(a.y == b.y, "{what}");
                    assert!(a.u.is_empty() && a.v.is_empty(), "{what}");
                    assert_eq!((a.poc, a.pict_type), (b.poc, b.pict_type), "{what}");
                }
            }
        }
    }
}
