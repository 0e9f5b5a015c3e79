//! Evaluation logs: what evaluation itself decided for each video (SPEC 1.5).
//!
//! Sources, strongest first: `[generate_until]`/`[convert_inputs]` `USING_OFFLINE` and
//! `USING_FRAME_EXTRACTION` lines (they name the video and the pid); `[codec][offline] HIT`
//! lines paired with the `USE_OFFLINE=1 ... video=V` line printed before them by the same
//! process, and `MISS (no assets found) video=V` lines; a `USE_OFFLINE=1` line followed by
//! neither (with `failed to open images` lines) is a silent miss; without debug logging only
//! stdout's `Using offline visuals for video:  V` shows a hit, and a listed video that no line
//! names as a hit was a miss. Lines logged twice (loguru and print) count once. A root that
//! held newlines splits a log line; such lines are joined back.

use std::collections::HashMap;

use serde::Serialize;

/// What evaluation did for one video in one lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogEvent {
    Hit,
    Miss,
    SilentMiss,
}

/// Evaluation's overall verdict for a video across the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogVerdict {
    Hit,
    Miss,
    /// Hit in some lookups, missed in others.
    Mixed,
    /// The video was looked up but the log ends before the outcome.
    Unknown,
}

impl LogVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            LogVerdict::Hit => "HIT",
            LogVerdict::Miss => "MISS",
            LogVerdict::Mixed => "MIXED",
            LogVerdict::Unknown => "UNKNOWN",
        }
    }
}

/// Everything the log says about one video.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VideoLog {
    pub video: String,
    pub hits: usize,
    pub misses: usize,
    pub silent_misses: usize,
    /// Lookups started (`USE_OFFLINE=1` lines).
    pub lookups: usize,
    /// Folders evaluation used (from `HIT dir=` / `USING_OFFLINE dir=`).
    pub dirs: Vec<String>,
    pub images: Option<usize>,
    pub pos_shape: Option<String>,
    pub positions_npy: Option<String>,
    /// `failed to open images in D: E` lines met while looking this video up.
    pub open_failures: Vec<String>,
    /// Candidate folders evaluation listed (`candidates=[...]`).
    pub candidates: Vec<String>,
    pub pids: Vec<String>,
    /// Which kinds of lines spoke about the video.
    pub sources: Vec<&'static str>,
    /// First line number (1-based) that names the video.
    pub first_line: usize,
}

impl VideoLog {
    pub fn verdict(&self) -> LogVerdict {
        let misses = self.misses + self.silent_misses;
        match (self.hits > 0, misses > 0) {
            (true, false) => LogVerdict::Hit,
            (false, true) => LogVerdict::Miss,
            (true, true) => LogVerdict::Mixed,
            (false, false) => LogVerdict::Unknown,
        }
    }

    fn source(&mut self, s: &'static str) {
        if !self.sources.contains(&s) {
            self.sources.push(s);
        }
    }
}

/// A parsed evaluation log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalLog {
    /// Videos in order of first mention.
    pub videos: Vec<VideoLog>,
    /// `(root, entries)` from `built meta.json index` lines.
    pub index_builds: Vec<(String, usize)>,
    /// Roots named by `USE_OFFLINE=1` / `MISS` lines, in order, each once.
    pub roots: Vec<String>,
    /// Whether `LLAVA_CODEC_DEBUG` lines are present.
    pub debug: bool,
    /// Lines recognised.
    pub lines_used: usize,
    #[serde(skip)]
    pos: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
struct Pending {
    video: String,
    failures: Vec<String>,
}

const USE_OFFLINE: &str = "[codec][offline] USE_OFFLINE=1 root=";
const HIT: &str = "[codec][offline] HIT dir=";
const MISS: &str = "[codec][offline] MISS (no assets found) video=";
const MISS_END: &str = " -> fallback to frame extraction";
const FAILED: &str = "[codec][offline] failed to open images in ";
const BUILT: &str = "[codec][offline] built meta.json index: root=";
const GU_OFF: &str = "[generate_until] USING_OFFLINE video=";
const GU_FE: &str = "[generate_until] USING_FRAME_EXTRACTION video=";
const CI_OFF: &str = "[convert_inputs] USING_OFFLINE video=";
const CI_FE: &str = "[convert_inputs] USING_FRAME_EXTRACTION video=";
const PLAIN: &str = "Using offline visuals for video: ";

