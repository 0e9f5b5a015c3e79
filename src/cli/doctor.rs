//! `codecscope doctor`: why evaluation HITs or MISSes offline assets, video by video.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};

use crate::diagnose::asset_root::parse_expect;
use crate::diagnose::doctor::{self, DoctorConfig, DoctorReport, VideoInput, VideoReport};
use crate::diagnose::eval_log::{parse_eval_log, EvalLog};
use crate::diagnose::eval_lookup::{self as el, EvalEnv, LookupStatus};
use crate::diagnose::finding::Finding;

/// Emulate evaluation's offline asset lookup (LLAVA_CODEC_OFFLINE_ROOT) for each video:
/// HIT or MISS, why, and the fix.
#[derive(Args, Debug, Clone, Default)]
pub struct DoctorArgs {
    /// Asset root as evaluation gets it (the precompute `assets/` folder). Without it
    /// LLAVA_CODEC_OFFLINE_ROOT, LLAVA_CODEC_USE_OFFLINE and LLAVA_CODEC_NUM_IMAGES are read
    /// from the environment as evaluation reads them (or the root from --log).
    #[arg(long, value_name = "ROOT")]
    pub root: Option<String>,
    /// Images evaluation takes per folder (LLAVA_CODEC_NUM_IMAGES; default 8).
    #[arg(
        long = "num-images",
        alias = "num_images",
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub num_images: Option<String>,
    /// JSON Lines on stdout: {"type": ..., "data": ...} per record, a summary last.
    #[arg(long)]
    pub json: bool,
    /// Turn warnings into errors (and fail on any finding).
    #[arg(long)]
    pub strict: bool,
    /// Asset parameters the model expects, compared with meta.json `cfg`
    /// (e.g. seq_len_frames=64,num_images=8,square_size=576).
    #[arg(long, value_name = "k=v,...")]
    pub expect: Vec<String>,
    /// Video paths, as the evaluation task passes them.
    #[arg(value_name = "VIDEO")]
    pub videos: Vec<String>,
    /// Videos to check: the precompute input JSONL (`video`, `key`), a text file of paths, or
    /// a folder of videos.
    #[arg(long = "videos", value_name = "LIST")]
    pub video_lists: Vec<PathBuf>,
    /// Evaluation log(s): take evaluation's own verdicts and compare.
    #[arg(long, value_name = "EVAL_LOG")]
    pub log: Vec<PathBuf>,
    /// Check image formats only instead of opening every image in full (faster; a truncated
    /// image is then not noticed).
    #[arg(long = "no-decode")]
    pub no_decode: bool,
}

/// Where a setting came from.
fn note(json: bool, msg: &str) {
    if !json {
        eprintln!("doctor: {msg}");
    }
}

