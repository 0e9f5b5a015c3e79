//! Findings about an eval asset root (`LLAVA_CODEC_OFFLINE_ROOT`) and about one asset folder
//! (`assets/<key>/`), as evaluation's lookup will meet them (SPEC 1.4, 1.5). Used by `check`
//! and `doctor`; the root is walked once (the same walk builds the lookup index).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;
use serde_json::Value;

use super::eval_lookup::{self as el, py, AssetIndex, DirListing, MetaRead};
use super::finding::{Finding, Severity};

/// Files a finished precompute folder holds besides its mosaics (`_is_done`).
pub const DONE_FILES: [&str; 4] = [
    "meta.json",
    "frame_ids.npy",
    "visible_indices.npy",
    "positions_thw.npy",
];

/// Findings about the asset root `root` for `num_images` images per video: root problems,
/// out_root given for `assets/`, images directly in the root, duplicate stems/keys (which
/// folder evaluation uses, which are shadowed), unreadable metas, per-folder problems
/// (incomplete, `error.json`, stray images sorting first, fewer images, positions) and
/// config drift between folders.
pub fn asset_root_findings(root: &Path, num_images: usize) -> Vec<Finding> {
    let root_s = root.to_string_lossy().to_string();
    if let Some(p) = el::root_problem(&root_s) {
        if p.code != "root-glob-magic" {
            return vec![root_problem_finding(&root_s, &p)];
        }
    }
    let index = AssetIndex::build(&root_s);
    root_findings_with_index(&index, num_images)
}

/// The finding for a root string that is no usable directory.
pub fn root_problem_finding(root_raw: &str, p: &el::RootProblem) -> Finding {
    let sev = if p.code == "root-glob-magic" {
        Severity::Warning
    } else {
        Severity::Error
    };
    Finding::new(sev, p.code, root_raw.to_string(), p.message.clone()).with_hint(p.hint.clone())
}

/// [`asset_root_findings`] on an index already built (no second walk).
pub fn root_findings_with_index(index: &AssetIndex, num_images: usize) -> Vec<Finding> {
    root_findings_impl(index, num_images, true)
}

/// Root-wide findings only (root problems, out_root, flat images, metas, duplicates, config
/// drift), without the per-folder pass: `doctor` reports folders through the videos that use them.
pub fn root_level_findings(index: &AssetIndex, num_images: usize) -> Vec<Finding> {
    root_findings_impl(index, num_images, false)
}

fn root_findings_impl(index: &AssetIndex, num_images: usize, per_folder: bool) -> Vec<Finding> {
    let n = num_images.max(1);
    let root = index.root.as_str();
    let mut out = Vec::new();
    if let Some(p) = el::root_problem(root) {
        out.push(root_problem_finding(root, &p));
        if p.code != "root-glob-magic" {
            return out;
        }
    }
    out.extend(el::index_findings(index));
    if let Some(f) = out_root_finding(index) {
        out.push(f);
    }
    // Images directly in the root: the flat candidate comes before the index.
    let flat = el::eval_images(root, n);
    if !flat.is_empty() {
        out.push(
            Finding::warning(
                "root-flat-images",
                root,
                format!(
                    "{} image(s) lie directly in the root ({}...): every video without a root/<stem> folder gets \
                     these same images, before the meta.json index is even consulted",
                    el::eval_image_list(root).len(),
                    py::basename(&flat[0])
                ),
            )
            .with_hint("move the images into assets/<key>/ folders (an empty precompute `key` writes them into assets/ itself)"),
        );
    }
    // Unreadable metas are skipped by evaluation.
    for m in &index.metas {
        if let MetaRead::Unreadable { error } = &m.read {
            out.push(
                Finding::warning(
                    "meta-unreadable",
                    py::join(&m.dir, "meta.json"),
                    format!(
                        "meta.json cannot be read ({error}): evaluation's index skips this folder"
                    ),
                )
                .with_hint("rewrite meta.json (re-run precompute with --overwrite for this key)"),
            );
        }
    }
    out.extend(duplicate_findings(index));
    out.extend(config_drift_findings(index));
    // Per asset folder, from the walk's listings.
    let root_depth_assets = has_assets_child(index);
    let cfg_of: HashMap<&str, Option<&Value>> = index
        .metas
        .iter()
        .map(|m| (m.dir.as_str(), m.cfg.as_ref()))
        .collect();
    if !per_folder {
        return out;
    }
    let per_dir: Vec<Vec<Finding>> = el::io_pool().install(|| {
        index
            .dirs
            .par_iter()
            .map(|d| {
                if d.depth == 0 {
                    return Vec::new();
                }
                let is_asset = d
                    .files
                    .iter()
                    .any(|f| f == "meta.json" || f == "error.json" || is_eval_image_name(f))
                    || (d.files.is_empty()
                        && d.subdirs.is_empty()
                        && (d.depth == 1
                            || (root_depth_assets && d.depth == 2 && parent_is_assets(index, d))));
                if is_asset {
                    let cfg = cfg_of.get(d.dir.as_str()).copied().flatten();
                    listing_findings(d, n, false, cfg, None)
                } else {
                    Vec::new()
                }
            })
            .collect()
    });
    out.extend(per_dir.into_iter().flatten());
    out
}

