//! `codecscope open [PATH]` (and the bare `codecscope PATH`): the inspector. Without a path it
//! opens the bundled demo.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use crate::analysis::ResidualSource;
use crate::diagnose::paths::Remap;
use crate::formats::discover::{discover, Discovered};
use crate::tui::images::ImagesArg;
use crate::tui::sample::LoadOptions;
use crate::tui::{self, source, RunOptions};

/// Options shared by `open` and the bare form.
#[derive(Debug, Clone, Args)]
pub struct ViewArgs {
    /// How pictures are drawn (auto detects kitty, iTerm2 or sixel, else half blocks).
    #[arg(long, value_enum, default_value = "auto", value_name = "PROTOCOL")]
    pub images: ImagesArg,
    /// The video to analyse, for data whose video is elsewhere.
    #[arg(long, value_name = "VIDEO")]
    pub video: Option<PathBuf>,
    /// Rewrite a path prefix found in the data (repeatable), for data that moved machines.
    #[arg(long, value_name = "FROM=TO")]
    pub remap: Vec<Remap>,
    /// Residual source of the background engine (SPEC 2.7): exact (the project's decoder,
    /// falling back to the emulator where a stream is not supported), emulate, frame-diff, none.
    #[arg(
        long,
        default_value = "exact",
        value_name = "exact|emulate|frame-diff|none"
    )]
    pub residual: ResidualSource,
    /// Images per codec sample.
    #[arg(long, default_value_t = 8, alias = "num_images")]
    pub num_images: usize,
    /// Use the mouse: the wheel steps frames (or moves in lists), a click opens a tab.
    #[arg(long)]
    pub mouse: bool,
}

impl ViewArgs {
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            video: self.video.clone(),
            remaps: self.remap.clone(),
            num_images: self.num_images,
        }
    }
}

#[derive(Debug, Clone, Args)]
#[command(after_long_help = "\
Opens a video, raw dataset, training JSONL, stage 1 root or file, stage 2 sample folder, eval asset
folder or asset root. Without PATH, the bundled demo. A path named like a subcommand is written ./name.

Examples:
  codecscope open train.jsonl --remap /old/machine/out=/data/out
  codecscope stage2/sample_X__v__1234abcd --images halfblocks
  codecscope assets/ytb_abc --video videos/ytb_abc.mp4")]
pub struct OpenArgs {
    /// What to open (default: the bundled demo).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// Folders where the demo may be: `$CODECSCOPE_DEMO`, beside the installed program, in the
/// source tree the program was built from.
pub fn demo_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(d) = std::env::var_os("CODECSCOPE_DEMO") {
        v.push(PathBuf::from(d));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        v.push(dir.join("assets/demo"));
        v.push(dir.join("../share/codecscope/demo"));
        v.push(dir.join("../../assets/demo"));
        v.push(dir.join("../../../assets/demo"));
    }
    v.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo"));
    v
}

/// The path inside the demo that opens best: its stage 2 sample, else its training JSONL,
/// stage 1 root, asset root, video, or the folder itself.
pub fn demo_path() -> anyhow::Result<PathBuf> {
    let cands = demo_candidates();
    let Some(dir) = cands.iter().find(|d| d.is_dir()) else {
        bail!(
            "no demo found (looked in {}). The demo is made by the project's demo script into \
assets/demo/; meanwhile give a path: codecscope PATH",
            cands
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    // A stage 2 sample first (mosaics at once, the video beside it), then the lists.
    let listed = |sub: &str| -> Vec<PathBuf> {
        let mut es: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        es.sort();
        es
    };
    let mut tries = listed("stage2");
    for p in ["train.jsonl", "stage1", "eval/assets", "assets"] {
        tries.push(dir.join(p));
    }
    tries.extend(listed("videos"));
    tries.push(dir.clone());
    for t in &tries {
        if !matches!(discover(t).what, Discovered::Unknown { .. }) {
            return Ok(t.clone());
        }
    }
    bail!(
        "the demo folder {} holds nothing codecscope can open yet",
        dir.display()
    )
}

pub fn run(args: OpenArgs) -> anyhow::Result<ExitCode> {
    let path = match &args.path {
        Some(p) => p.clone(),
        None => demo_path()?,
    };
    let load = args.view.load_options();
    let opened = source::open(&path, &load)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("cannot open {}", path.display()))?;
    tui::run(
        opened,
        RunOptions {
            images: args.view.images,
            load,
            residual: args.view.residual,
            mouse: args.view.mouse,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
