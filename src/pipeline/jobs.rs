//! Turning dataset records into jobs, with each stage's own rules for ids, row indices,
//! sharding and `max_samples` (SPEC 1.1, 2.8).

use std::path::Path;

use serde_json::Value;

use super::logs::{failure_line, python_repr_error, AppendLog};
use super::shard::Shard;
use crate::formats::dataset::{python_str, Record, RecordStream, RecordText, StreamError};
use crate::formats::naming;

/// One record a stage will process.
#[derive(Debug, Clone)]
pub struct Job {
    /// 1-based line of the record in the dataset.
    pub line: u64,
    /// `str(id)`.
    pub id: String,
    /// The raw video string, used verbatim.
    pub video: String,
    pub row_idx: u64,
    /// The whole record, for stage 2 (conversations) and stage 1's `--shard_dataset_out_dir`.
    pub record: Value,
}

impl Job {
    pub fn sample_key(&self) -> String {
        naming::sample_key(&self.video, &self.id, self.row_idx)
    }
}

/// Why a record did not become a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Skip {
    /// Not valid JSON (upstream aborts the run; this is logged and the run goes on).
    Malformed {
        line: u64,
        message: String,
    },
    /// No id (stage 1: missing or null; stage 2: missing or "unknown") or no video.
    NoIdOrVideo {
        line: u64,
    },
    OtherShard,
}

/// Which stage's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Select,
    Pack,
}

/// Stateful planner: feed it records in order; it counts as upstream counts.
pub struct Planner {
    stage: Stage,
    shard: Shard,
    max_samples: u64,
    seen: u64,
    picked: u64,
    done: bool,
}

impl Planner {
    pub fn new(stage: Stage, shard: Shard, max_samples: u64) -> Self {
        Planner {
            stage,
            shard,
            max_samples,
            seen: 0,
            picked: 0,
            done: false,
        }
    }

    /// True once `max_samples` is reached: stop reading.
    pub fn done(&self) -> bool {
        self.done
    }

    pub fn plan(&mut self, rec: &RecordText) -> Result<Job, Skip> {
        self.seen += 1;
        // Stage 1 counts every record read against max_samples.
        if self.stage == Stage::Select && self.max_samples > 0 && self.seen > self.max_samples {
            self.done = true;
            return Err(Skip::OtherShard);
        }
        let line = rec.line;
        let value: Value = serde_json::from_slice(&rec.text).map_err(|e| Skip::Malformed {
            line,
            message: e.to_string(),
        })?;
        let parsed = Record::parse(&rec.text).map_err(|e| Skip::Malformed {
            line,
            message: e.to_string(),
        })?;
        let row_idx = parsed.row_index(self.seen - 1);
        let video = match parsed.video_str() {
            Some(v) => v.to_string(),
            None => return Err(Skip::NoIdOrVideo { line }),
        };
        let id = match self.stage {
            Stage::Select => parsed.id_string().ok_or(Skip::NoIdOrVideo { line })?,
            Stage::Pack => {
                // `str(it.get("id", "unknown"))`: a null id becomes "None".
                let id = value
                    .get("id")
                    .map(python_str)
                    .unwrap_or_else(|| "unknown".into());
                if id == "unknown" {
                    return Err(Skip::NoIdOrVideo { line });
                }
                id
            }
        };
        let key = naming::sample_key(&video, &id, row_idx);
        if naming::shard_of(&key, self.shard.count) != self.shard.id {
            return Err(Skip::OtherShard);
        }
        self.picked += 1;
        if self.stage == Stage::Pack && self.max_samples > 0 && self.picked > self.max_samples {
            self.done = true;
            return Err(Skip::OtherShard);
        }
        Ok(Job {
            line,
            id,
            video,
            row_idx,
            record: value,
        })
    }
}

/// Records that did not become jobs, for a run's summary.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SkipCounts {
    /// Lines that are not JSON (each logged to the failure log).
    pub malformed: u64,
    pub skipped_no_id_or_video: u64,
    pub other_shard: u64,
}

/// A dataset read as jobs under a stage's rules. Iterate it (by `&mut`), then call
/// [`JobStream::finish`] to log what could not be read.
pub struct JobStream {
    stream: RecordStream,
    planner: Planner,
    malformed: Vec<(u64, String)>,
    stream_error: Option<StreamError>,
    pub skipped: SkipCounts,
}

impl JobStream {
    pub fn open(
        dataset: &Path,
        stage: Stage,
        shard: Shard,
        max_samples: u64,
    ) -> std::io::Result<Self> {
        Ok(JobStream {
            stream: RecordStream::open(dataset)?,
            planner: Planner::new(stage, shard, max_samples),
            malformed: Vec::new(),
            stream_error: None,
            skipped: SkipCounts::default(),
        })
    }

    /// Logs malformed records (upstream would have aborted on the first) and returns the counts.
    pub fn finish(self, dataset: &Path, log: &AppendLog) -> std::io::Result<SkipCounts> {
        for (line, message) in &self.malformed {
            let detail = python_repr_error(
                "JSONDecodeError",
                &format!("{}:{line}: {message}", dataset.display()),
            );
            log.line(&failure_line(&format!("line{line}"), "", &detail))?;
        }
        if let Some(e) = &self.stream_error {
            log.line(&failure_line(
                "",
                "",
                &python_repr_error("ValueError", &e.to_string()),
            ))?;
        }
        Ok(self.skipped)
    }
}