/// Runs `doctor`; `Err` means a usage or I/O error (exit 2).
pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let env = EvalEnv::from_process_env();
    // Logs first: they can name the root and the videos.
    let log: Option<EvalLog> = if args.log.is_empty() {
        None
    } else {
        let mut text = String::new();
        for p in &args.log {
            let b = std::fs::read(p)
                .with_context(|| format!("cannot read eval log {}", p.display()))?;
            text.push_str(&String::from_utf8_lossy(&b));
            text.push('\n');
        }
        Some(parse_eval_log(&text))
    };

    // Root and USE_OFFLINE.
    let mut provenance: Vec<(String, String)> = Vec::new();
    let (root, root_source, use_offline) = if let Some(r) = &args.root {
        if !env.use_offline() {
            note(
                args.json,
                &format!(
                    "LLAVA_CODEC_USE_OFFLINE is {} here; emulating as if it were 1 for --root (evaluation itself looks nothing up when it is off)",
                    env.use_offline_raw.as_deref().map(|v| format!("{v:?}")).unwrap_or_else(|| "unset".into())
                ),
            );
        }
        (Some(r.clone()), "--root".to_string(), true)
    } else if let Some(r) = &env.root_raw {
        let on = env.use_offline();
        (
            Some(r.clone()),
            "environment LLAVA_CODEC_OFFLINE_ROOT".to_string(),
            on,
        )
    } else if let Some(r) = log.as_ref().and_then(|l| {
        l.roots
            .first()
            .cloned()
            .or_else(|| l.index_builds.first().map(|b| b.0.clone()))
    }) {
        (Some(r), "the eval log".to_string(), true)
    } else {
        (None, "unset".to_string(), env.use_offline())
    };
    let use_offline_source = if args.root.is_some() {
        "--root given".to_string()
    } else if root_source.starts_with("the eval log") {
        "the eval log (USE_OFFLINE=1 lines)".to_string()
    } else {
        format!(
            "environment LLAVA_CODEC_USE_OFFLINE={}",
            env.use_offline_raw
                .as_deref()
                .map(|v| format!("{v:?}"))
                .unwrap_or_else(|| "unset".into())
        )
    };
    provenance.push(("root".into(), root_source.clone()));
    provenance.push(("use_offline".into(), use_offline_source.clone()));

    // NUM_IMAGES.
    let (num_images, n_source) = match &args.num_images {
        Some(s) => match el::py::py_int(s) {
            Some(n) => (n.max(1) as usize, "--num-images".to_string()),
            None => bail!("--num-images {s:?} is not an integer"),
        },
        None => match env.num_images() {
            Ok(n) => (
                n,
                match &env.num_images_raw {
                    Some(v) => format!("environment LLAVA_CODEC_NUM_IMAGES={v:?}"),
                    None => "default".to_string(),
                },
            ),
            Err(e) if use_offline => bail!("{e}"),
            Err(_) => (el::DEFAULT_NUM_IMAGES, "default".to_string()),
        },
    };
    provenance.push(("num_images".into(), n_source.clone()));

    let mut expect = Vec::new();
    for e in &args.expect {
        expect.extend(parse_expect(e).map_err(anyhow::Error::msg)?);
    }

    // Videos: positional, lists, log.
    let mut inputs: Vec<VideoInput> = args
        .videos
        .iter()
        .map(|v| VideoInput {
            video: v.clone(),
            key: None,
        })
        .collect();
    let mut listed: Vec<String> = Vec::new();
    for l in &args.video_lists {
        let vs = read_video_list(l)?;
        listed.extend(vs.iter().map(|v| v.video.clone()));
        inputs.extend(vs);
    }
    let mut log = log;
    if let Some(l) = log.as_mut() {
        if !l.debug && !listed.is_empty() {
            l.apply_listed(&listed);
        }
        for v in &l.videos {
            inputs.push(VideoInput {
                video: v.video.clone(),
                key: None,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|v| seen.insert(v.video.clone()));

    let mut cfg = DoctorConfig {
        root: root.clone(),
        use_offline,
        num_images,
        decode: !args.no_decode,
        all_folders: false,
        expect,
    };
    let root_disp = root.clone().unwrap_or_default();
    note(
        args.json,
        &format!(
            "root {:?} (from {root_source}); offline lookup {} (from {use_offline_source}); num_images {num_images} (from {n_source})",
            root_disp,
            if use_offline { "on" } else { "OFF: nothing is looked up" }
        ),
    );
    let t0 = std::time::Instant::now();
    let index = doctor::index_for(&cfg);
    if doctor::root_usable(&cfg) {
        note(
            args.json,
            &format!(
                "walked {} folder(s), {} meta.json, {} index entries in {} ms",
                index.dirs.len(),
                index.metas.len(),
                index.eval_entries(),
                t0.elapsed().as_millis()
            ),
        );
    }
    if inputs.is_empty() && doctor::root_usable(&cfg) {
        inputs = doctor::videos_in_index(&index);
        cfg.all_folders = true;
        note(
            args.json,
            &format!(
                "no video given: checking the {} video(s) the root's meta.json files name",
                inputs.len()
            ),
        );
    }
    let t1 = std::time::Instant::now();
    let report = doctor::run_doctor_with_index(&cfg, &index, &inputs, log.as_ref(), args.strict);
    note(
        args.json,
        &format!(
            "checked {} video(s) in {} ms",
            inputs.len(),
            t1.elapsed().as_millis()
        ),
    );

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let res = if args.json {
        print_json(&mut out, &report, &provenance, log.as_ref())
    } else {
        print_text(&mut out, &report, &provenance)
    };
    match res.and_then(|_| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e).context("writing the report"),
    }
    Ok(ExitCode::from(report.exit_code(args.strict)))
}

/// Videos from a list: the precompute input JSONL (`video`, `key`; records with a falsy
/// `exists` skipped as precompute skips them), a JSON array of records, a text file of paths
/// (blank lines and `#` comments skipped) or a folder of videos (recursive, sorted).
pub fn read_video_list(path: &Path) -> anyhow::Result<Vec<VideoInput>> {
    if path.is_dir() {
        let mut out = Vec::new();
        collect_videos(path, &mut out)
            .with_context(|| format!("cannot list {}", path.display()))?;
        out.sort();
        return Ok(out
            .into_iter()
            .map(|v| VideoInput {
                video: v,
                key: None,
            })
            .collect());
    }
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read video list {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut out = Vec::new();
    let record = |v: &Value, out: &mut Vec<VideoInput>, where_: &str| -> anyhow::Result<()> {
        let Value::Object(o) = v else {
            bail!("{where_}: not a JSON object")
        };
        if let Some(e) = o.get("exists") {
            if !el::py::truthy(e) {
                return Ok(());
            }
        }
        let Some(video) = o.get("video") else {
            bail!("{where_}: no `video`")
        };
        let key = o
            .get("key")
            .filter(|k| el::py::truthy(k))
            .map(el::py::py_str);
        out.push(VideoInput {
            video: el::py::py_str(video),
            key,
        });
        Ok(())
    };
    if first.starts_with('[') {
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a JSON array", path.display()))?;
        for (i, r) in v.as_array().into_iter().flatten().enumerate() {
            record(r, &mut out, &format!("{}[{i}]", path.display()))?;
        }
    } else if first.starts_with('{') {
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() {
                continue;
            }
            let where_ = format!("{}:{}", path.display(), i + 1);
            let v: Value = serde_json::from_str(l)
                .with_context(|| format!("{where_}: malformed JSON line"))?;
            record(&v, &mut out, &where_)?;
        }
    } else {
        for line in text.lines() {
            let l = line.trim_end_matches('\r');
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            out.push(VideoInput {
                video: l.trim().to_string(),
                key: None,
            });
        }
    }
    Ok(out)
}

const LIST_EXTS: [&str; 12] = [
    "mp4", "mkv", "avi", "webm", "mov", "m4v", "flv", "ts", "mpg", "mpeg", "wmv", "3gp",
];

fn collect_videos(dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if p.is_dir() {
            collect_videos(&p, out)?;
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .map(|x| LIST_EXTS.contains(&x.to_lowercase().as_str()))
            .unwrap_or(false)
        {
            out.push(p.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn finding_line(f: &Finding) -> String {
    let mut s = format!(
        "{} {} {}: {}",
        f.severity.as_str(),
        f.code,
        f.location,
        f.message
    );
    if !f.hint.is_empty() {
        s.push_str(&format!(" | fix: {}", f.hint));
    }
    s.replace('\n', "\\n")
}

fn video_line(r: &VideoReport) -> String {
    let lr = &r.lookup;
    let mut s = format!("{:<11} {}", lr.status.as_str(), r.video);
    match lr.status {
        LookupStatus::Hit => {
            let names: Vec<&str> = lr.images.iter().map(|p| el::py::basename(p)).collect();
            s.push_str(&format!(
                " -> {} | {} image(s): {}",
                lr.chosen.clone().unwrap_or_default(),
                names.len(),
                names.join(" ")
            ));
            match &lr.positions {
                Some(p) if p.used => s.push_str(&format!(
                    " | positions {} {:?} used (pos_shape {:?})",
                    el::py::basename(&p.path),
                    p.shape.clone().unwrap_or_default(),
                    p.eval_shape.clone().unwrap_or_default()
                )),
                Some(p) => s.push_str(&format!(
                    " | positions {} IGNORED: uniform positions used ({})",
                    el::py::basename(&p.path),
                    p.ignored_because.clone().unwrap_or_default()
                )),
                None => s.push_str(" | no positions file: uniform positions used"),
            }
        }
        _ => {
            s.push_str(&format!(
                " | {}: {}",
                lr.reason.unwrap_or("miss"),
                lr.message
            ));
            if let Some(f) = &r.fix {
                s.push_str(&format!(" | fix: {f}"));
            }
            if !r.suggestions.is_empty() {
                let sug: Vec<String> = r
                    .suggestions
                    .iter()
                    .map(|x| format!("{} ({})", x.folder, x.relation))
                    .collect();
                s.push_str(&format!(" | nearest: {}", sug.join("; ")));
            }
        }
    }
    if let Some(a) = &r.eval_log {
        s.push_str(&format!(
            " | eval log: {}{}",
            a.eval.as_str(),
            if a.agrees {
                String::new()
            } else {
                format!(" DISAGREES: {}", a.note)
            }
        ));
    }
    s.replace('\n', "\\n")
}

fn print_text(
    out: &mut impl Write,
    report: &DoctorReport,
    provenance: &[(String, String)],
) -> std::io::Result<()> {
    let s = &report.summary;
    let c = &report.config;
    writeln!(
        out,
        "root: {:?} (from {}) | offline lookup: {} (from {}) | num_images: {} (from {})",
        c.root.clone().unwrap_or_default(),
        provenance[0].1,
        if c.use_offline {
            "on"
        } else {
            "OFF, nothing is looked up"
        },
        provenance[1].1,
        c.num_images,
        provenance[2].1
    )?;
    writeln!(
        out,
        "index: {} folder(s) walked, {} meta.json, {} entries, {} ms",
        s.index_dirs, s.index_metas, s.index_entries, s.walk_ms
    )?;
    writeln!(
        out,
        "summary: {} video(s): {} HIT, {} MISS ({} silent{})",
        s.videos,
        s.hits,
        s.misses,
        s.silent_misses,
        if s.off > 0 {
            format!(", {} with offline off", s.off)
        } else {
            String::new()
        }
    )?;
    if !s.reasons.is_empty() {
        let r: Vec<String> = s
            .reasons
            .iter()
            .take(8)
            .map(|(k, n)| format!("{k} x{n}"))
            .collect();
        writeln!(out, "top reasons: {}", r.join(", "))?;
    }
    let codes: Vec<String> = s
        .finding_codes
        .iter()
        .take(10)
        .map(|(k, n)| format!("{k} x{n}"))
        .collect();
    writeln!(
        out,
        "findings: {} error(s), {} warning(s){}",
        s.errors,
        s.warnings,
        if codes.is_empty() {
            String::new()
        } else {
            format!(" ({})", codes.join(", "))
        }
    )?;
    if s.disagreements > 0 {
        writeln!(
            out,
            "eval log: {} video(s) where evaluation's verdict differs from doctor's",
            s.disagreements
        )?;
    }
    for f in &report.root_findings {
        writeln!(out, "root: {}", finding_line(f))?;
    }
    for r in &report.videos {
        writeln!(out, "{}", video_line(r))?;
        for f in &r.findings {
            if r.lookup.status.is_hit() {
                writeln!(out, "    {}", finding_line(f))?;
            }
        }
    }
    Ok(())
}

fn print_json(
    out: &mut impl Write,
    report: &DoctorReport,
    provenance: &[(String, String)],
    log: Option<&EvalLog>,
) -> std::io::Result<()> {
    let line = |out: &mut dyn Write, t: &str, data: Value| -> std::io::Result<()> {
        writeln!(out, "{}", json!({"type": t, "data": data}))
    };
    let c = &report.config;
    line(
        out,
        "config",
        json!({
            "root": c.root,
            "root_source": provenance[0].1,
            "use_offline": c.use_offline,
            "use_offline_source": provenance[1].1,
            "num_images": c.num_images,
            "num_images_source": provenance[2].1,
            "decode": c.decode,
            "expect": c.expect.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<serde_json::Map<_, _>>(),
        }),
    )?;
    if let Some(l) = log {
        line(
            out,
            "eval_log",
            json!({"debug": l.debug, "videos": l.videos.len(), "roots": l.roots, "index_builds": l.index_builds, "lines_used": l.lines_used}),
        )?;
    }
    for f in &report.root_findings {
        line(
            out,
            "root_finding",
            serde_json::to_value(f).unwrap_or(Value::Null),
        )?;
    }
    for r in &report.videos {
        line(out, "video", serde_json::to_value(r).unwrap_or(Value::Null))?;
    }
    line(
        out,
        "summary",
        serde_json::to_value(&report.summary).unwrap_or(Value::Null),
    )
}
