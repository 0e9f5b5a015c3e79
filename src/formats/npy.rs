//! The pipeline's `.npy` arrays: `(K,3)` int32 `(t,h,w)` rows, `(T,)` int32 frame ids and
//! int64 visible indices. Parsing is ndarray-npy's; this module adds errors that say what a
//! file holds versus what the pipeline expects.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyError, ReadNpyExt, WriteNpyExt};

use super::atomic::write_atomic;

/// One selected patch: `[t, h, w]`, `t` an index into the sampled frames.
pub type Thw = [i32; 3];

/// What an `.npy` header says, read without loading the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyInfo {
    /// NumPy dtype string such as `<i4`.
    pub dtype: String,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Bytes of data the header promises.
    pub data_bytes_expected: Option<u64>,
    /// Bytes of data the file actually holds after its header.
    pub data_bytes_present: u64,
}

impl NpyInfo {
    pub fn shape_string(&self) -> String {
        shape_string(&self.shape)
    }

    /// Item size in bytes, from the dtype string's digits (`<i4` is 4).
    pub fn item_size(&self) -> Option<u64> {
        self.dtype
            .trim_start_matches(['<', '>', '|', '='])
            .get(1..)?
            .parse()
            .ok()
    }

    pub fn is_integer(&self) -> bool {
        let kind = self.dtype.trim_start_matches(['<', '>', '|', '=']);
        kind.starts_with('i') || kind.starts_with('u')
    }

    pub fn is_truncated(&self) -> bool {
        self.data_bytes_expected
            .is_some_and(|e| self.data_bytes_present < e)
    }
}

pub fn shape_string(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// An array file that is not what the pipeline expects.
#[derive(Debug)]
pub struct NpyError {
    pub path: PathBuf,
    pub problem: NpyProblem,
}

#[derive(Debug)]
pub enum NpyProblem {
    Io(std::io::Error),
    /// Not an `.npy` file, or a header NumPy would not write.
    Header(String),
    WrongDtype {
        found: String,
        expected: &'static str,
    },
    WrongShape {
        found: Vec<usize>,
        expected: &'static str,
    },
    FortranOrder,
    Truncated {
        expected_bytes: u64,
        present_bytes: u64,
    },
    TrailingBytes(u64),
    Data(String),
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        match &self.problem {
            NpyProblem::Io(e) => write!(f, "{p}: {e}"),
            NpyProblem::Header(e) => write!(f, "{p}: not a readable .npy file ({e})"),
            NpyProblem::WrongDtype { found, expected } => {
                write!(f, "{p}: dtype is {found}, expected {expected}")
            }
            NpyProblem::WrongShape { found, expected } => {
                write!(f, "{p}: shape is {}, expected {expected}", shape_string(found))
            }
            NpyProblem::FortranOrder => write!(f, "{p}: stored in Fortran order, expected C order"),
            NpyProblem::Truncated { expected_bytes, present_bytes } => write!(
                f,
                "{p}: truncated: the header promises {expected_bytes} bytes of data, the file holds {present_bytes}"
            ),
            NpyProblem::TrailingBytes(n) => write!(f, "{p}: {n} unexpected bytes after the data"),
            NpyProblem::Data(e) => write!(f, "{p}: {e}"),
        }
    }
}

impl std::error::Error for NpyError {}

fn err(path: &Path, problem: NpyProblem) -> NpyError {
    NpyError {
        path: path.to_path_buf(),
        problem,
    }
}

/// Reads only the header (and the file size) of an `.npy` file.
pub fn inspect(path: &Path) -> Result<NpyInfo, NpyError> {
    let file = File::open(path).map_err(|e| err(path, NpyProblem::Io(e)))?;
    let file_len = file
        .metadata()
        .map_err(|e| err(path, NpyProblem::Io(e)))?
        .len();
    let mut reader = BufReader::new(file);
    let header = Header::from_reader(&mut reader)
        .map_err(|e| err(path, NpyProblem::Header(e.to_string())))?;
    let header_len = header.to_bytes().map(|b| b.len() as u64).unwrap_or(0);
    let dtype = header
        .type_descriptor
        .to_string()
        .trim_matches(['\'', '"'])
        .to_string();
    let mut info = NpyInfo {
        dtype,
        fortran_order: header.layout.is_fortran(),
        shape: header.shape.clone(),
        data_bytes_expected: None,
        data_bytes_present: file_len.saturating_sub(header_len),
    };
    let elems = header
        .shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    info.data_bytes_expected = match (elems, info.item_size()) {
        (Some(n), Some(size)) => n.checked_mul(size),
        _ => None,
    };
    Ok(info)
}