impl EvalLog {
    fn entry(&mut self, video: &str, line: usize) -> &mut VideoLog {
        let i = match self.pos.get(video) {
            Some(i) => *i,
            None => {
                self.videos.push(VideoLog {
                    video: video.to_string(),
                    first_line: line,
                    ..Default::default()
                });
                self.pos.insert(video.to_string(), self.videos.len() - 1);
                self.videos.len() - 1
            }
        };
        &mut self.videos[i]
    }

    /// The log's entry for `video`.
    pub fn get(&self, video: &str) -> Option<&VideoLog> {
        self.pos.get(video).map(|i| &self.videos[*i])
    }

    /// With a list of the videos evaluated and a log without debug lines: every listed video
    /// that no line names as a hit was a miss.
    pub fn apply_listed(&mut self, videos: &[String]) {
        for v in videos {
            let has_outcome = self
                .get(v)
                .map(|e| e.verdict() != LogVerdict::Unknown)
                .unwrap_or(false);
            if !has_outcome {
                let e = self.entry(v, 0);
                e.misses += 1;
                e.source("not-named-as-hit");
            }
        }
    }

    fn add_root(&mut self, r: &str) {
        if !self.roots.iter().any(|x| x == r) {
            self.roots.push(r.to_string());
        }
    }
}

/// The pid at the end of a `[generate_until]`/`[convert_inputs]` line (`pid=N`).
fn proc_key(line: &str) -> String {
    match line.rfind(" pid=") {
        Some(i) => line[i + 5..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect(),
        None => String::new(),
    }
}

/// The process a line came from when a launcher tagged it (`[rank3]:`, `[default0]:`,
/// `(pid=123)`); the `[codec]` lines carry no pid of their own, so untagged lines share "".
fn tag_key(line: &str) -> String {
    let t = line.trim_start();
    if t.starts_with('[') {
        if let Some(end) = t.find("]:") {
            let tag = &t[1..end];
            if (tag.starts_with("rank") || tag.starts_with("default")) && !tag.contains(' ') {
                return tag.to_string();
            }
        }
    }
    if let Some(rest) = t.strip_prefix("(pid=") {
        return rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    }
    String::new()
}

/// Text after `marker` up to the last occurrence of `end` (or the end of the text).
fn between<'a>(text: &'a str, marker: &str, end: &str) -> Option<&'a str> {
    let i = text.find(marker)? + marker.len();
    let rest = &text[i..];
    match rest.rfind(end) {
        Some(j) => Some(&rest[..j]),
        None => None,
    }
}

fn field<'a>(text: &'a str, name: &str, end: &str) -> Option<&'a str> {
    let i = text.find(name)? + name.len();
    let rest = &text[i..];
    Some(match rest.find(end) {
        Some(j) => &rest[..j],
        None => rest,
    })
}

/// Python list-of-strings repr (`['a', "b'c"]`) into strings.
pub fn parse_py_str_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let q = chars[i];
        if q == '\'' || q == '"' {
            let mut cur = String::new();
            i += 1;
            while i < chars.len() && chars[i] != q {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                    cur.push(match chars[i] {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        c => c,
                    });
                } else {
                    cur.push(chars[i]);
                }
                i += 1;
            }
            out.push(cur);
        }
        i += 1;
    }
    out
}

