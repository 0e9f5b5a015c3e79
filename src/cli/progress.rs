//! Progress for long runs: an indicatif bar on a terminal, a plain line now and then when
//! stderr is not one, nothing under `--json`/`--quiet`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: Option<Mutex<(Instant, u64)>>,
    label: String,
    total: Option<u64>,
}

const PLAIN_EVERY: Duration = Duration::from_secs(10);

impl Progress {
    /// `total` None shows a counter with a rate instead of a bar.
    pub fn new(label: &str, total: Option<u64>, quiet: bool) -> Self {
        let label = label.to_string();
        if quiet {
            return Progress {
                bar: None,
                plain: None,
                label,
                total,
            };
        }
        if !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                plain: Some(Mutex::new((Instant::now(), 0))),
                label,
                total,
            };
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} {per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} {pos} {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        if !color {
            bar.set_style(
                ProgressStyle::with_template("{msg} {pos} {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
        }
        bar.set_message(label.clone());
        Progress {
            bar: Some(bar),
            plain: None,
            label,
            total,
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if let Some(plain) = &self.plain {
            let mut st = plain.lock().unwrap_or_else(|e| e.into_inner());
            st.1 += n;
            if st.0.elapsed() >= PLAIN_EVERY {
                st.0 = Instant::now();
                match self.total {
                    Some(t) => eprintln!("{}: {}/{t}", self.label, st.1),
                    None => eprintln!("{}: {}", self.label, st.1),
                }
            }
        }
    }

    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