fn has_assets_child(index: &AssetIndex) -> bool {
    index
        .dirs
        .first()
        .map(|d| d.subdirs.iter().any(|s| s == "assets"))
        .unwrap_or(false)
}

fn parent_is_assets(index: &AssetIndex, d: &DirListing) -> bool {
    let parent = py::split(&d.dir).0;
    parent == py::join(&index.root, "assets")
}

/// A root given as the precompute `out_root` (it holds `assets/`).
pub fn out_root_finding(index: &AssetIndex) -> Option<Finding> {
    if !has_assets_child(index) {
        return None;
    }
    let assets = py::join(&index.root, "assets");
    let inside = index
        .metas
        .iter()
        .filter(|m| m.dir.starts_with(&format!("{assets}/")))
        .count();
    if inside == 0 {
        return None;
    }
    let outside = index.metas.len() - inside;
    Some(
        Finding::warning(
            "root-is-out-root",
            index.root.clone(),
            format!(
                "the root is the precompute out_root, not its assets/ folder: evaluation still HITs through the \
                 meta.json index (root/<stem> never exists), but walks all {} folder(s) under it ({} ms here){}; \
                 any stale copy under the root can win by walk order",
                index.dirs.len(),
                index.elapsed.as_millis(),
                if outside > 0 { format!(", {outside} meta.json outside assets/") } else { String::new() }
            ),
        )
        .with_hint(format!("export LLAVA_CODEC_OFFLINE_ROOT={assets}")),
    )
}

/// Stems/keys claimed by more than one folder: the first in walk order wins.
pub fn duplicate_findings(index: &AssetIndex) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, claims) in index.duplicates() {
        let winner = &index.metas[claims[0].meta];
        let mut shadowed: Vec<&str> = Vec::new();
        for c in &claims[1..] {
            let d = index.metas[c.meta].dir.as_str();
            if d != winner.dir && !shadowed.contains(&d) {
                shadowed.push(d);
            }
        }
        out.push(
            Finding::warning(
                "duplicate-name",
                winner.dir.clone(),
                format!(
                    "{name:?} is claimed by {} folders: evaluation's index uses {} (first in os.walk order, which is \
                     the file system's listing order) and silently shadows {}",
                    shadowed.len() + 1,
                    winner.dir,
                    shadowed.join(", ")
                ),
            )
            .with_hint("remove or move the stale copies out of the root"),
        );
    }
    out
}

/// `cfg` keys whose values differ between folders.
pub fn config_drift_findings(index: &AssetIndex) -> Vec<Finding> {
    let mut per_key: BTreeMap<String, Vec<(String, usize, String)>> = BTreeMap::new();
    let mut with_cfg = 0usize;
    for m in &index.metas {
        let Some(Value::Object(cfg)) = &m.cfg else {
            continue;
        };
        with_cfg += 1;
        for (k, v) in cfg {
            let vs = canon_value(v);
            let e = per_key.entry(k.clone()).or_default();
            match e.iter_mut().find(|(x, _, _)| *x == vs) {
                Some(slot) => slot.1 += 1,
                None => e.push((vs, 1, m.dir.clone())),
            }
        }
    }
    let mut out = Vec::new();
    for (k, mut vals) in per_key {
        if vals.len() < 2 {
            continue;
        }
        vals.sort_by_key(|v| std::cmp::Reverse(v.1));
        let desc: Vec<String> = vals
            .iter()
            .map(|(v, c, d)| {
                if *c == 1 {
                    format!("{v} in 1 ({d})")
                } else {
                    format!("{v} in {c} (e.g. {d})")
                }
            })
            .collect();
        out.push(
            Finding::warning(
                "config-drift",
                index.root.clone(),
                format!("cfg.{k} differs across the {with_cfg} asset folders: {}", desc.join(", ")),
            )
            .with_hint("evaluation never checks asset parameters: re-run precompute with one configuration (--overwrite)"),
        );
    }
    out
}

