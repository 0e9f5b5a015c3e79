//! `codecscope check`: lint datasets, pipeline outputs and asset folders before training and
//! evaluation.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use super::output::FindingReport;
use super::progress::Progress;
use crate::diagnose::paths::{PathResolver, Remap};
use crate::diagnose::positions::Geometry;
use crate::diagnose::records::{self, FileFindings, RecordContext, RecordRules};
use crate::diagnose::{stage1, Finding, Severity};
use crate::formats::dataset::{Record, RecordStream};
use crate::formats::discover::{discover, Discovered};

#[derive(Debug, Args)]
#[command(after_long_help = "\
Examples:
  codecscope check train.jsonl --remap /old/machine/out=/data/out
  codecscope check stage1_out/ --json | jq 'select(.type==\"finding\")'
  codecscope check assets/ --strict

Exit status: 0 no errors, 1 an error-severity finding, 2 usage or I/O error.")]
pub struct CheckArgs {
    /// Datasets (JSON/JSONL), stage 1 outputs or roots, stage 2 folders, asset folders or roots.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Rewrite a path prefix found in the data (repeatable), for data that moved machines.
    #[arg(long, value_name = "FROM=TO")]
    pub remap: Vec<Remap>,
    /// Decode every image fully (default: read headers only).
    #[arg(long)]
    pub deep: bool,
    /// JSON Lines on stdout: one `finding` object each, then a `summary`.
    #[arg(long)]
    pub json: bool,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Images per codec sample.
    #[arg(long, default_value_t = 8, alias = "num_images")]
    pub num_images: usize,
    /// Square size of the mosaics.
    #[arg(long, default_value_t = 576, alias = "square_size")]
    pub square_size: u32,
    /// Patch size (the grid is square_size/patch cells a side).
    #[arg(long, default_value_t = 16, alias = "patch_size")]
    pub patch: u32,
    /// Sampled frames per video (positions' t must be below it).
    #[arg(
        long = "T",
        default_value_t = 64,
        alias = "sequence_length",
        alias = "seq_len_frames"
    )]
    pub t: usize,
    /// Also list info-level findings.
    #[arg(long, short)]
    pub verbose: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

const BATCH: usize = 8192;

