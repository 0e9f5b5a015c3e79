//! `codecscope decode`: the project's own H.264 decoder, frame by frame.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::formats::atomic::write_bytes_atomic;
use crate::video::{decode_own, OwnPicture};

#[derive(Debug, Args)]
#[command(after_long_help = "\
Decodes an H.264 video (progressive, 8-bit 4:2:0) with the project's own decoder, in display order.
Normal mode is bit-exact with FFmpeg; --upstream-residual gives the pictures upstream's patched
FFmpeg outputs (the inverse transform writes 128 + residual), which stage 1 scores.

Examples:
  codecscope decode clip.mp4 --md5            # index,md5,picture_type per frame (ffmpeg -f framemd5's md5)
  codecscope decode clip.mp4 --upstream-residual --frames 0-23 --out residual/
  codecscope decode clip.mp4                  # per-frame summary")]
pub struct DecodeArgs {
    /// The video.
    pub video: PathBuf,
    /// Upstream's residual mode instead of normal decoding.
    #[arg(long)]
    pub upstream_residual: bool,
    /// Print `index,md5,picture_type` per frame.
    #[arg(long)]
    pub md5: bool,
    /// Only frames A to B (display order, inclusive), e.g. `0-23` or `7`.
    #[arg(long, value_name = "A-B")]
    pub frames: Option<String>,
    /// Write each frame's planes as DIR/frame_{index:06}.yuv (yuv420p).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

fn parse_range(s: &str) -> anyhow::Result<(usize, usize)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: usize = a
        .trim()
        .parse()
        .with_context(|| format!("--frames `{s}`: expected A-B"))?;
    let b: usize = b
        .trim()
        .parse()
        .with_context(|| format!("--frames `{s}`: expected A-B"))?;
    anyhow::ensure!(a <= b, "--frames `{s}`: A is after B");
    Ok((a, b))
}

pub fn run(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let (first, last) = match &args.frames {
        Some(r) => parse_range(r)?,
        None => (0, usize::MAX),
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let mut out = std::io::stdout().lock();
    let mut failure: Option<anyhow::Error> = None;
    let mut on_picture = |p: OwnPicture| -> bool {
        if p.index < first {
            return true;
        }
        if p.index > last {
            return false;
        }
        let line = if args.md5 {
            format!("{},{},{}", p.index, p.md5, p.pict_type)
        } else {
            format!("{:>6} {} {}x{}", p.index, p.pict_type, p.width, p.height)
        };
        if let Err(e) = writeln!(out, "{line}") {
            failure = Some(e.into());
            return false;
        }
        if let Some(dir) = &args.out {
            let path = dir.join(format!("frame_{:06}.yuv", p.index));
            let bytes = [p.y.as_slice(), &p.u, &p.v].concat();
            if let Err(e) = write_bytes_atomic(&path, &bytes) {
                failure = Some(anyhow::anyhow!("{}: {e}", path.display()));
                return false;
            }
        }
        true
    };
    let decoded = decode_own(
        &args.video.to_string_lossy(),
        args.upstream_residual,
        &mut on_picture,
    )?;
    if let Some(e) = failure {
        return Err(e);
    }
    out.flush()?;
    if decoded == 0 {
        anyhow::bail!("{}: no frame decoded", args.video.display());
    }
    Ok(ExitCode::SUCCESS)
}
