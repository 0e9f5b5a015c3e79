//! Copies of small square blocks between planes (rows `stride` apart) and row-major
//! arrays, with one bounds check per block instead of one per row.

/// The `N x N` block (`LEN = N * N`) whose top-left sample is `data[at]`.
#[inline(always)]
pub fn load<const N: usize, const LEN: usize>(data: &[u8], stride: usize, at: usize) -> [u8; LEN] {
    const { assert!(LEN == N * N) };
    assert!(stride >= N);
    let mut out = [0u8; LEN];
    copy_rows::<N>(data, stride, at, N, &mut out);
    out
}

/// `rows` rows of `W` samples, the first at `data[at]` and `stride` apart, into the start of
/// `out` (row-major, `W` wide).
#[inline(always)]
pub fn copy_rows<const W: usize>(
    data: &[u8],
    stride: usize,
    at: usize,
    rows: usize,
    out: &mut [u8],
) {
    if rows == 0 {
        return;
    }
    assert!(at + (rows - 1) * stride + W <= data.len() && out.len() >= rows * W);
    // SAFETY: row r (r < rows) reads data[at + r * stride .. + W], which ends at or before
    // the end checked above, and writes out[r * W .. + W], inside the length checked above.
    unsafe {
        let src = data.as_ptr().add(at);
        for r in 0..rows {
            std::ptr::copy_nonoverlapping(src.add(r * stride), out.as_mut_ptr().add(r * W), W);
        }
    }
}

/// Writes `block` (`N x N`, `LEN = N * N`) with its top-left sample at `data[at]`.
#[inline(always)]
pub fn store<const N: usize, const LEN: usize>(
    data: &mut [u8],
    stride: usize,
    at: usize,
    block: &[u8; LEN],
) {
    const { assert!(LEN == N * N) };
    assert!(stride >= N && at + (N - 1) * stride + N <= data.len());
    // SAFETY: row r (r < N) writes data[at + r * stride .. at + r * stride + N], which ends
    // at or before the end checked above, from block[r * N .. r * N + N] inside LEN.
    unsafe {
        let dst = data.as_mut_ptr().add(at);
        for r in 0..N {
            std::ptr::copy_nonoverlapping(block.as_ptr().add(r * N), dst.add(r * stride), N);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bounds() {
        let data: Vec<u8> = (0..7 * 6).map(|i| i as u8).collect();
        // The block ending on the last sample.
        let b = load::<4, 16>(&data, 7, 2 * 7 + 3);
        assert_eq!(b[..4], [17, 18, 19, 20]);
        assert_eq!(b[12..], [38, 39, 40, 41]);
        let mut copy = vec![0u8; data.len()];
        store::<4, 16>(&mut copy, 7, 2 * 7 + 3, &b);
        assert_eq!(copy[38..42], data[38..42]);
        assert_eq!(copy[37], 0);
        let past_end = std::panic::catch_unwind(|| load::<4, 16>(&data, 7, 2 * 7 + 4));
        assert!(past_end.is_err());
    }
}