/// What a dataset pass saw, for the summary.
#[derive(Default)]
struct DatasetStats {
    records: u64,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout().lock();
    let mut report = FindingReport::new(std::io::BufWriter::new(stdout), args.json, args.strict);
    let started = Instant::now();
    let mut records = 0u64;
    let rules = RecordRules {
        num_images: args.num_images,
        square_size: args.square_size,
        geometry: Geometry {
            frames: args.t,
            hb: (args.square_size / args.patch.max(1)) as usize,
            wb: (args.square_size / args.patch.max(1)) as usize,
        },
        deep: args.deep,
    };
    for path in &args.paths {
        let found = discover(path);
        let mut emit = |f: Finding| -> anyhow::Result<()> {
            if f.severity == Severity::Info && !args.verbose {
                return Ok(());
            }
            report.push(&f).context("writing the report")
        };
        for m in &found.missing {
            emit(Finding::error(
                "file-missing",
                m.display().to_string(),
                format!("expected beside this {}", found.what.kind_name()),
            ))?;
        }
        match &found.what {
            Discovered::Unknown { path, reason } => {
                if !path.exists() {
                    anyhow::bail!("{}: no such file or directory", path.display());
                }
                emit(Finding::error(
                    "unknown-input",
                    path.display().to_string(),
                    reason.clone(),
                ))?;
            }
            Discovered::TrainingJsonl { path }
            | Discovered::RawDataset { path }
            | Discovered::PrecomputeInput { path } => {
                let stats = check_dataset(path, &found.what, &args, &rules, &mut emit)?;
                records += stats.records;
            }
            Discovered::Stage1Output { files } => {
                for f in stage1::lint_stage1(files, args.num_images) {
                    emit(f)?;
                }
            }
            Discovered::Stage1Root { dir, outputs } => {
                let outputs = if outputs.is_empty() {
                    nested_stage1_outputs(dir)
                } else {
                    outputs.clone()
                };
                let findings: Vec<Vec<Finding>> = outputs
                    .par_iter()
                    .map(|o| stage1::lint_stage1(o, args.num_images))
                    .collect();
                for f in findings.into_iter().flatten() {
                    emit(f)?;
                }
            }
            Discovered::Stage2Folder {
                dir,
                images,
                positions,
            } => {
                for f in stage1::lint_stage2_folder(
                    dir,
                    images,
                    positions.as_deref(),
                    args.num_images,
                    args.square_size,
                    args.deep,
                ) {
                    emit(f)?;
                }
            }
            Discovered::AssetFolder { dir, .. } => {
                for f in crate::diagnose::asset_root::asset_folder_findings(dir, args.num_images) {
                    emit(f)?;
                }
            }
            Discovered::AssetRoot { dir, out_root, .. } => {
                let root = if *out_root {
                    dir.join("assets")
                } else {
                    dir.clone()
                };
                for f in crate::diagnose::asset_root::asset_root_findings(&root, args.num_images) {
                    emit(f)?;
                }
            }
            Discovered::Video { path } => {
                emit(Finding::new(
                    Severity::Info,
                    "video",
                    path.display().to_string(),
                    "a video: nothing to lint (use `codecscope analyze`)",
                ))?;
            }
            Discovered::VideoFolder { dir, videos } => {
                emit(Finding::new(
                    Severity::Info,
                    "video-folder",
                    dir.display().to_string(),
                    format!("{videos} videos"),
                ))?;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut extra = serde_json::json!({ "elapsed_sec": (elapsed * 1000.0).round() / 1000.0 });
    if records > 0 {
        extra["records"] = records.into();
        extra["records_per_sec"] = ((records as f64 / elapsed.max(1e-9)).round() as u64).into();
    }
    let errors = report.errors();
    report
        .finish(extra)
        .context("writing the report")?
        .flush()?;
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn nested_stage1_outputs(dir: &std::path::Path) -> Vec<crate::formats::discover::Stage1Files> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        out.extend(crate::formats::discover::stage1_outputs_in(&d));
        if let Ok(rd) = std::fs::read_dir(&d) {
            let mut subs: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subs.sort();
            stack.extend(subs.into_iter().rev());
        }
    }
    out
}

fn check_dataset(
    path: &std::path::Path,
    kind: &Discovered,
    args: &CheckArgs,
    rules: &RecordRules,
    emit: &mut impl FnMut(Finding) -> anyhow::Result<()>,
) -> anyhow::Result<DatasetStats> {
    let resolver = PathResolver::new(args.remap.clone(), Some(path));
    let files = FileFindings::default();
    let mut stream =
        RecordStream::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let progress = Progress::new(
        &format!("checking {}", path.display()),
        None,
        args.quiet || args.json,
    );
    let display = path.display().to_string();
    let mut stats = DatasetStats::default();
    // First line each id was seen on, by a 64-bit hash of the id: memory is 16 bytes per
    // distinct id, not per byte of the file.
    let mut seen_ids: HashMap<u64, u64> = HashMap::new();
    let hasher = std::hash::RandomState::new();
    use std::hash::BuildHasher;
    loop {
        let (batch, stream_error) = stream.next_batch(BATCH);
        if batch.is_empty() && stream_error.is_none() {
            break;
        }
        let results: Vec<(Option<String>, Vec<Finding>)> = batch
            .par_iter()
            .map(|rec| {
                let location = format!("{display}:{}", rec.line);
                let parsed = match Record::parse(&rec.text) {
                    Ok(r) => r,
                    Err(e) => {
                        return (
                            None,
                            vec![Finding::error(
                                "malformed-record",
                                location,
                                format!("record {} is not valid JSON: {e}", rec.ordinal),
                            )
                            .with_hint(
                                "upstream aborts the whole run on such a line; fix or drop it",
                            )],
                        );
                    }
                };
                let cx = RecordContext {
                    rules,
                    resolver: &resolver,
                    files: &files,
                    location,
                };
                let findings = match kind {
                    Discovered::TrainingJsonl { .. } => records::lint_training(&parsed, &cx),
                    Discovered::PrecomputeInput { .. } => {
                        records::lint_precompute_input(&parsed, &cx)
                    }
                    _ => records::lint_raw(&parsed, &cx),
                };
                (parsed.id_string(), findings)
            })
            .collect();
        for (rec, (id, findings)) in batch.iter().zip(results) {
            if let Some(id) = id {
                let h = hasher.hash_one(&id);
                if let Some(first) = seen_ids.insert(h, rec.line) {
                    seen_ids.insert(h, first);
                    emit(Finding::warning(
                        "duplicate-id",
                        format!("{display}:{}", rec.line),
                        format!("id `{id}` was already used on line {first}"),
                    )
                    .with_hint("stage 2 writes both records into one folder (the second overwrites the first)"))?;
                }
            }
            for f in findings {
                emit(f)?;
            }
        }
        stats.records += batch.len() as u64;
        progress.inc(batch.len() as u64);
        if let Some(e) = stream_error {
            emit(Finding::error(
                "malformed-dataset",
                format!("{}:{}", e.path.display(), e.line),
                e.message,
            ))?;
            break;
        }
    }
    progress.finish();
    Ok(stats)
}
