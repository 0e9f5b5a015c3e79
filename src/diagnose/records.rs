//! Lints for dataset records: training JSONL (stage 2 output), raw video datasets (stage 1
//! input) and precompute inputs. Pure per record, given a resolver and a cache of per-file
//! findings (many records share files, and reading each once keeps `check` fast).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::paths::PathResolver;
use super::positions::{self, Geometry};
use super::{images, Finding};
use crate::formats::dataset::Record;
use crate::formats::naming;

/// What the records are checked against.
#[derive(Debug, Clone)]
pub struct RecordRules {
    pub num_images: usize,
    pub square_size: u32,
    pub geometry: Geometry,
    /// Decode images fully instead of reading their headers.
    pub deep: bool,
}

impl Default for RecordRules {
    fn default() -> Self {
        RecordRules {
            num_images: 8,
            square_size: 576,
            geometry: Geometry::DEFAULT,
            deep: false,
        }
    }
}

type CacheKey = (PathBuf, Option<usize>);

/// Findings per file, computed once however many records point at it.
#[derive(Default)]
pub struct FileFindings {
    shards: [Mutex<HashMap<CacheKey, Arc<Vec<Finding>>>>; 16],
}

impl FileFindings {
    fn get_or(&self, key: CacheKey, compute: impl FnOnce() -> Vec<Finding>) -> Arc<Vec<Finding>> {
        use std::hash::{BuildHasher, RandomState};
        thread_local!(static HASHER: RandomState = RandomState::new());
        let shard = HASHER.with(|h| h.hash_one(&key.0)) as usize % self.shards.len();
        if let Some(hit) = self.shards[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return hit.clone();
        }
        let value = Arc::new(compute());
        self.shards[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, value.clone());
        value
    }
}

/// Everything a record lint needs besides the record.
pub struct RecordContext<'a> {
    pub rules: &'a RecordRules,
    pub resolver: &'a PathResolver,
    pub files: &'a FileFindings,
    /// `file:line` of the record, for messages.
    pub location: String,
}

impl RecordContext<'_> {
    fn file_findings(
        &self,
        path: &Path,
        expected_len: Option<usize>,
        f: impl FnOnce(&Path) -> Vec<Finding>,
    ) -> Vec<Finding> {
        let found = self
            .files
            .get_or((path.to_path_buf(), expected_len), || f(path));
        found
            .iter()
            .cloned()
            .map(|mut x| {
                x.location = format!("{} ({})", self.location, x.location);
                x
            })
            .collect()
    }
}

/// A training record (stage 2 JSONL line, or an image-only sample).
pub fn lint_training(rec: &Record<'_>, cx: &RecordContext<'_>) -> Vec<Finding> {
    let loc = &cx.location;
    let mut out = Vec::new();
    let Some(images) = rec.images() else {
        if rec.image.is_some() {
            out.push(Finding::error(
                "record-field",
                loc,
                "`image` is neither a path nor a list of paths",
            ));
        }
        return out;
    };
    let tokens = rec.count_token("<image>");
    if tokens != images.len() {
        out.push(
            Finding::error(
                "image-token-mismatch",
                loc,
                format!("{tokens} <image> tokens in the conversation, {} images", images.len()),
            )
            .with_hint("more tokens than images silently reuse the previous image's features; fewer drop features"),
        );
    }
    let is_codec = rec.positions_thw.is_some() || images.len() > 1;
    if is_codec && images.len() != cx.rules.num_images {
        out.push(
            Finding::error(
                "codec-image-count",
                loc,
                format!(
                    "codec sample with {} images, expected {}",
                    images.len(),
                    cx.rules.num_images
                ),
            )
            .with_hint("training takes the video path only for exactly 8 square images"),
        );
    }
    for raw in &images {
        let path = cx.resolver.resolve(raw);
        let side = is_codec.then_some(cx.rules.square_size);
        let deep = cx.rules.deep;
        out.extend(cx.file_findings(&path, side.map(|s| s as usize), |p| {
            images::lint_image(p, side, deep)
        }));
    }
    match (&rec.positions_thw, is_codec) {
        (Some(serde_json::Value::String(p)), true) => {
            let path = cx.resolver.resolve(p);
            let expected = images.len() * cx.rules.geometry.s_total();
            let geo = cx.rules.geometry;
            out.extend(cx.file_findings(&path, Some(expected), |p| {
                positions::lint_file(p, geo, Some(expected))
            }));
        }
        (Some(serde_json::Value::String(_)), false) => out.push(
            Finding::warning(
                "image-sample-with-positions",
                loc,
                "an image-only sample carries positions_thw",
            )
            .with_hint("positions belong to codec samples (8 mosaics)"),
        ),
        (Some(_), _) => out.push(Finding::error(
            "record-field",
            loc,
            "`positions_thw` is not a path string",
        )),
        (None, true) => out.push(
            Finding::error(
                "missing-positions",
                loc,
                "codec sample without positions_thw",
            )
            .with_hint("stage 2 writes them with --write_positions"),
        ),
        (None, false) => {}
    }
    out
}