/// Parses an evaluation log (stderr and/or stdout, any prefixes).
pub fn parse_eval_log(text: &str) -> EvalLog {
    let mut log = EvalLog::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut last_msg: HashMap<String, String> = HashMap::new();
    let mut i = 0;
    while i < lines.len() {
        let lineno = i + 1;
        let mut line = lines[i].trim_end_matches('\r').to_string();
        i += 1;
        // A root holding newlines splits one message over several lines: join them back.
        let need_end = if line.contains(USE_OFFLINE) {
            Some(" candidates=[")
        } else if line.contains(MISS) {
            Some(MISS_END)
        } else if line.contains(BUILT) {
            Some(" entries=")
        } else {
            None
        };
        if let Some(end) = need_end {
            let mut k = 0;
            while !line.contains(end) && i < lines.len() && k < 8 {
                line.push('\n');
                line.push_str(lines[i].trim_end_matches('\r'));
                i += 1;
                k += 1;
            }
        }
        let key = tag_key(&line);
        // The message without any logger prefix, for de-duplication (loguru + print).
        let msg_start = ["[codec]", "[generate_until]", "[convert_inputs]", PLAIN]
            .iter()
            .filter_map(|m| line.find(m))
            .min();
        let Some(ms) = msg_start else { continue };
        let msg = line[ms..].to_string();
        if last_msg.get(&key) == Some(&msg) {
            continue;
        }
        last_msg.insert(key.clone(), msg.clone());
        let m = msg.as_str();
        if m.starts_with("[codec]") {
            log.debug = true;
        }
        if let Some(rest) = m.strip_prefix(BUILT) {
            if let Some(j) = rest.rfind(" entries=") {
                let n = rest[j + 9..].trim().parse().unwrap_or(0);
                log.index_builds.push((rest[..j].to_string(), n));
                log.lines_used += 1;
            }
        } else if m.starts_with(USE_OFFLINE) {
            let Some(root) = between(m, "root=", " video=") else {
                continue;
            };
            let root = root.to_string();
            let after = &m[m.find(" video=").map(|x| x + 7).unwrap_or(m.len())..];
            let Some(ci) = after.rfind(" candidates=[") else {
                continue;
            };
            let video = after[..ci].to_string();
            let cands = field(&after[ci..], " candidates=", " (total=")
                .map(parse_py_str_list)
                .unwrap_or_default();
            log.add_root(&root);
            if let Some(prev) = pending.remove(&key) {
                // The previous lookup in this process ended with neither HIT nor MISS.
                let e = log.entry(&prev.video, lineno);
                e.silent_misses += 1;
                e.open_failures.extend(prev.failures);
                e.source("no-hit-no-miss");
            }
            let e = log.entry(&video, lineno);
            e.lookups += 1;
            e.candidates = cands;
            e.source("use-offline");
            pending.insert(
                key.clone(),
                Pending {
                    video,
                    failures: vec![],
                },
            );
            log.lines_used += 1;
        } else if let Some(rest) = m.strip_prefix(HIT) {
            let dir = field(rest, "", " images=").unwrap_or("").to_string();
            let images = field(rest, " images=", " ").and_then(|s| s.parse().ok());
            let npy = field(rest, " positions_npy=", " pos_shape=").map(|s| s.to_string());
            let shape = rest
                .rfind(" pos_shape=")
                .map(|j| rest[j + 11..].trim().to_string());
            if let Some(p) = pending.remove(&key) {
                let e = log.entry(&p.video, lineno);
                e.hits += 1;
                e.open_failures.extend(p.failures);
                if !e.dirs.contains(&dir) {
                    e.dirs.push(dir);
                }
                e.images = images.or(e.images);
                e.positions_npy = npy.filter(|s| s != "None");
                e.pos_shape = shape;
                e.source("hit-line");
            }
            log.lines_used += 1;
        } else if let Some(rest) = m.strip_prefix(MISS) {
            let body = rest.strip_suffix(MISS_END).unwrap_or(rest);
            let (video, root) = match body.rfind(" root=") {
                Some(j) => (&body[..j], &body[j + 6..]),
                None => (body, ""),
            };
            // The root may itself contain " root="; the video never follows it, so take the
            // first split when the pending video says so.
            let (video, root) = match pending.get(&key) {
                Some(p) if body.starts_with(&format!("{} root=", p.video)) => {
                    (p.video.as_str(), &body[p.video.len() + 6..])
                }
                _ => (video, root),
            };
            let video = video.to_string();
            let root = root.to_string();
            log.add_root(&root);
            let failures = match pending.remove(&key) {
                Some(p) if p.video == video => p.failures,
                Some(p) => {
                    let e = log.entry(&p.video, lineno);
                    e.silent_misses += 1;
                    e.source("no-hit-no-miss");
                    vec![]
                }
                None => vec![],
            };
            let e = log.entry(&video, lineno);
            e.misses += 1;
            e.open_failures.extend(failures);
            e.source("miss-line");
            log.lines_used += 1;
        } else if let Some(rest) = m.strip_prefix(FAILED) {
            if let Some(p) = pending.get_mut(&key) {
                p.failures.push(rest.to_string());
            }
            log.lines_used += 1;
        } else if let Some(rest) = m.strip_prefix(GU_OFF).or_else(|| m.strip_prefix(CI_OFF)) {
            let pid = proc_key(m);
            let mut body = rest;
            if let Some(j) = body.rfind(" pid=") {
                body = &body[..j];
            }
            let shape = body
                .rfind(" pos_shape=")
                .map(|j| body[j + 11..].to_string());
            if let Some(j) = body.rfind(" pos_shape=") {
                body = &body[..j];
            }
            let images = body
                .rfind(" images=")
                .and_then(|j| body[j + 8..].trim().parse().ok());
            if let Some(j) = body.rfind(" images=") {
                body = &body[..j];
            }
            let (video, dir) = match body.rfind(" dir=") {
                Some(j) => (&body[..j], &body[j + 5..]),
                None => (body, ""),
            };
            let video = video.to_string();
            let dir = dir.to_string();
            // Settle the pairing: this process's lookup of this video ended in a hit.
            let hit_line_seen = pending.values().all(|p| p.video != video)
                && log
                    .get(&video)
                    .map(|e| e.sources.contains(&"hit-line"))
                    .unwrap_or(false);
            pending.retain(|_, p| p.video != video);
            let e = log.entry(&video, lineno);
            if !hit_line_seen || e.hits == 0 {
                e.hits += 1;
            }
            if !dir.is_empty() && !e.dirs.contains(&dir) {
                e.dirs.push(dir);
            }
            e.images = images.or(e.images);
            if shape.is_some() {
                e.pos_shape = shape;
            }
            if !pid.is_empty() && !e.pids.contains(&pid) {
                e.pids.push(pid);
            }
            e.source("using-offline");
            log.lines_used += 1;
        } else if let Some(rest) = m.strip_prefix(GU_FE).or_else(|| m.strip_prefix(CI_FE)) {
            let pid = proc_key(m);
            let video = match rest
                .rfind(" extracted_frames=")
                .or_else(|| rest.rfind(" img_dir="))
            {
                Some(j) => &rest[..j],
                None => rest,
            }
            .to_string();
            let miss_line_seen = log
                .get(&video)
                .map(|e| e.sources.contains(&"miss-line") || e.silent_misses > 0)
                .unwrap_or(false);
            let failures: Vec<String> = pending
                .iter()
                .filter(|(_, p)| p.video == video)
                .flat_map(|(_, p)| p.failures.clone())
                .collect();
            let was_pending = pending.values().any(|p| p.video == video);
            pending.retain(|_, p| p.video != video);
            let e = log.entry(&video, lineno);
            if was_pending {
                // A lookup with neither HIT nor MISS that ends in extraction: a silent miss.
                e.silent_misses += 1;
                e.open_failures.extend(failures);
            } else if !miss_line_seen {
                e.misses += 1;
            }
            if !pid.is_empty() && !e.pids.contains(&pid) {
                e.pids.push(pid);
            }
            e.source("using-frame-extraction");
            log.lines_used += 1;
        } else if let Some(rest) = m.strip_prefix(PLAIN) {
            // print('Using offline visuals for video: ', V) puts two spaces before V.
            let video = rest.strip_prefix(' ').unwrap_or(rest).to_string();
            let e = log.entry(&video, lineno);
            if !e.sources.contains(&"hit-line") && !e.sources.contains(&"using-offline") {
                e.hits += 1;
            }
            e.source("using-offline-visuals");
            log.lines_used += 1;
        }
    }
    // Lookups still open at the end: silent misses when images failed, else unknown.
    for (_, p) in pending {
        if !p.failures.is_empty() {
            let e = log.entry(&p.video, 0);
            e.silent_misses += 1;
            e.open_failures.extend(p.failures);
            e.source("no-hit-no-miss");
        }
    }
    log
}
