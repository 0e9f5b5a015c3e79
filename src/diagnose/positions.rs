//! Lints for a `positions_thw.npy` file: what training and eval would do with it.

use std::path::Path;

use super::{Finding, Severity};
use crate::formats::npy::{self, NpyProblem};

/// The grid the rows must fit: `t < frames`, `h < hb`, `w < wb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub frames: usize,
    pub hb: usize,
    pub wb: usize,
}

impl Geometry {
    pub const DEFAULT: Geometry = Geometry {
        frames: 64,
        hb: 36,
        wb: 36,
    };

    pub fn s_total(&self) -> usize {
        self.hb * self.wb
    }
}

/// Lints rows already loaded: range, duplicates, order, count. At most one finding per kind,
/// naming the first offending row, so a broken file does not flood the report.
pub fn lint_rows(
    rows: &[[i64; 3]],
    geo: Geometry,
    expected_len: Option<usize>,
    loc: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(expected) = expected_len {
        if rows.len() != expected {
            out.push(
                Finding::error(
                    "positions-row-count",
                    loc,
                    format!("{} rows, expected {expected}", rows.len()),
                )
                .with_hint(
                    "training needs one row per visual token: images x 1296 (or the stage 1 K)",
                ),
            );
        }
    }
    let bad = rows.iter().position(|&[t, h, w]| {
        t < 0
            || h < 0
            || w < 0
            || t as usize >= geo.frames
            || h as usize >= geo.hb
            || w as usize >= geo.wb
    });
    if let Some(i) = bad {
        let count = rows
            .iter()
            .filter(|&&[t, h, w]| {
                t < 0
                    || h < 0
                    || w < 0
                    || t as usize >= geo.frames
                    || h as usize >= geo.hb
                    || w as usize >= geo.wb
            })
            .count();
        out.push(Finding::error(
            "positions-out-of-range",
            loc,
            format!(
                "{count} rows outside t<{}, h<{}, w<{}; first is row {i} = {:?}",
                geo.frames, geo.hb, geo.wb, rows[i]
            ),
        ));
    }
    if let Some(i) = rows.windows(2).position(|w| w[0] > w[1]) {
        out.push(
            Finding::error(
                "positions-unsorted",
                loc,
                format!(
                    "row {} = {:?} comes after row {i} = {:?}; rows must be sorted by (t, h, w)",
                    i + 1,
                    rows[i + 1],
                    rows[i]
                ),
            )
            .with_hint("stage 2 and precompute write positions sorted by (t, h, w)"),
        );
    }
    let mut sorted = rows.to_vec();
    sorted.sort_unstable();
    let dups = sorted.windows(2).filter(|w| w[0] == w[1]).count();
    if dups > 0 {
        let first = sorted
            .windows(2)
            .find(|w| w[0] == w[1])
            .map(|w| w[0])
            .unwrap_or_default();
        out.push(Finding::error(
            "positions-duplicate-rows",
            loc,
            format!("{dups} duplicated rows, e.g. {first:?}"),
        ));
    }
    out
}

/// Lints a positions file: header (dtype, order, shape, truncation), then its rows.
pub fn lint_file(path: &Path, geo: Geometry, expected_len: Option<usize>) -> Vec<Finding> {
    let loc = path.display().to_string();
    let info = match npy::inspect(path) {
        Ok(info) => info,
        Err(e) => {
            let code = match e.problem {
                NpyProblem::Io(ref io) if io.kind() == std::io::ErrorKind::NotFound => {
                    "missing-positions"
                }
                _ => "positions-unreadable",
            };
            return vec![Finding::error(code, &loc, e.to_string())];
        }
    };
    let mut out = Vec::new();
    if info.is_truncated() {
        out.push(Finding::error(
            "positions-truncated",
            &loc,
            format!(
                "truncated: the header promises {} bytes of data, the file holds {}",
                info.data_bytes_expected.unwrap_or(0),
                info.data_bytes_present
            ),
        ));
        return out;
    }
    if !info.is_integer() {
        out.push(Finding::error(
            "positions-dtype",
            &loc,
            format!("dtype {} is not an integer type", info.dtype),
        ));
        return out;
    }
    if info.dtype != "<i4" {
        out.push(
            Finding::warning(
                "positions-dtype",
                &loc,
                format!("dtype {}, the pipeline writes <i4 (int32)", info.dtype),
            )
            .with_hint("numpy and torch load it, but it is not what upstream writes"),
        );
    }
    if info.fortran_order && info.shape.len() > 1 {
        out.push(Finding::warning(
            "positions-fortran-order",
            &loc,
            "stored in Fortran order; the pipeline writes C order",
        ));
    }
    match npy::read_rows_lenient(path) {
        Ok(rows) => out.extend(lint_rows(&rows, geo, expected_len, &loc)),
        Err(e) => {
            let code = match e.problem {
                NpyProblem::WrongShape { .. } => "positions-shape",
                _ => "positions-unreadable",
            };
            out.push(Finding::new(Severity::Error, code, &loc, e.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_lints() {
        let g = Geometry::DEFAULT;
        assert!(lint_rows(&[[0, 0, 0], [0, 0, 1]], g, Some(2), "x").is_empty());
        let codes = |rows: &[[i64; 3]], n| {
            lint_rows(rows, g, n, "x")
                .iter()
                .map(|f| f.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(&[[0, 0, 1], [0, 0, 0]], None),
            vec!["positions-unsorted"]
        );
        assert_eq!(
            codes(&[[0, 0, 1], [0, 0, 1]], None),
            vec!["positions-duplicate-rows"]
        );
        assert_eq!(codes(&[[64, 0, 1]], None), vec!["positions-out-of-range"]);
        assert_eq!(codes(&[[0, 0, -1]], None), vec!["positions-out-of-range"]);
        assert_eq!(codes(&[[0, 0, 1]], Some(1296)), vec!["positions-row-count"]);
    }
}
