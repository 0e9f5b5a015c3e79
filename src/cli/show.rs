//! `codecscope show PATH --print`: the mosaics (and with `--grid T` frame T's patch grid)
//! printed once to the terminal, for scripts, logs and quick looks.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use super::open::ViewArgs;
use crate::tui::sample::SampleData;
use crate::tui::source::{self, Opened};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Examples:
  codecscope show stage2/sample_X__v__1234abcd --print
  codecscope show assets/ytb_abc --print --grid 5 --no-images
  codecscope show train.jsonl --print --row 3")]
pub struct ShowArgs {
    /// A sample: stage 2 folder, eval asset folder, stage 1 output, or a list (first row).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Print once and exit (the only mode so far; `codecscope open` is interactive).
    #[arg(long)]
    pub print: bool,
    /// Also print the patch grid of sampled frame T (mosaic index per selected cell).
    #[arg(long, value_name = "T")]
    pub grid: Option<usize>,
    /// Which row of a list to show.
    #[arg(long, default_value_t = 0)]
    pub row: usize,
    /// Width of each picture in terminal cells.
    #[arg(long, default_value_t = 36)]
    pub width: u32,
    /// Print no pictures (names and the grid only).
    #[arg(long)]
    pub no_images: bool,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// The grid of frame `t` as text: a mosaic index per selected cell, `.` padding, ` ` other.
pub fn grid_text(s: &SampleData, t: usize, color: bool) -> String {
    let cells = s.frame_cells(t);
    let theme = Theme { color };
    let mut out = String::new();
    for h in 0..s.hb {
        for w in 0..s.wb {
            let i = h * s.wb + w;
            let pad = s.valid.as_ref().is_some_and(|v| !v[i]);
            let ch = match cells[i] {
                Some(m) => char::from_digit((m % 36) as u32, 36).unwrap_or('#'),
                None if pad => '.',
                None => ' ',
            };
            if color {
                if let (Some(m), ratatui::style::Color::Rgb(r, g, b)) =
                    (cells[i], theme.mosaic(cells[i].unwrap_or(0)))
                {
                    let _ = m;
                    out.push_str(&format!("\x1b[48;2;{r};{g};{b}m\x1b[30m{ch}{ch}\x1b[0m"));
                    continue;
                }
            }
            out.push(ch);
            out.push(ch);
        }
        out.push('\n');
    }
    out
}

fn load(args: &ShowArgs) -> anyhow::Result<SampleData> {
    let opts = args.view.load_options();
    match source::open(&args.path, &opts).map_err(anyhow::Error::msg)? {
        Opened::One(s) => Ok(*s),
        Opened::Many { index, .. } => {
            let rows = index.collect_all();
            let mut rows: Vec<_> = rows
                .into_iter()
                .filter(|e| e.ordinal != usize::MAX)
                .collect();
            rows.sort_by_key(|e| e.ordinal);
            let e = rows.get(args.row).with_context(|| {
                format!(
                    "the list has {} rows; --row {} is past it",
                    rows.len(),
                    args.row
                )
            })?;
            source::load_entry(e, &opts).map_err(anyhow::Error::msg)
        }
    }
}

pub fn run(args: ShowArgs) -> anyhow::Result<ExitCode> {
    if !args.print {
        bail!("show needs --print (for the interactive inspector use `codecscope open PATH`)");
    }
    let s = load(&args)?;
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && Theme::from_env().color;
    let mut out = stdout.lock();
    writeln!(out, "{} ({})", s.title, s.kind)?;
    writeln!(
        out,
        "{} mosaics, {} positions rows, T {}, grid {}x{}",
        s.images.len(),
        s.positions.len(),
        s.frames,
        s.hb,
        s.wb
    )?;
    for fd in &s.findings {
        writeln!(out, "{}[{}] {}", fd.severity.as_str(), fd.code, fd.message)?;
    }
    out.flush()?;
    drop(out);
    for (i, p) in s.images.iter().enumerate() {
        println!("mosaic {i}: {}", p.display());
        if !args.no_images {
            let cfg = viuer::Config {
                width: Some(args.width),
                absolute_offset: false,
                ..Default::default()
            };
            match crate::tui::images::load_file(p) {
                Ok(img) => {
                    if let Err(e) = viuer::print(&img, &cfg) {
                        println!("  (cannot print: {e})");
                    }
                }
                Err(e) => println!("  (cannot open: {e})"),
            }
        }
    }
    if let Some(t) = args.grid {
        if t >= s.frames {
            bail!("--grid {t}: the sample has {} sampled frames", s.frames);
        }
        let fid = s
            .frame_ids
            .as_ref()
            .and_then(|f| f.get(t))
            .map_or(String::new(), |f| format!(" (video frame {f})"));
        let kept = s.kept_per_frame().get(t).copied().unwrap_or(0);
        println!("frame t={t}{fid}: {kept} cells kept; digit = mosaic, '.' = padding");
        print!("{}", grid_text(&s, t, color));
    }
    Ok(ExitCode::SUCCESS)
}
