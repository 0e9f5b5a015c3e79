//! Output names from dataset strings, kept inside the output root: an id or key that would
//! make a path outside it (`/`, `..`, NUL, over-long) is escaped, and the escape is reported.

use crate::formats::naming::{self, check_component, escape_component, MAX_NAME_BYTES};

/// A file or folder name derived from dataset data, with a note when it had to be escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeName {
    pub name: String,
    pub escaped: Option<String>,
}

/// Builds `make(id)` and, when the result is not one safe path component of at most
/// `MAX_NAME_BYTES - reserve` bytes, rebuilds it from an escaped id (hashed when long).
pub fn safe_name(id: &str, reserve: usize, make: impl Fn(&str) -> String) -> SafeName {
    let limit = MAX_NAME_BYTES.saturating_sub(reserve);
    let name = make(id);
    let problem = match check_component(&name) {
        Err(why) => Some(why.to_string()),
        Ok(()) if name.len() > limit => Some(format!(
            "is {} bytes long (at most {limit} here)",
            name.len()
        )),
        Ok(()) => None,
    };
    let Some(problem) = problem else {
        return SafeName {
            name,
            escaped: None,
        };
    };
    let overhead = make("").len();
    let escaped_id = escape_component(id, limit.saturating_sub(overhead).max(16));
    let mut name = make(&escaped_id);
    if name.len() > limit || check_component(&name).is_err() {
        // The other parts (a stem) are too long themselves: keep a hashed form.
        name = escape_component(&name.replace('/', "%2F"), limit);
    }
    SafeName {
        escaped: Some(format!("id `{id}` {problem}; written as `{name}`")),
        name,
    }
}

/// Stage 1's file prefix (without the directory) for one record, with `K` in it.
pub fn stage1_prefix(id: &str, video: &str, row_idx: u64, g: naming::Stage1Geometry) -> SafeName {
    // The longest suffix stage 1 appends is `.visidx_thw.npy`, plus a temporary-name margin.
    safe_name(id, 32, |id| naming::stage1_prefix(id, video, row_idx, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_hostile_ids() {
        let g = naming::Stage1Geometry {
            t: 64,
            square: 576,
            patch: 16,
            k: 10368,
        };
        let ok = stage1_prefix("abc", "v.mp4", 0, g);
        assert!(ok.escaped.is_none());
        let bad = stage1_prefix("../../etc/x", "v.mp4", 0, g);
        assert!(!bad.name.contains('/'), "{}", bad.name);
        assert!(bad.escaped.unwrap().contains("../../etc/x"));
        let long = stage1_prefix(&"y".repeat(600), "v.mp4", 0, g);
        assert!(long.name.len() <= MAX_NAME_BYTES - 32);
        let nul = stage1_prefix("a\0b", "v.mp4", 0, g);
        assert!(!nul.name.contains('\0'));
    }
}
