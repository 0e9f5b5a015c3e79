//! Outputs are written to a temporary name beside the target and renamed into place, so a
//! killed run never leaves a half-written file under the real name.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// A temporary name in the same directory (same file system, so the rename is atomic).
/// It starts with a dot, so eval's image globs (which skip dotfiles) never pick it up.
pub fn temp_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = format!(".{name}.tmp{}", std::process::id());
    path.with_file_name(tmp)
}

/// Creates the file through `write` under a temporary name, then renames it to `path`.
pub fn write_atomic(path: &Path, write: impl FnOnce(File) -> io::Result<()>) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let tmp = temp_path_for(path);
    let result = File::create(&tmp)
        .and_then(write)
        .and_then(|_| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes bytes atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |mut f| io::Write::write_all(&mut f, bytes))
}