fn map_read_error(path: &Path, e: ReadNpyError) -> NpyError {
    match e {
        ReadNpyError::Io(e) => err(path, NpyProblem::Io(e)),
        ReadNpyError::MissingData => match inspect(path) {
            Ok(info) => err(
                path,
                NpyProblem::Truncated {
                    expected_bytes: info.data_bytes_expected.unwrap_or(0),
                    present_bytes: info.data_bytes_present,
                },
            ),
            Err(e) => e,
        },
        ReadNpyError::ExtraBytes(n) => err(path, NpyProblem::TrailingBytes(n as u64)),
        other => err(path, NpyProblem::Data(other.to_string())),
    }
}

/// Checks dtype, order, shape and length against what the pipeline writes, before loading.
fn expect(path: &Path, dtypes: &[&str], expected_dtype: &'static str) -> Result<NpyInfo, NpyError> {
    let info = inspect(path)?;
    if !dtypes.contains(&info.dtype.as_str()) {
        return Err(err(
            path,
            NpyProblem::WrongDtype {
                found: info.dtype,
                expected: expected_dtype,
            },
        ));
    }
    if info.fortran_order && info.shape.len() > 1 {
        return Err(err(path, NpyProblem::FortranOrder));
    }
    if let Some(expected_bytes) = info.data_bytes_expected {
        if info.data_bytes_present < expected_bytes {
            return Err(err(
                path,
                NpyProblem::Truncated {
                    expected_bytes,
                    present_bytes: info.data_bytes_present,
                },
            ));
        }
    }
    Ok(info)
}

fn open(path: &Path) -> Result<BufReader<File>, NpyError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| err(path, NpyProblem::Io(e)))
}

/// Reads `(K, 3)` int32 `(t, h, w)` rows, the only form the pipeline writes.
pub fn read_rows(path: &Path) -> Result<Vec<Thw>, NpyError> {
    let info = expect(path, &["<i4"], "<i4 (int32)")?;
    if info.shape.len() != 2 || info.shape[1] != 3 {
        return Err(err(
            path,
            NpyProblem::WrongShape {
                found: info.shape,
                expected: "(K, 3)",
            },
        ));
    }
    let arr = Array2::<i32>::read_npy(open(path)?).map_err(|e| map_read_error(path, e))?;
    Ok(arr.rows().into_iter().map(|r| [r[0], r[1], r[2]]).collect())
}

/// Reads rows of any integer dtype, C or Fortran order, `(K,3)` or `(1,K,3)`: what NumPy and
/// torch would still load. For linting files that `read_rows` rejects.
pub fn read_rows_lenient(path: &Path) -> Result<Vec<[i64; 3]>, NpyError> {
    let info = inspect(path)?;
    let k = match info.shape.as_slice() {
        [k, 3] | [1, k, 3] => *k,
        _ => {
            return Err(err(
                path,
                NpyProblem::WrongShape {
                    found: info.shape,
                    expected: "(K, 3)",
                },
            ))
        }
    };
    let flat: Vec<i64> = match info.dtype.as_str() {
        "<i4" => ndarray::ArrayD::<i32>::read_npy(open(path)?)
            .map_err(|e| map_read_error(path, e))?
            .iter()
            .map(|&v| v as i64)
            .collect(),
        "<i8" => ndarray::ArrayD::<i64>::read_npy(open(path)?)
            .map_err(|e| map_read_error(path, e))?
            .iter()
            .copied()
            .collect(),
        "<i2" => ndarray::ArrayD::<i16>::read_npy(open(path)?)
            .map_err(|e| map_read_error(path, e))?
            .iter()
            .map(|&v| v as i64)
            .collect(),
        "<u2" | "|u1" | "|i1" | "<u4" => {
            return Err(err(
                path,
                NpyProblem::WrongDtype {
                    found: info.dtype,
                    expected: "<i4 (int32)",
                },
            ))
        }
        _ => {
            return Err(err(
                path,
                NpyProblem::WrongDtype {
                    found: info.dtype,
                    expected: "an integer dtype",
                },
            ))
        }
    };
    // ArrayD iterates in logical (row-major) order whatever the storage order.
    Ok((0..k)
        .map(|i| [flat[i * 3], flat[i * 3 + 1], flat[i * 3 + 2]])
        .collect())
}

