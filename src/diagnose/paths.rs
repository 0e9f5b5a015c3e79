//! Resolving paths read from a dataset: prefix remaps for data that moved machines, and
//! relative paths tried against the working directory, then the dataset's own folder.

use std::path::{Path, PathBuf};

/// `--remap FROM=TO`: a path starting with `FROM` is read as starting with `TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    pub from: String,
    pub to: String,
}

impl std::str::FromStr for Remap {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((from, to)) if !from.is_empty() => Ok(Remap {
                from: from.to_string(),
                to: to.to_string(),
            }),
            _ => Err(format!(
                "`{s}` is not FROM=TO (FROM a path prefix, TO its new location)"
            )),
        }
    }
}

/// How dataset paths are turned into files on this machine.
#[derive(Debug, Clone, Default)]
pub struct PathResolver {
    /// Longest `from` first, so the most specific remap wins.
    remaps: Vec<Remap>,
    /// Folders a relative path is tried against, in order.
    bases: Vec<PathBuf>,
}

impl PathResolver {
    pub fn new(mut remaps: Vec<Remap>, dataset: Option<&Path>) -> Self {
        remaps.sort_by_key(|r| std::cmp::Reverse(r.from.len()));
        let mut bases = vec![PathBuf::from(".")];
        if let Some(dir) = dataset
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
        {
            bases.push(dir.to_path_buf());
        }
        PathResolver { remaps, bases }
    }

    /// The path after remapping (not checked for existence).
    pub fn remapped(&self, raw: &str) -> String {
        for r in &self.remaps {
            if let Some(rest) = raw.strip_prefix(&r.from) {
                return format!("{}{rest}", r.to);
            }
        }
        raw.to_string()
    }

    /// The first existing candidate, else the first candidate (for the error message).
    pub fn resolve(&self, raw: &str) -> PathBuf {
        let p = PathBuf::from(self.remapped(raw));
        if p.is_absolute() {
            return p;
        }
        self.bases
            .iter()
            .map(|b| b.join(&p))
            .find(|c| c.exists())
            .unwrap_or(p)
    }
}