/// A JSON value as a comparable string (`64` and `64.0` equal).
pub fn canon_value(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => format!("{f}"),
            None => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Whether a name matches evaluation's image globs (case-sensitive, dotfiles skipped).
pub fn is_eval_image_name(name: &str) -> bool {
    !name.starts_with('.') && el::IMAGE_EXTS.iter().any(|e| py::fnmatch(name, e))
}

/// `mosaic_NNN.jpg`, as precompute names its images.
pub fn is_mosaic_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("mosaic_") else {
        return false;
    };
    let Some(num) = rest.strip_suffix(".jpg") else {
        return false;
    };
    num.len() >= 3 && num.chars().all(|c| c.is_ascii_digit())
}

/// Findings for one asset folder `assets/<key>/`: what evaluation would load from it and
/// what is wrong there. Opens every image evaluation would load, in full.
pub fn asset_folder_findings(dir: &Path, num_images: usize) -> Vec<Finding> {
    let d = dir.to_string_lossy().to_string();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![Finding::error(
            "asset-folder-missing",
            d,
            "the asset folder cannot be read",
        )];
    };
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            subdirs.push(name);
        } else {
            files.push(name);
        }
    }
    let listing = DirListing {
        dir: d.clone(),
        depth: 1,
        files,
        subdirs,
        entries: vec![],
    };
    let cfg = folder_cfg(&d);
    let mut out = listing_findings(&listing, num_images.max(1), true, cfg.as_ref(), None);
    let imgs = el::eval_images(&d, num_images.max(1));
    let square = folder_square(&d);
    for p in &imgs {
        let o = el::open_image(p);
        out.extend(image_findings(&o, square));
    }
    out
}

/// Findings for one opened image.
pub fn image_findings(o: &el::ImageOpen, square: Option<u32>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !o.ok {
        out.push(
            Finding::error(
                "image-unreadable",
                o.path.clone(),
                format!(
                    "fails to open ({}): evaluation skips this folder (a silent MISS when no other candidate opens)",
                    o.error.clone().unwrap_or_default()
                ),
            )
            .with_hint("re-run precompute for this key with --overwrite, or remove the file"),
        );
    } else if let Some(s) = square {
        if o.width != 0 && (o.width != s || o.height != s) {
            out.push(Finding::error(
                "mosaic-size",
                o.path.clone(),
                format!("is {}x{}, not {s}x{s}", o.width, o.height),
            ));
        }
    }
    out
}

/// `cfg.square_size` of a folder's meta (576 when absent).
pub fn folder_square(dir: &str) -> Option<u32> {
    let cfg = folder_cfg(dir);
    Some(
        cfg.as_ref()
            .and_then(|c| c.get("square_size"))
            .and_then(|v| v.as_u64())
            .unwrap_or(576) as u32,
    )
}

/// `meta.cfg` of a folder, if readable.
pub fn folder_cfg(dir: &str) -> Option<Value> {
    let bytes = std::fs::read(py::join(dir, "meta.json")).ok()?;
    py::py_json_load(&bytes).ok()?.get("cfg").cloned()
}

/// Patches per image from `cfg` (`(square/patch)^2`, 1296 by default).
pub fn s_total_of(cfg: Option<&Value>) -> usize {
    let g = |k: &str, d: u64| {
        cfg.and_then(|c| c.get(k))
            .and_then(|v| v.as_u64())
            .unwrap_or(d)
    };
    let (s, p) = (g("square_size", 576), g("patch_size", 16));
    if p == 0 {
        return el::S_TOTAL;
    }
    ((s / p) * (s / p)) as usize
}