/// A raw video dataset record (stage 1 input).
pub fn lint_raw(rec: &Record<'_>, cx: &RecordContext<'_>) -> Vec<Finding> {
    let loc = &cx.location;
    let mut out = Vec::new();
    let id = rec.id_string();
    let Some(video) = rec.video_str() else {
        out.push(Finding::new(
            super::Severity::Info,
            "record-skipped",
            loc,
            "no `video`: stage 1 skips this record",
        ));
        return out;
    };
    match (&rec.id, id.as_deref()) {
        (None | Some(serde_json::Value::Null), _) => {
            out.push(
                Finding::warning(
                    "id-missing",
                    loc,
                    "no `id` (or null): stage 1 skips this record, stage 2 calls it \"None\"",
                )
                .with_hint("give every record an id"),
            );
        }
        (_, Some("unknown")) => out.push(Finding::warning(
            "id-unknown",
            loc,
            "id \"unknown\": stage 1 processes it, stage 2 skips it",
        )),
        (_, Some(id)) => {
            if let Err(why) = naming::check_component(&naming::stage2_folder_name(id, video)) {
                out.push(
                    Finding::error("unsafe-id", loc, format!("id `{id}` cannot name an output file: the name {why}"))
                        .with_hint("upstream fails to save it; codecscope escapes it (`/` as %2F, long names hashed)"),
                );
            }
        }
        _ => {}
    }
    let first_human = rec
        .conversations
        .iter()
        .flatten()
        .find(|t| t.from.as_deref() == Some("human") && t.text().is_some());
    if let Some(turn) = first_human {
        if !turn.text().unwrap_or_default().contains("<video>") {
            out.push(Finding::new(
                super::Severity::Info,
                "video-token-missing",
                loc,
                "the first human turn has no <video>: stage 2 prepends the <image> block",
            ));
        }
    }
    let path = cx.resolver.resolve(video);
    out.extend(cx.file_findings(&path, None, |p| {
        if p.is_file() {
            Vec::new()
        } else {
            vec![Finding::error("missing-video", p.display().to_string(), "video file not found")
                .with_hint("paths are used verbatim, relative to the working directory; --remap FROM=TO rewrites prefixes")]
        }
    }));
    out
}

/// A precompute input record (`video`, `key`).
pub fn lint_precompute_input(rec: &Record<'_>, cx: &RecordContext<'_>) -> Vec<Finding> {
    let loc = &cx.location;
    let mut out = Vec::new();
    if matches!(&rec.exists, Some(v) if !truthy(v)) {
        return out;
    }
    let Some(video) = rec.video_str() else {
        out.push(Finding::error(
            "record-field",
            loc,
            "no `video`: upstream's precompute aborts the whole run on it",
        ));
        return out;
    };
    let key = rec
        .key
        .as_ref()
        .map(crate::formats::dataset::python_str)
        .unwrap_or_default();
    let key = if matches!(rec.key, Some(serde_json::Value::Null)) {
        String::new()
    } else {
        key
    };
    if key.is_empty() {
        out.push(
            Finding::warning(
                "empty-key",
                loc,
                "empty `key`: the assets land directly in assets/ (a flat root)",
            )
            .with_hint("a flat root gives every video the same images at eval"),
        );
    } else if let Err(why) = naming::check_component(&key) {
        out.push(Finding::error(
            "unsafe-key",
            loc,
            format!("key `{key}` cannot name a folder: it {why}"),
        ));
    } else if key != naming::stem(video) {
        out.push(
            Finding::new(
                super::Severity::Info,
                "key-not-stem",
                loc,
                format!(
                    "key `{key}` differs from the video stem `{}`",
                    naming::stem(video)
                ),
            )
            .with_hint(
                "eval looks up root/<stem> first, then the meta.json index (which maps keys too)",
            ),
        );
    }
    let path = cx.resolver.resolve(video);
    out.extend(cx.file_findings(&path, None, |p| {
        if p.is_file() {
            Vec::new()
        } else {
            vec![Finding::error(
                "missing-video",
                p.display().to_string(),
                "video file not found",
            )]
        }
    }));
    out
}

/// Python truthiness of a JSON value.
pub fn truthy(v: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match v {
        Null => false,
        Bool(b) => *b,
        Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        String(s) => !s.is_empty(),
        Array(a) => !a.is_empty(),
        Object(o) => !o.is_empty(),
    }
}
