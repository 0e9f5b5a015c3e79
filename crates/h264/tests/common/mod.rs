//! Helpers shared by the integration tests: locating the shared fixtures,
//! running the ffmpeg CLI and decoding whole streams.
#![allow(dead_code)]

use h264::{Decoder, Mode, Picture};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The `shared/fixtures` directory: `$CODECSCOPE_SHARED` (the shared
/// directory or its `fixtures` subdirectory), else the first ancestor of the
/// crate directory that has a `shared/fixtures` child.
pub fn shared_fixtures() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CODECSCOPE_SHARED") {
        let p = PathBuf::from(p);
        for c in [p.join("fixtures"), p.clone()] {
            if c.join("upstream-residual-decode").is_dir() {
                return Some(c);
            }
        }
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared").join("fixtures"))
        .find(|c| c.is_dir())
}

pub fn have_ffmpeg() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A fresh temporary directory for this test process.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "codecscope-h264-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

pub fn run_ffmpeg(args: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Extract the H.264 stream of a container file as Annex B.
pub fn to_annexb(input: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("stream.h264");
    run_ffmpeg(&[
        "-v",
        "error",
        "-y",
        "-i",
        input.to_str().unwrap(),
        "-c:v",
        "copy",
        "-bsf:v",
        "h264_mp4toannexb",
        "-f",
        "h264",
        out.to_str().unwrap(),
    ]);
    std::fs::read(out).expect("read annexb")
}

/// Per-frame md5 of ffmpeg's own decode (`-f framemd5`, 6th field).
pub fn ffmpeg_framemd5(input: &Path) -> Vec<String> {
    let out = run_ffmpeg(&[
        "-v",
        "error",
        "-threads",
        "1",
        "-i",
        input.to_str().unwrap(),
        "-map",
        "0:v",
        "-f",
        "framemd5",
        "-",
    ]);
    String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(',').nth(5).map(|s| s.trim().to_string()))
        .collect()
}

/// Decode a whole Annex B stream.
pub fn decode_all(data: &[u8], mode: Mode) -> Result<Vec<Picture>, h264::Error> {
    decode_all_with(data, Decoder::new(mode))
}

/// Decode a whole Annex B stream with a decoder set up by the caller.
pub fn decode_all_with(data: &[u8], mut dec: Decoder) -> Result<Vec<Picture>, h264::Error> {
    let mut out = Vec::new();
    for nal in h264::split_annexb(data) {
        dec.decode_nal(nal)?;
        while let Some(p) = dec.next_frame() {
            out.push(p);
        }
    }
    out.extend(dec.flush()?);
    Ok(out)
}

/// `index,md5,type` lines of a fixture list.
pub fn read_md5_list(path: &Path) -> Vec<(String, char)> {
    std::fs::read_to_string(path)
        .expect("read md5 list")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].trim().to_string(),
                f[2].trim().chars().next().unwrap_or('?'),
            )
        })
        .collect()
}