/// Findings from a folder listing without decoding images: missing files, error.json, stray
/// or too few images, positions evaluation ignores or whose length does not match.
pub fn listing_findings(
    d: &DirListing,
    n: usize,
    single: bool,
    cfg: Option<&Value>,
    positions: Option<Option<&el::PositionsInfo>>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let all_imgs = if py::has_magic(&d.dir) {
        el::eval_image_list(&d.dir)
    } else {
        let mut names = d.files.clone();
        names.extend(d.subdirs.iter().cloned());
        el::image_list_from_names(&d.dir, &names)
    };
    let imgs: Vec<&String> = all_imgs.iter().take(n).collect();
    let has = |f: &str| d.files.iter().any(|x| x == f);
    if has("error.json") {
        let detail = std::fs::read(py::join(&d.dir, "error.json"))
            .ok()
            .and_then(|b| py::py_json_load(&b).ok())
            .and_then(|v| v.get("error").map(py::py_str))
            .unwrap_or_default();
        if imgs.is_empty() {
            out.push(
                Finding::error(
                    "error-json",
                    py::join(&d.dir, "error.json"),
                    format!(
                        "precompute failed here ({}) and left no image: evaluation MISSes this key",
                        shorten(&detail, 120)
                    ),
                )
                .with_hint("fix the cause and re-run precompute for this key with --overwrite"),
            );
        } else {
            out.push(
                Finding::warning(
                    "error-json",
                    py::join(&d.dir, "error.json"),
                    format!(
                        "error.json ({}) lies beside {} image(s): a stale failure marker or a partial write",
                        shorten(&detail, 120),
                        imgs.len()
                    ),
                )
                .with_hint("re-run precompute for this key with --overwrite and delete error.json"),
            );
        }
    }
    let mut missing: Vec<String> = DONE_FILES
        .iter()
        .filter(|f| !has(f))
        .map(|s| s.to_string())
        .collect();
    // Only the mosaics an absurd N cannot make us enumerate forever.
    for i in 0..n.min(100_000) {
        let m = format!("mosaic_{i:03}.jpg");
        if !has(&m) {
            missing.push(m);
        }
    }
    if imgs.is_empty() {
        if !has("error.json") {
            out.push(
                Finding::error(
                    "asset-folder-empty",
                    d.dir.clone(),
                    if d.files.is_empty() {
                        "the asset folder is empty (precompute left it when the video was missing): evaluation MISSes it".to_string()
                    } else {
                        format!(
                            "no image evaluation's globs match (case-sensitive *.jpg|*.jpeg|*.png|*.webp, no dotfiles) \
                             among {} file(s): evaluation MISSes it",
                            d.files.len()
                        )
                    },
                )
                .with_hint("re-run precompute for this key (check the video path in the input JSONL)"),
            );
        }
    } else if !missing.is_empty() && (has("meta.json") || has("mosaic_000.jpg") || single) {
        out.push(
            Finding::warning(
                "asset-incomplete",
                d.dir.clone(),
                format!(
                    "incomplete asset folder (missing {}): evaluation still HITs with what is there",
                    list_short(&missing, 4)
                ),
            )
            .with_hint("re-run precompute for this key with --overwrite"),
        );
    }
    if !imgs.is_empty() {
        if imgs.len() < n {
            out.push(
                Finding::error(
                    "fewer-images",
                    d.dir.clone(),
                    format!(
                        "only {} image(s) where evaluation takes {n}: it loads them without a word",
                        imgs.len()
                    ),
                )
                .with_hint("re-run precompute with --num_images matching LLAVA_CODEC_NUM_IMAGES"),
            );
        }
        let first_mosaic = imgs.iter().position(|p| is_mosaic_name(py::basename(p)));
        let strays: Vec<(usize, &str)> = imgs
            .iter()
            .enumerate()
            .filter(|(_, p)| !is_mosaic_name(py::basename(p)))
            .map(|(i, p)| (i, py::basename(p)))
            .collect();
        if !strays.is_empty() && (first_mosaic.is_some() || has("meta.json")) {
            let before = strays
                .iter()
                .any(|(i, _)| first_mosaic.map(|f| *i < f).unwrap_or(true));
            let names: Vec<String> = strays.iter().map(|(i, s)| format!("{s} (#{i})")).collect();
            out.push(
                Finding::warning(
                    if before {
                        "stray-image-first"
                    } else {
                        "stray-image"
                    },
                    d.dir.clone(),
                    format!(
                        "evaluation's natural sort puts {} among the {n} images it loads{}",
                        list_short(&names, 3),
                        if before { ", before the mosaics" } else { "" }
                    ),
                )
                .with_hint(
                    "remove non-mosaic images (previews, *.tmp.jpg leftovers) from asset folders",
                ),
            );
        }
        let s_total = s_total_of(cfg);
        out.extend(match positions {
            Some(p) => positions_info_findings(&d.dir, p, imgs.len(), s_total),
            None => positions_findings(&d.dir, imgs.len(), s_total),
        });
    }
    out
}

/// What evaluation makes of the folder's positions, as findings (for a folder with images).
pub fn positions_findings(dir: &str, images: usize, s_total: usize) -> Vec<Finding> {
    let info = el::eval_positions_file(dir).map(|p| el::eval_positions(&p));
    positions_info_findings(dir, info.as_ref(), images, s_total)
}

