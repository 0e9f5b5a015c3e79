//! Streaming readers for datasets: a top-level JSON array (`.json`) or JSON Lines (`.jsonl`).
//! Memory stays constant whatever the file size: each record's text is cut out of the stream
//! and parsed on its own, so a malformed record is reported with its line and record number
//! and reading goes on (upstream aborts the whole run on one).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// How a dataset file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetLayout {
    JsonArray,
    Jsonl,
}

impl DatasetLayout {
    /// Upstream's rule: by suffix (`.jsonl` or `.json`, case-insensitive). Other suffixes are
    /// sniffed from the first non-blank byte instead of aborting.
    pub fn of(path: &Path) -> io::Result<Self> {
        match path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .as_deref()
        {
            Some("jsonl") => Ok(DatasetLayout::Jsonl),
            Some("json") => Ok(DatasetLayout::JsonArray),
            _ => {
                let mut buf = [0u8; 4096];
                let n = File::open(path)?.read(&mut buf)?;
                match buf[..n].iter().find(|b| !b.is_ascii_whitespace()) {
                    Some(b'[') => Ok(DatasetLayout::JsonArray),
                    _ => Ok(DatasetLayout::Jsonl),
                }
            }
        }
    }
}

/// One record's text, cut out of the stream.
#[derive(Debug, Clone)]
pub struct RecordText {
    /// 0-based count of records seen so far (malformed ones included).
    pub ordinal: u64,
    /// 1-based line where the record starts.
    pub line: u64,
    pub text: Vec<u8>,
}

/// A record that could not be cut out of the stream at all (the array is broken past repair).
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct StreamError {
    pub path: PathBuf,
    pub line: u64,
    pub message: String,
}

/// Iterates over the records of a dataset file without loading it whole.
pub struct RecordStream {
    path: PathBuf,
    layout: DatasetLayout,
    reader: BufReader<File>,
    line: u64,
    ordinal: u64,
    started: bool,
    done: bool,
}

impl RecordStream {
    pub fn open(path: &Path) -> io::Result<Self> {
        let layout = DatasetLayout::of(path)?;
        let file = File::open(path)?;
        Ok(RecordStream {
            path: path.to_path_buf(),
            layout,
            reader: BufReader::with_capacity(1 << 20, file),
            line: 1,
            ordinal: 0,
            started: false,
            done: false,
        })
    }

    pub fn layout(&self) -> DatasetLayout {
        self.layout
    }

    /// Up to `n` records, for parallel work on a batch; a stream error ends the batch and
    /// the stream. An empty batch without error means the end.
    pub fn next_batch(&mut self, n: usize) -> (Vec<RecordText>, Option<StreamError>) {
        let mut batch = Vec::with_capacity(n.min(1 << 16));
        while batch.len() < n {
            match self.next() {
                Some(Ok(rec)) => batch.push(rec),
                Some(Err(e)) => return (batch, Some(e)),
                None => break,
            }
        }
        (batch, None)
    }

    fn fail(&mut self, message: impl Into<String>) -> Option<Result<RecordText, StreamError>> {
        self.done = true;
        Some(Err(StreamError {
            path: self.path.clone(),
            line: self.line,
            message: message.into(),
        }))
    }

