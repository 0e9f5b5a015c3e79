//! Names the upstream scripts derive from dataset strings (SPEC 1.2-1.4), and the guard that
//! keeps every derived name inside its output root.

use sha1::{Digest, Sha1};

/// Python `pathlib.PurePosixPath(s)` rendered back to a string: empty and `.` components
/// dropped, repeated slashes folded, a trailing slash dropped, `..` kept, exactly two leading
/// slashes kept (POSIX). `""` and `"./"` become `"."`.
pub fn pathlib_normalise(path: &str) -> String {
    let (root, rest) = if path.starts_with("//") && !path.starts_with("///") {
        ("//", &path[2..])
    } else if path.starts_with('/') {
        ("/", path.trim_start_matches('/'))
    } else {
        ("", path)
    };
    let parts: Vec<&str> = rest
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    match (root, joined.is_empty()) {
        ("", true) => ".".to_string(),
        (r, _) => format!("{r}{joined}"),
    }
}

/// Python `PurePath(s).name`: the last component after normalisation (`""` for `.` or `/`).
pub fn file_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    let name = trimmed.rsplit('/').next().unwrap_or("");
    if name == "." {
        ""
    } else {
        name
    }
}

/// Python `PurePath(s).stem`: the file name without its last extension. A leading dot does
/// not start an extension and a trailing dot is not one (`.bashrc`, `a.` stay whole).
pub fn stem(path: &str) -> &str {
    let name = file_name(path);
    match name.rfind('.') {
        Some(i) if i > 0 && i < name.len() - 1 => &name[..i],
        _ => name,
    }
}

/// First 8 hex digits of the SHA-1 of the UTF-8 string.
pub fn h8(s: &str) -> String {
    let digest = Sha1::digest(s.as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The full SHA-1 hex digest (sharding uses its first 8 digits as an integer).
pub fn sha1_hex(s: &str) -> String {
    Sha1::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `"{video}|{id}|{row_idx}"` with the raw (un-normalised) video string.
pub fn sample_key(video: &str, id: &str, row_idx: u64) -> String {
    format!("{video}|{id}|{row_idx}")
}

/// Stage 1 and 2 shard of a record: `int(sha1(sample_key)[:8], 16) % num_shards`.
pub fn shard_of(sample_key: &str, num_shards: u32) -> u32 {
    if num_shards <= 1 {
        return 0;
    }
    let digest = Sha1::digest(sample_key.as_bytes());
    let head = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    head % num_shards
}

/// `sample_{id}__{stem}__{h8(video)}`: the stage 2 folder name, and the start of the stage 1
/// prefix. `video` is the raw string; it is normalised for the hash as upstream does.
pub fn stage2_folder_name(id: &str, video: &str) -> String {
    let norm = pathlib_normalise(video);
    format!("sample_{id}__{}__{}", stem(&norm), h8(&norm))
}

/// Geometry in the stage 1 file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage1Geometry {
    pub t: usize,
    pub square: usize,
    pub patch: usize,
    pub k: usize,
}

/// `sample_{id}__{stem}__{h8(video)}__{h8(sample_key)}_T{T}_square{S}_p{P}_K{K}`.
pub fn stage1_prefix(id: &str, video: &str, row_idx: u64, g: Stage1Geometry) -> String {
    let key = sample_key(video, id, row_idx);
    format!(
        "{}__{}_T{}_square{}_p{}_K{}",
        stage2_folder_name(id, video),
        h8(&key),
        g.t,
        g.square,
        g.patch,
        g.k
    )
}

/// Longest file name most file systems take, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// Why a name read from a dataset cannot be used as one path component as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeName {
    #[error("is empty")]
    Empty,
    #[error("is `.` or `..`")]
    Dots,
    #[error("contains a path separator `/`")]
    Separator,
    #[error("contains a NUL byte")]
    Nul,
    #[error("is {0} bytes long (at most {MAX_NAME_BYTES})")]
    TooLong(usize),
}

/// Checks that `name` is one safe path component (no `/`, no NUL, not `.`/`..`, not too long).
pub fn check_component(name: &str) -> Result<(), UnsafeName> {
    if name.is_empty() {
        Err(UnsafeName::Empty)
    } else if name == "." || name == ".." {
        Err(UnsafeName::Dots)
    } else if name.contains('/') {
        Err(UnsafeName::Separator)
    } else if name.contains('\0') {
        Err(UnsafeName::Nul)
    } else if name.len() > MAX_NAME_BYTES {
        Err(UnsafeName::TooLong(name.len()))
    } else {
        Ok(())
    }
}

/// Makes `name` one safe path component: `/` and NUL become `%2F` and `%00` (and `%` itself
/// `%25`, so the escape is reversible), `.`/`..` get a `%2E` dot, and a name over
/// `max_bytes` is cut at a character boundary and ends with `~` plus its `h8`, so two long
/// names stay distinct. Returns the name unchanged when it was safe.
pub fn escape_component(name: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(name.len());
    if name == "." || name == ".." {
        out.push_str("%2E");
        out.push_str(&name[1..]);
    } else if name.is_empty() {
        out.push_str("%");
    } else {
        for c in name.chars() {
            match c {
                '/' => out.push_str("%2F"),
                '\0' => out.push_str("%00"),
                '%' if name.contains(['/', '\0']) => out.push_str("%25"),
                c => out.push(c),
            }
        }
    }
    if out.len() > max_bytes {
        let suffix = format!("~{}", h8(name));
        let mut cut = max_bytes.saturating_sub(suffix.len());
        while cut > 0 && !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&suffix);
    }
    out
}