impl Iterator for JobStream {
    type Item = Job;

    fn next(&mut self) -> Option<Job> {
        loop {
            if self.planner.done() || self.stream_error.is_some() {
                return None;
            }
            match self.stream.next()? {
                Err(e) => {
                    self.skipped.malformed += 1;
                    self.stream_error = Some(e);
                }
                Ok(rec) => match self.planner.plan(&rec) {
                    Ok(job) => return Some(job),
                    Err(Skip::Malformed { line, message }) => {
                        self.skipped.malformed += 1;
                        self.malformed.push((line, message));
                    }
                    Err(Skip::NoIdOrVideo { .. }) => self.skipped.skipped_no_id_or_video += 1,
                    Err(Skip::OtherShard) => self.skipped.other_shard += 1,
                },
            }
        }
    }
}

/// Stage 2's rewrite of the first human turn (SPEC 1.3): its first `<video>` becomes
/// `num_images` lines of `<image>`; a turn with `<image>` already is left alone; a turn with
/// neither gets the block and a newline prepended. Other turns are untouched.
pub fn rewrite_conversations(conversations: &Value, num_images: usize) -> Value {
    let Value::Array(turns) = conversations else {
        return conversations.clone();
    };
    let block = vec!["<image>"; num_images].join("\n");
    let mut replaced = false;
    let out = turns
        .iter()
        .map(|turn| {
            let mut turn = turn.clone();
            if replaced {
                return turn;
            }
            let Value::Object(map) = &mut turn else {
                return turn;
            };
            if map.get("from").and_then(Value::as_str) != Some("human") {
                return turn;
            }
            let Some(text) = map.get("value").and_then(Value::as_str).map(str::to_string) else {
                return turn;
            };
            replaced = true;
            if text.contains("<video>") {
                map.insert(
                    "value".into(),
                    Value::String(text.replacen("<video>", &block, 1)),
                );
            } else if !text.contains("<image>") {
                map.insert("value".into(), Value::String(format!("{block}\n{text}")));
            }
            turn
        })
        .collect();
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(line: u64, v: Value) -> RecordText {
        RecordText {
            ordinal: line - 1,
            line,
            text: serde_json::to_vec(&v).unwrap(),
        }
    }

    #[test]
    fn stage_rules_differ() {
        let mut s1 = Planner::new(Stage::Select, Shard::ALL, 0);
        let mut s2 = Planner::new(Stage::Pack, Shard::ALL, 0);
        let null_id = rec(1, json!({"id": null, "video": "a.mp4"}));
        assert!(s1.plan(&null_id).is_err());
        assert_eq!(s2.plan(&null_id).unwrap().id, "None");
        let unknown = rec(2, json!({"id": "unknown", "video": "a.mp4"}));
        assert_eq!(s1.plan(&unknown).unwrap().row_idx, 1);
        assert!(s2.plan(&unknown).is_err());
        let idx = rec(3, json!({"id": 5, "video": "b.mp4", "_row_idx": 40}));
        assert_eq!(s1.plan(&idx).unwrap().row_idx, 40);
        assert_eq!(
            s1.plan(&rec(4, json!({"id": 5, "video": ""}))).unwrap_err(),
            Skip::NoIdOrVideo { line: 4 }
        );
    }

    #[test]
    fn max_samples_counts_differently() {
        let mut s1 = Planner::new(Stage::Select, Shard::ALL, 1);
        assert!(s1.plan(&rec(1, json!({"video": "a.mp4"}))).is_err());
        assert!(s1
            .plan(&rec(2, json!({"id": 1, "video": "a.mp4"})))
            .is_err());
        assert!(s1.done());
        let mut s2 = Planner::new(Stage::Pack, Shard::ALL, 1);
        assert!(s2.plan(&rec(1, json!({"video": "a.mp4"}))).is_err());
        assert!(s2.plan(&rec(2, json!({"id": 1, "video": "a.mp4"}))).is_ok());
        assert!(!s2.done());
    }

    #[test]
    fn rewrite_rules() {
        let c = json!([{"from": "gpt", "value": "<video>"}, {"from": "human", "value": "<video>\nQ <video>"}, {"from": "human", "value": "<video>"}]);
        let r = rewrite_conversations(&c, 2);
        assert_eq!(r[0]["value"], "<video>");
        assert_eq!(r[1]["value"], "<image>\n<image>\nQ <video>");
        assert_eq!(r[2]["value"], "<video>");
        let c = json!([{"from": "human", "value": "Q"}]);
        assert_eq!(
            rewrite_conversations(&c, 2)[0]["value"],
            "<image>\n<image>\nQ"
        );
        let c = json!([{"from": "human", "value": "<image>\nQ"}]);
        assert_eq!(rewrite_conversations(&c, 8)[0]["value"], "<image>\nQ");
        let c = json!([{"from": "human", "value": 3}, {"from": "human", "value": "<video>"}]);
        assert_eq!(rewrite_conversations(&c, 1)[1]["value"], "<image>");
    }
}