    fn next_jsonl(&mut self) -> Option<Result<RecordText, StreamError>> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match self.reader.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return self.fail(e.to_string()),
            }
            let line = self.line;
            self.line += 1;
            let trimmed = trim_ascii(&buf);
            if trimmed.is_empty() {
                continue;
            }
            let rec = RecordText {
                ordinal: self.ordinal,
                line,
                text: trimmed.to_vec(),
            };
            self.ordinal += 1;
            return Some(Ok(rec));
        }
    }

    fn peek_byte(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn bump(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek_byte()?;
        if let Some(b) = b {
            self.reader.consume(1);
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }

    fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.peek_byte()? {
                Some(b) if b.is_ascii_whitespace() => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    fn next_array_element(&mut self) -> Option<Result<RecordText, StreamError>> {
        let result: io::Result<Option<Result<RecordText, StreamError>>> = (|| {
            if !self.started {
                self.started = true;
                match self.skip_ws()? {
                    Some(b'[') => {
                        self.bump()?;
                    }
                    None => return Ok(None),
                    Some(_) => {
                        return Ok(
                            self.fail("expected a JSON array (the file does not start with `[`)")
                        )
                    }
                }
            }
            loop {
                match self.skip_ws()? {
                    None => {
                        return Ok(self.fail(
                            "the JSON array is not closed (no `]` before the end of the file)",
                        ))
                    }
                    Some(b']') => {
                        self.done = true;
                        return Ok(None);
                    }
                    Some(b',') => {
                        self.bump()?;
                    }
                    Some(_) => break,
                }
            }
            // Cut one value: track nesting and strings so commas inside it do not end it.
            let line = self.line;
            let mut text = Vec::new();
            let (mut depth, mut in_str, mut escaped) = (0i64, false, false);
            loop {
                let Some(b) = self.peek_byte()? else {
                    if depth == 0 && !in_str && !text.is_empty() {
                        break;
                    }
                    return Ok(self.fail("the file ends inside a record"));
                };
                if in_str {
                    self.bump()?;
                    text.push(b);
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_str = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => depth -= 1,
                    b',' | b']' if depth == 0 => break,
                    b'}' => {}
                    _ => {}
                }
                self.bump()?;
                text.push(b);
                if depth == 0 && !in_str && matches!(b, b'}' | b']') {
                    break;
                }
            }
            let rec = RecordText {
                ordinal: self.ordinal,
                line,
                text: trim_ascii(&text).to_vec(),
            };
            self.ordinal += 1;
            Ok(Some(Ok(rec)))
        })();
        match result {
            Ok(r) => r,
            Err(e) => self.fail(e.to_string()),
        }
    }
}

impl Iterator for RecordStream {
    type Item = Result<RecordText, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.layout {
            DatasetLayout::Jsonl => self.next_jsonl(),
            DatasetLayout::JsonArray => self.next_array_element(),
        }
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

/// One conversation turn.
#[derive(Debug, Clone, Deserialize)]
pub struct Turn<'a> {
    #[serde(default, borrow)]
    pub from: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub value: Option<&'a serde_json::value::RawValue>,
}

impl Turn<'_> {
    /// The turn's text when it is a JSON string.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        let raw = self.value?;
        if raw.get().starts_with('"') {
            serde_json::from_str::<Cow<'_, str>>(raw.get()).ok()
        } else {
            None
        }
    }
}

/// The fields of a record this project reads; everything else is ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct Record<'a> {
    /// `Some(Value::Null)` for an explicit null, `None` when absent.
    #[serde(default, deserialize_with = "present")]
    pub id: Option<Value>,
    #[serde(default)]
    pub video: Option<Value>,
    #[serde(default, borrow)]
    pub conversations: Option<Vec<Turn<'a>>>,
    #[serde(default)]
    pub image: Option<Value>,
    #[serde(default)]
    pub positions_thw: Option<Value>,
    #[serde(default, rename = "_row_idx")]
    pub row_idx: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub key: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub exists: Option<Value>,
}

