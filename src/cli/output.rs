//! Report output shared by the subcommands: human lines or JSON Lines with a
//! `{"type", "data"}` envelope on stdout, a per-code summary at the end.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::diagnose::{Finding, Severity};

/// Whether stderr may show colour (respects `NO_COLOR` and non-terminals).
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stderr().is_terminal()
}

/// Prints one JSON Lines record `{"type": kind, "data": data}`.
pub fn print_json<T: Serialize>(out: &mut impl Write, kind: &str, data: &T) -> io::Result<()> {
    #[derive(Serialize)]
    struct Envelope<'a, T> {
        #[serde(rename = "type")]
        kind: &'a str,
        data: &'a T,
    }
    serde_json::to_writer(&mut *out, &Envelope { kind, data })?;
    out.write_all(b"\n")
}

/// Collects findings as they come, prints them, and counts them per code.
pub struct FindingReport<W: Write> {
    out: W,
    json: bool,
    strict: bool,
    color: bool,
    counts: BTreeMap<(&'static str, Severity), usize>,
}

impl<W: Write> FindingReport<W> {
    pub fn new(out: W, json: bool, strict: bool) -> Self {
        FindingReport {
            out,
            json,
            strict,
            color: !json && use_color(),
            counts: BTreeMap::new(),
        }
    }

    /// The severity after `--strict` (warnings become errors).
    pub fn effective(&self, s: Severity) -> Severity {
        if self.strict && s == Severity::Warning {
            Severity::Error
        } else {
            s
        }
    }

    pub fn push(&mut self, f: &Finding) -> io::Result<()> {
        let sev = self.effective(f.severity);
        *self.counts.entry((f.code, sev)).or_default() += 1;
        if self.json {
            let mut f = f.clone();
            f.severity = sev;
            return print_json(&mut self.out, "finding", &f);
        }
        let label = match (sev, self.color) {
            (Severity::Error, true) => "\x1b[31merror\x1b[0m".to_string(),
            (Severity::Warning, true) => "\x1b[33mwarning\x1b[0m".to_string(),
            (s, _) => s.as_str().to_string(),
        };
        write!(
            self.out,
            "{label}[{}] {}: {}",
            f.code, f.location, f.message
        )?;
        if !f.hint.is_empty() {
            write!(self.out, "\n    hint: {}", f.hint)?;
        }
        writeln!(self.out)
    }

    pub fn errors(&self) -> usize {
        self.counts
            .iter()
            .filter(|((_, s), _)| *s == Severity::Error)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn warnings(&self) -> usize {
        self.counts
            .iter()
            .filter(|((_, s), _)| *s == Severity::Warning)
            .map(|(_, n)| n)
            .sum()
    }

    /// Prints the per-code table (human) or a summary object (JSON), with extra fields.
    pub fn finish(mut self, extra: serde_json::Value) -> io::Result<W> {
        if self.json {
            let by_code: BTreeMap<String, usize> = self
                .counts
                .iter()
                .map(|((c, s), n)| (format!("{}:{c}", s.as_str()), *n))
                .collect();
            let mut summary = serde_json::json!({
                "errors": self.errors(),
                "warnings": self.warnings(),
                "by_code": by_code,
            });
            if let (Some(obj), serde_json::Value::Object(more)) = (summary.as_object_mut(), extra) {
                obj.extend(more);
            }
            print_json(&mut self.out, "summary", &summary)?;
        } else {
            writeln!(self.out)?;
            if self.counts.is_empty() {
                writeln!(self.out, "no findings")?;
            } else {
                writeln!(self.out, "{:<9} {:<30} {:>8}", "severity", "code", "count")?;
                let mut rows: Vec<_> = self.counts.iter().collect();
                rows.sort_by(|a, b| {
                    b.0 .1
                        .cmp(&a.0 .1)
                        .then(b.1.cmp(a.1))
                        .then(a.0 .0.cmp(b.0 .0))
                });
                for ((code, sev), n) in rows {
                    writeln!(self.out, "{:<9} {:<30} {:>8}", sev.as_str(), code, n)?;
                }
            }
            if let serde_json::Value::Object(more) = extra {
                let parts: Vec<String> = more.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                writeln!(self.out, "{}", parts.join(", "))?;
            }
            writeln!(
                self.out,
                "{} errors, {} warnings",
                self.errors(),
                self.warnings()
            )?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}
