//! `codecscope env`: what this machine and terminal offer, before a long run: the terminal,
//! the picture protocol the inspector would use, the linked FFmpeg, and whether H.264 and
//! HEVC decoding export motion vectors here.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;

use crate::tui::images::{self, ImagesArg};

#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// Skip the decoding check.
    #[arg(long)]
    pub no_decode: bool,
    /// Protocol to report instead of detecting one.
    #[arg(long, value_enum, default_value = "auto")]
    pub images: ImagesArg,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| "-".into())
}

/// The protocol the inspector would pick. Detection asks the terminal, so only when stdin
/// and stdout are terminals.
fn protocol(arg: ImagesArg) -> String {
    let tty = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if arg == ImagesArg::Auto && !tty {
        return "halfblocks (not a terminal: no detection)".into();
    }
    let raw = arg == ImagesArg::Auto && crossterm::terminal::enable_raw_mode().is_ok();
    let p = images::picker(arg);
    if raw {
        let _ = crossterm::terminal::disable_raw_mode();
    }
    let how = if arg == ImagesArg::Auto {
        "detected"
    } else {
        "forced"
    };
    let tmux = p.as_ref().is_some_and(|p| p.tmux_detected());
    format!(
        "{} ({how}{})",
        images::protocol_name(p.as_ref()),
        if tmux { ", tmux passthrough" } else { "" }
    )
}

pub fn run(args: EnvArgs) -> anyhow::Result<ExitCode> {
    println!("codecscope {}", env!("CARGO_PKG_VERSION"));
    let size = crossterm::terminal::size()
        .map(|(w, h)| format!("{w}x{h}"))
        .unwrap_or_else(|_| "unknown".into());
    println!(
        "terminal: TERM={} TERM_PROGRAM={} COLORTERM={} size {size}{}",
        var("TERM"),
        var("TERM_PROGRAM"),
        var("COLORTERM"),
        if std::env::var_os("TMUX").is_some() {
            " (inside tmux)"
        } else {
            ""
        }
    );
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    println!("colour: {}", if no_color { "off (NO_COLOR)" } else { "on" });
    println!("pictures: {}", protocol(args.images));
    if std::env::var_os("TMUX").is_some() {
        println!(
            "  inside tmux, kitty, sixel and iTerm2 pictures need `set -g allow-passthrough on`; \
else use --images halfblocks"
        );
    }
    for line in ffmpeg_report(args.no_decode) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Generates a short clip with the `ffmpeg` program (if it and the encoder are here).
fn generate_clip(dir: &std::path::Path, encoder: &str) -> Result<std::path::PathBuf, String> {
    let out = dir.join(format!("check_{encoder}.mp4"));
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=128x96:rate=25",
            "-frames:v",
            "12",
            "-c:v",
            encoder,
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|_| "no `ffmpeg` program to make a test clip".to_string())?;
    if status.success() && out.is_file() {
        Ok(out)
    } else {
        Err(format!("`ffmpeg` cannot encode with {encoder} here"))
    }
}

/// The FFmpeg lines: linked versions, then per codec whether vectors come out.
fn ffmpeg_report(no_decode: bool) -> Vec<String> {
    let mut lines = vec![format!(
        "ffmpeg (linked): {}",
        crate::video::linked_versions()
            .iter()
            .map(|(l, v)| format!("{l} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    if no_decode {
        return lines;
    }
    let Ok(dir) = tempfile_dir() else {
        lines.push("motion vectors: cannot make a temporary folder".into());
        return lines;
    };
    for (codec, encoder) in [("H.264", "libx264"), ("HEVC", "libx265")] {
        let line = match generate_clip(&dir, encoder) {
            Err(e) => format!("motion vectors, {codec}: not checked ({e})"),
            Ok(clip) => {
                let opts = crate::video::AnalyzeOptions {
                    sequence_length: 12,
                    residual: crate::analysis::ResidualSource::None,
                    ..Default::default()
                };
                match crate::video::analyze(&clip.to_string_lossy(), &opts) {
                    Ok(a) => {
                        let with = a.frames.iter().filter(|f| f.vector_count > 0).count();
                        let total: usize = a.frames.iter().map(|f| f.vector_count).sum();
                        if with > 0 {
                            format!("motion vectors, {codec}: yes ({total} vectors on {with} of {} frames of a test clip)", a.frames.len())
                        } else {
                            format!(
                                "motion vectors, {codec}: NO (decoding works, no vectors exported)"
                            )
                        }
                    }
                    Err(e) => format!("motion vectors, {codec}: decoding failed: {e}"),
                }
            }
        };
        lines.push(line);
    }
    let _ = std::fs::remove_dir_all(&dir);
    lines
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("codecscope-env-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