/// Keeps an explicit JSON null as `Some(Value::Null)` (plain `Option` would fold it into
/// `None`), since upstream treats a null id differently from a missing one.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Record<'_> {
    pub fn parse(text: &[u8]) -> Result<Record<'_>, serde_json::Error> {
        serde_json::from_slice(text)
    }

    /// Stage 1's row index: `int(_row_idx)` when Python's `int()` accepts it, else the
    /// record's ordinal.
    pub fn row_index(&self, ordinal: u64) -> u64 {
        match &self.row_idx {
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.is_finite() && *f >= 0.0)
                        .map(|f| f.trunc() as u64)
                })
                .unwrap_or(ordinal),
            Some(Value::Bool(b)) => *b as u64,
            Some(Value::String(s)) => s.trim().parse::<u64>().unwrap_or(ordinal),
            _ => ordinal,
        }
    }

    /// `str(id)` as upstream writes it, or `None` when the id is missing or null (stage 1
    /// skips such records).
    pub fn id_string(&self) -> Option<String> {
        match &self.id {
            None | Some(Value::Null) => None,
            Some(v) => Some(python_str(v)),
        }
    }

    /// The `video` string, when present and non-empty.
    pub fn video_str(&self) -> Option<&str> {
        match &self.video {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// The `image` field as a list of paths: a single string is a one-image sample.
    pub fn images(&self) -> Option<Vec<&str>> {
        match &self.image {
            Some(Value::String(s)) => Some(vec![s.as_str()]),
            Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_str).collect()),
            _ => None,
        }
    }

    /// Count of `token` over every turn's text.
    pub fn count_token(&self, token: &str) -> usize {
        self.conversations
            .iter()
            .flatten()
            .filter_map(|t| t.text())
            .map(|s| s.matches(token).count())
            .sum()
    }
}

/// Python's `str()` of a JSON value, for ids: strings as they are, `True`/`False`, `None`,
/// integers in decimal, floats as Python prints them (`1.0`, `1e+20`).
pub fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                n.to_string()
            } else {
                python_float_repr(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        other => other.to_string(),
    }
}

fn python_float_repr(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else if f.is_finite() && (f.abs() >= 1e16 || (f != 0.0 && f.abs() < 1e-4)) {
        let s = format!("{f:e}");
        // Rust writes 1e20, Python 1e+20 and 1e-05.
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(name: &str, content: &str) -> Vec<Result<RecordText, StreamError>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        RecordStream::open(&p).unwrap().collect()
    }

    #[test]
    fn json_array_streaming() {
        let recs = collect(
            "d.json",
            "[\n {\"id\": 1, \"s\": \"a,]}\\\"\"},\n {\"id\": 2}, {bad}\n]",
        );
        assert_eq!(recs.len(), 3);
        let r0 = recs[0].as_ref().unwrap();
        assert_eq!(r0.line, 2);
        assert_eq!(Record::parse(&r0.text).unwrap().id_string().unwrap(), "1");
        let r2 = recs[2].as_ref().unwrap();
        assert_eq!(r2.ordinal, 2);
        assert!(Record::parse(&r2.text).is_err());
        assert!(collect("e.json", "[{\"id\": 1}").last().unwrap().is_err());
        assert!(collect("f.json", "{\"id\": 1}").last().unwrap().is_err());
        assert!(collect("g.json", "  ").is_empty());
    }

    #[test]
    fn jsonl_streaming() {
        let recs = collect(
            "d.jsonl",
            "{\"id\": \"a\"}\n\n  \n{oops\n{\"id\": null, \"_row_idx\": \"7\"}\n",
        );
        let recs: Vec<_> = recs.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            recs.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![1, 4, 5]
        );
        assert!(Record::parse(&recs[1].text).is_err());
        let r = Record::parse(&recs[2].text).unwrap();
        assert_eq!(r.id_string(), None);
        assert_eq!(r.row_index(2), 7);
    }

    #[test]
    fn python_strings() {
        assert_eq!(python_str(&serde_json::json!(1.0)), "1.0");
        assert_eq!(python_str(&serde_json::json!(12)), "12");
        assert_eq!(python_str(&serde_json::json!(1e20)), "1e+20");
        assert_eq!(python_str(&serde_json::json!(true)), "True");
        assert_eq!(python_str(&serde_json::json!(2.5)), "2.5");
    }

    #[test]
    fn tokens_and_images() {
        let text = br#"{"id": 3, "conversations": [{"from": "human", "value": "<image>\n<image>\nQ"}, {"from": "gpt", "value": "A"}], "image": ["a.jpg", "b.jpg"]}"#;
        let r = Record::parse(text).unwrap();
        assert_eq!(r.count_token("<image>"), 2);
        assert_eq!(r.images().unwrap(), vec!["a.jpg", "b.jpg"]);
    }
}
