//! Helpers shared by the integration tests: where the shared fixtures are, and
//! generated videos.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `shared` directory holding `fixtures/`: `CODECSCOPE_SHARED`, or the first
/// ancestor of the crate that has `shared/fixtures` beside it.
pub fn shared_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CODECSCOPE_SHARED") {
        let p = PathBuf::from(p);
        if p.join("fixtures").is_dir() {
            return Some(p);
        }
    }
    let mut dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let cand = d.join("shared");
        if cand.join("fixtures").is_dir() {
            return Some(cand);
        }
        dir = d.parent();
    }
    None
}

/// A fixture file, or `None` with a visible notice (the test then returns early).
pub fn fixture(rel: &str) -> Option<PathBuf> {
    match shared_dir() {
        Some(s) => {
            let p = s.join("fixtures").join(rel);
            if p.exists() {
                Some(p)
            } else {
                eprintln!("SKIPPED: fixture {} not found", p.display());
                None
            }
        }
        None => {
            eprintln!("SKIPPED: shared/fixtures not found (set CODECSCOPE_SHARED)");
            None
        }
    }
}

pub const FIXTURE_VIDEO: &str = "upstream-demo/videos/ytb_XwB-dkS5BVM.mp4";

/// True when the ffmpeg CLI is on PATH (generated-video tests skip otherwise).
pub fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED: ffmpeg CLI not found");
    }
    ok
}

pub fn have_encoder(name: &str) -> bool {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(name))
        })
        .unwrap_or(false)
}

/// Runs `ffmpeg -v error -y ARGS... OUT` and returns OUT.
pub fn ffmpeg(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg failed for {name}: {args:?}");
    out
}

/// A moving test pattern encoded with libx264.
pub fn x264_clip(dir: &Path, name: &str, size: &str, frames: u32, extra: &[&str]) -> PathBuf {
    let src = format!("testsrc2=size={size}:rate=25");
    let frames = frames.to_string();
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        &src,
        "-frames:v",
        &frames,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
    ];
    args.extend_from_slice(extra);
    ffmpeg(dir, name, &args)
}