/// [`positions_findings`] from what the lookup already read (`None`: no positions file).
pub fn positions_info_findings(
    dir: &str,
    info: Option<&el::PositionsInfo>,
    images: usize,
    s_total: usize,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match info.map(|i| (i.path.clone(), i)) {
        None => out.push(
            Finding::error(
                "positions-missing",
                dir.to_string(),
                format!(
                    "no positions file ({} or *position*.npy): evaluation silently uses uniform positions \
                     (t = linspace(0,63,8), full grid) on top of the mosaics",
                    el::POSITION_NAMES.join(", ")
                ),
            )
            .with_hint("re-run precompute for this key with --overwrite"),
        ),
        Some((p, info)) => {
            if !info.used {
                let code = if info.shape.is_some() && info.dtype.is_some() && !info.ignored_because.as_deref().unwrap_or("").contains("truncated") {
                    "positions-shape-ignored"
                } else {
                    "positions-unreadable"
                };
                out.push(
                    Finding::error(
                        code,
                        p.clone(),
                        format!(
                            "{}: evaluation ignores it and silently uses uniform positions",
                            info.ignored_because.clone().unwrap_or_default()
                        ),
                    )
                    .with_hint("write positions as an int32 (N,3) array: re-run precompute for this key with --overwrite"),
                );
            } else if let Some(rows) = info.rows {
                let want = images * s_total;
                if rows != want {
                    out.push(
                        Finding::error(
                            "positions-length",
                            p.clone(),
                            format!(
                                "{rows} rows for {images} image(s) x {s_total} patches = {want}: evaluation never checks, \
                                 the model gets mismatched positions"
                            ),
                        )
                        .with_hint("re-run precompute so images and positions come from one run"),
                    );
                }
            }
        }
    }
    out
}

fn list_short(v: &[String], k: usize) -> String {
    if v.len() <= k {
        v.join(", ")
    } else {
        format!("{} and {} more", v[..k].join(", "), v.len() - k)
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n).collect::<String>())
    }
}

/// `--expect k=v,...` parsed: values as JSON where they parse, else strings.
pub fn parse_expect(spec: &str) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("--expect: {part:?} is not key=value"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("--expect: {part:?} has an empty key"));
        }
        let v = v.trim();
        let val = match v {
            "true" | "True" => Value::Bool(true),
            "false" | "False" => Value::Bool(false),
            _ => serde_json::from_str::<Value>(v)
                .ok()
                .filter(|x| x.is_number())
                .unwrap_or(Value::String(v.to_string())),
        };
        out.push((k.to_string(), val));
    }
    Ok(out)
}

/// How one `cfg` compares with `--expect`: `(key, expected, found)` for each difference
/// (`found` is `None` when the key is not recorded).
pub fn cfg_mismatches(
    cfg: Option<&Value>,
    expect: &[(String, Value)],
) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for (k, want) in expect {
        let got = cfg.and_then(|c| c.get(k));
        match got {
            Some(g) if canon_value(g) == canon_value(want) => {}
            Some(g) => out.push((k.clone(), canon_value(want), Some(canon_value(g)))),
            None => out.push((k.clone(), canon_value(want), None)),
        }
    }
    out
}

/// Root-wide `--expect` comparison: one finding per key that differs somewhere.
pub fn expect_findings(index: &AssetIndex, expect: &[(String, Value)]) -> Vec<Finding> {
    let mut per: HashMap<&str, (usize, String, Vec<String>)> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for m in &index.metas {
        if m.read != MetaRead::Ok {
            continue;
        }
        for (k, want, got) in cfg_mismatches(m.cfg.as_ref(), expect) {
            let key = expect
                .iter()
                .find(|(x, _)| *x == k)
                .map(|(x, _)| x.as_str())
                .unwrap_or("");
            let e = per.entry(key).or_insert_with(|| {
                order.push(key);
                (0, want.clone(), vec![])
            });
            e.0 += 1;
            if e.2.len() < 3 {
                e.2.push(format!(
                    "{} ({})",
                    m.dir,
                    got.unwrap_or_else(|| "not recorded".into())
                ));
            }
        }
    }
    order
        .into_iter()
        .map(|k| {
            let (c, want, ex) = &per[k];
            Finding::warning(
                "config-mismatch",
                index.root.clone(),
                format!(
                    "cfg.{k} is not {want} in {c} of {} folder(s): {}",
                    index.metas.len(),
                    ex.join(", ")
                ),
            )
            .with_hint("re-run precompute with the parameters the model expects (--overwrite)")
        })
        .collect()
}