/// Natural sort key comparison (digit runs compared as numbers), as eval sorts image names.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut ai, mut bi) = (a.char_indices().peekable(), b.char_indices().peekable());
    loop {
        match (ai.peek().copied(), bi.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((_, ca)), Some((_, cb))) => {
                if ca.is_ascii_digit() && cb.is_ascii_digit() {
                    let na = take_digits(&mut ai);
                    let nb = take_digits(&mut bi);
                    let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                    let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                    if ord != Ordering::Equal {
                        return ord;
                    }
                } else {
                    if ca != cb {
                        return ca.cmp(&cb);
                    }
                    ai.next();
                    bi.next();
                }
            }
        }
    }
}

fn take_digits(it: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> String {
    let mut s = String::new();
    while let Some((_, c)) = it.peek().copied() {
        if !c.is_ascii_digit() {
            break;
        }
        s.push(c);
        it.next();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathlib_rules() {
        assert_eq!(pathlib_normalise("./a//b.mp4"), "a/b.mp4");
        assert_eq!(pathlib_normalise("a/b/"), "a/b");
        assert_eq!(pathlib_normalise("/x/./y"), "/x/y");
        assert_eq!(pathlib_normalise("//x"), "//x");
        assert_eq!(pathlib_normalise("///x"), "/x");
        assert_eq!(pathlib_normalise("../a"), "../a");
        assert_eq!(pathlib_normalise(""), ".");
        assert_eq!(pathlib_normalise("./"), ".");
    }

    #[test]
    fn stems() {
        assert_eq!(stem("videos/ytb_XwB-dkS5BVM.mp4"), "ytb_XwB-dkS5BVM");
        assert_eq!(stem("a.tar.gz"), "a.tar");
        assert_eq!(stem("dir/.hidden"), ".hidden");
        assert_eq!(stem("a."), "a.");
        assert_eq!(stem("dir/"), "dir");
        assert_eq!(stem("noext"), "noext");
    }

    #[test]
    fn hashes_and_names() {
        // sha1("abc") = a9993e36...
        assert_eq!(h8("abc"), "a9993e36");
        assert_eq!(shard_of("abc", 1), 0);
        assert_eq!(shard_of("abc", 7), 0xa9993e36u32 % 7);
        let g = Stage1Geometry {
            t: 64,
            square: 576,
            patch: 16,
            k: 10368,
        };
        let p = stage1_prefix("X", "./videos//v.mp4", 1, g);
        assert!(p.starts_with(&format!("sample_X__v__{}__", h8("videos/v.mp4"))));
        assert!(p.contains(&h8("./videos//v.mp4|X|1")));
        assert!(p.ends_with("_T64_square576_p16_K10368"));
    }

    #[test]
    fn components() {
        assert!(check_component("ok").is_ok());
        assert_eq!(check_component("a/b"), Err(UnsafeName::Separator));
        assert_eq!(check_component(".."), Err(UnsafeName::Dots));
        assert_eq!(check_component("a\0"), Err(UnsafeName::Nul));
        assert_eq!(escape_component("../etc/passwd", 255), "..%2Fetc%2Fpasswd");
        assert_eq!(escape_component("..", 255), "%2E.");
        let long = "x".repeat(400);
        let e = escape_component(&long, 255);
        assert_eq!(e.len(), 255);
        assert!(check_component(&e).is_ok());
        assert_eq!(escape_component("fine", 255), "fine");
    }

    #[test]
    fn natural_order() {
        let mut v = vec![
            "mosaic_010.jpg",
            "mosaic_002.jpg",
            "0_preview.png",
            "mosaic_1.jpg",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "0_preview.png",
                "mosaic_1.jpg",
                "mosaic_002.jpg",
                "mosaic_010.jpg"
            ]
        );
    }
}
