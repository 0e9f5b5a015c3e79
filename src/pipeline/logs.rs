//! Failure logs in upstream's format (`id<TAB>video<TAB>repr(error)`), appended as failures
//! happen so a killed run keeps what it logged.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An append-only log file, opened on first use.
pub struct AppendLog {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl AppendLog {
    pub fn new(path: PathBuf) -> Self {
        AppendLog {
            path,
            file: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line (a newline is added).
    pub fn line(&self, line: &str) -> io::Result<()> {
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            *guard = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        let f = guard.as_mut().expect("opened above");
        writeln!(f, "{line}")?;
        f.flush()
    }
}

/// Python's `repr()` of an exception carrying `message`, as upstream logs it:
/// `RuntimeError('...')`, with the quote Python would choose.
pub fn python_repr_error(kind: &str, message: &str) -> String {
    let one_line = message.replace('\n', "\\n").replace('\t', "\\t");
    if one_line.contains('\'') && !one_line.contains('"') {
        format!("{kind}(\"{one_line}\")")
    } else {
        format!("{kind}('{}')", one_line.replace('\'', "\\'"))
    }
}

/// `id<TAB>video<TAB>detail`.
pub fn failure_line(id: &str, video: &str, detail: &str) -> String {
    format!("{id}\t{video}\t{detail}")
}
