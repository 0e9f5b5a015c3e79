//! Damaged and hostile input must produce errors, never panics.

mod common;

use common::*;
use h264::{Decoder, Mode};

fn encode(tag: &str, opts: &[&str]) -> Option<Vec<u8>> {
    if !have_ffmpeg() {
        eprintln!("SKIP: ffmpeg CLI not available");
        return None;
    }
    let dir = temp_dir(tag);
    let out = dir.join("clip.h264");
    let mut args = vec![
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=96x64:rate=25",
        "-frames:v",
        "8",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
    ];
    args.extend_from_slice(opts);
    args.extend_from_slice(&["-f", "h264", out.to_str().unwrap()]);
    let ok = std::process::Command::new("ffmpeg")
        .args(&args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIP: could not encode a test clip");
        return None;
    }
    let d = std::fs::read(&out).ok();
    let _ = std::fs::remove_dir_all(&dir);
    d
}

/// Decode, ignoring errors; returns the number of pictures produced.
fn decode_lossy(data: &[u8], mode: Mode) -> usize {
    let mut dec = Decoder::new(mode);
    let mut n = 0;
    for nal in h264::split_annexb(data) {
        let _ = dec.decode_nal(nal);
        while dec.next_frame().is_some() {
            n += 1;
        }
    }
    n + dec.flush().map(|v| v.len()).unwrap_or(0)
}

/// Every NAL's result and every picture (md5 and type, in order) of a lossy decode.
fn decode_trace(data: &[u8], mut dec: Decoder) -> (Vec<String>, Vec<String>) {
    let mut results = Vec::new();
    let mut pics = Vec::new();
    for nal in h264::split_annexb(data) {
        results.push(format!("{:?}", dec.decode_nal(nal)));
        while let Some(p) = dec.next_frame() {
            pics.push(format!("{} {} {}", p.md5(), p.pict_type, p.reconstructed));
        }
    }
    results.push(match dec.flush() {
        Ok(rest) => {
            for p in rest {
                pics.push(format!("{} {} {}", p.md5(), p.pict_type, p.reconstructed));
            }
            "flushed".into()
        }
        Err(e) => format!("{e:?}"),
    });
    (results, pics)
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn corrupt_many(data: &[u8], seed: u64) {
    let mut rng = Lcg(seed);
    for round in 0..40 {
        let mut d = data.to_vec();
        let flips = 1 + rng.next() as usize % 8;
        for _ in 0..flips {
            let i = rng.next() as usize % d.len();
            d[i] ^= 1 << (rng.next() % 8);
        }
        if round % 5 == 0 {
            let cut = rng.next() as usize % d.len();
            d.truncate(cut);
        }
        let mode = if round % 2 == 0 {
            Mode::Normal
        } else {
            Mode::UpstreamResidual
        };
        decode_lossy(&d, mode);
    }
}

#[test]
fn corrupted_cavlc_stream() {
    let Some(d) = encode("robust-cavlc", &["-profile:v", "baseline"]) else {
        return;
    };
    corrupt_many(&d, 1);
}

#[test]
fn corrupted_cabac_stream() {
    let Some(d) = encode(
        "robust-cabac",
        &[
            "-profile:v",
            "high",
            "-bf",
            "2",
            "-x264-params",
            "weightp=2",
        ],
    ) else {
        return;
    };
    corrupt_many(&d, 2);
}

/// Reconstruction on its own thread gives the same pictures and the same
/// errors at the same NAL units as decoding on one thread, damaged streams
/// included (partial pictures after an error too).
#[test]
fn threaded_reconstruction_matches_one_thread() {
    let Some(d) = encode(
        "robust-threads",
        &[
            "-profile:v",
            "high",
            "-bf",
            "3",
            "-x264-params",
            "weightb=1:b-pyramid=normal",
        ],
    ) else {
        return;
    };
    let mut rng = Lcg(7);
    let mut errors = 0;
    for round in 0..30 {
        let mut data = d.clone();
        if round > 0 {
            for _ in 0..1 + rng.next() as usize % 6 {
                let i = rng.next() as usize % data.len();
                data[i] ^= 1 << (rng.next() % 8);
            }
        }
        for mode in [Mode::Normal, Mode::UpstreamResidual] {
            let two = decode_trace(&data, Decoder::new(mode));
            let one = decode_trace(&data, Decoder::single_threaded(mode));
            assert_eq!(two, one, "round {round}, {mode:?}");
            errors += two.0.iter().filter(|r| r.starts_with("Err")).count();
            if round == 0 {
                assert_eq!(two.1.len(), 8, "the clean stream decodes whole");
            }
        }
    }
    assert!(errors > 0, "some damaged streams fail");
}

#[test]
fn garbage_and_absurd_parameter_sets() {
    let mut rng = Lcg(7);
    for _ in 0..200 {
        let len = rng.next() as usize % 64;
        let mut d: Vec<u8> = vec![0, 0, 1];
        for _ in 0..len {
            d.push(rng.next() as u8);
        }
        decode_lossy(&d, Mode::Normal);
    }
    // SPS claiming 65536 x 65536 macroblocks must be refused, not allocated
    let mut dec = Decoder::new(Mode::Normal);
    // profile 66, level 30, sps id 0, log2_max_frame_num 4, poc type 2,
    // 1 ref, width/height in mbs = huge
    let sps = [
        0x67, 0x42, 0x00, 0x1e, 0xf4, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x80,
    ];
    assert!(dec.decode_nal(&sps).is_err());
}

#[test]
fn empty_and_tiny_inputs() {
    let mut dec = Decoder::new(Mode::Normal);
    assert!(dec.decode_annexb(&[]).is_ok());
    assert!(dec.decode_nal(&[0x65]).is_err());
    assert!(dec.push_avcc_packet(&[0, 0, 0, 9, 1]).is_err());
    assert!(h264::parse_avcc(&[1, 2]).is_err());
    assert!(dec.flush().unwrap().is_empty());
}

#[test]
fn decoder_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Decoder>();
    assert_send::<h264::Picture>();
}

#[test]
fn pictures_larger_than_the_cap_are_refused() {
    let Some(data) = encode("cap", &["-profile:v", "baseline"]) else {
        return;
    };
    // 96x64 is 6x4 macroblocks: one less is refused, exactly that many decodes.
    let mut small = Decoder::new(Mode::Normal);
    small.set_max_macroblocks(23);
    match small.decode_annexb(&data) {
        Err(h264::Error::Invalid(m)) => assert!(m.contains("6x4 macroblocks"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let mut fits = Decoder::new(Mode::Normal);
    fits.set_max_macroblocks(24);
    fits.decode_annexb(&data).expect("decode");
    assert_eq!(fits.flush().expect("flush").len(), 8);
}