/// Reads `(T,)` int32 frame ids.
pub fn read_frame_ids(path: &Path) -> Result<Vec<i32>, NpyError> {
    let info = expect(path, &["<i4"], "<i4 (int32)")?;
    if info.shape.len() != 1 {
        return Err(err(
            path,
            NpyProblem::WrongShape {
                found: info.shape,
                expected: "(T,)",
            },
        ));
    }
    let arr = Array1::<i32>::read_npy(open(path)?).map_err(|e| map_read_error(path, e))?;
    Ok(arr.to_vec())
}

/// Reads `(N,)` int64 visible indices.
pub fn read_visible_indices(path: &Path) -> Result<Vec<i64>, NpyError> {
    let info = expect(path, &["<i8"], "<i8 (int64)")?;
    if info.shape.len() != 1 {
        return Err(err(
            path,
            NpyProblem::WrongShape {
                found: info.shape,
                expected: "(N,)",
            },
        ));
    }
    let arr = Array1::<i64>::read_npy(open(path)?).map_err(|e| map_read_error(path, e))?;
    Ok(arr.to_vec())
}

fn write_array<A: WriteNpyExt>(path: &Path, array: &A) -> std::io::Result<()> {
    write_atomic(path, |file| {
        let mut w = BufWriter::new(file);
        array.write_npy(&mut w).map_err(std::io::Error::other)?;
        w.flush()
    })
}

/// Writes `(K, 3)` int32 rows atomically.
pub fn write_rows(path: &Path, rows: &[Thw]) -> std::io::Result<()> {
    let flat: Vec<i32> = rows.iter().flatten().copied().collect();
    let arr = Array2::from_shape_vec((rows.len(), 3), flat).map_err(std::io::Error::other)?;
    write_array(path, &arr)
}

/// Writes `(T,)` int32 frame ids atomically.
pub fn write_frame_ids(path: &Path, ids: &[i32]) -> std::io::Result<()> {
    write_array(path, &Array1::from_vec(ids.to_vec()))
}

/// Writes `(N,)` int64 values atomically.
pub fn write_i64(path: &Path, values: &[i64]) -> std::io::Result<()> {
    write_array(path, &Array1::from_vec(values.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rows.npy");
        let rows = vec![[0, 1, 2], [3, 4, 5]];
        write_rows(&p, &rows).unwrap();
        assert_eq!(read_rows(&p).unwrap(), rows);
        let info = inspect(&p).unwrap();
        assert_eq!(info.dtype, "<i4");
        assert_eq!(info.shape, vec![2, 3]);
        assert!(!info.is_truncated());

        // int64 rows: strict read names both dtypes, lenient read works.
        let p64 = dir.path().join("rows64.npy");
        write_i64(&p64, &[0, 1, 2, 3, 4, 5]).unwrap();
        let e = read_rows(&p64).unwrap_err().to_string();
        assert!(
            e.contains("<i8") && e.contains("<i4") && e.contains("rows64.npy"),
            "{e}"
        );

        // Truncated data.
        let bytes = std::fs::read(&p).unwrap();
        let pt = dir.path().join("trunc.npy");
        std::fs::write(&pt, &bytes[..bytes.len() - 5]).unwrap();
        let e = read_rows(&pt).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");

        // Not an npy at all.
        let pj = dir.path().join("junk.npy");
        std::fs::write(&pj, b"hello").unwrap();
        assert!(read_rows(&pj)
            .unwrap_err()
            .to_string()
            .contains("not a readable .npy"));

        let pf = dir.path().join("ids.npy");
        write_frame_ids(&pf, &[0, 7, 15]).unwrap();
        assert_eq!(read_frame_ids(&pf).unwrap(), vec![0, 7, 15]);
        let e = read_rows(&pf).unwrap_err().to_string();
        assert!(e.contains("(3,)") && e.contains("(K, 3)"), "{e}");
    }
}
