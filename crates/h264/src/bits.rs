//! Bit reader over RBSP data and emulation-prevention removal.

use crate::error::{Error, Result};

/// Remove emulation prevention bytes (0x000003 -> 0x0000).
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        if b == 0 {
            zeros += 1;
        } else {
            zeros = 0;
        }
        out.push(b);
    }
    out
}

/// MSB-first bit reader with checked reads.
#[derive(Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    len: usize,
    /// Position of the rbsp_stop_one_bit (last 1 bit), if any.
    stop: Option<usize>,
}

fn eos() -> Error {
    Error::invalid("unexpected end of bitstream")
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let stop = data
            .iter()
            .rposition(|&b| b != 0)
            .map(|i| i * 8 + 7 - data[i].trailing_zeros() as usize);
        BitReader {
            data,
            pos: 0,
            len: data.len() * 8,
            stop,
        }
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Peek up to 32 bits; bits past the end read as zero.
    #[inline]
    pub fn peek(&self, n: u32) -> u32 {
        debug_assert!(n <= 32);
        if n == 0 {
            return 0;
        }
        let byte = self.pos >> 3;
        let mut v: u64 = 0;
        for i in 0..8 {
            v <<= 8;
            if let Some(&b) = self.data.get(byte + i) {
                v |= b as u64;
            }
        }
        let shift = self.pos & 7;
        ((v << shift) >> (64 - n)) as u32
    }

    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<()> {
        if self.pos + n > self.len {
            return Err(eos());
        }
        self.pos += n;
        Ok(())
    }

    #[inline]
    pub fn u(&mut self, n: u32) -> Result<u32> {
        if n == 0 {
            return Ok(0);
        }
        if self.pos + n as usize > self.len {
            return Err(eos());
        }
        let v = self.peek(n);
        self.pos += n as usize;
        Ok(v)
    }

    #[inline]
    pub fn flag(&mut self) -> Result<bool> {
        Ok(self.u(1)? != 0)
    }

    /// Unsigned Exp-Golomb.
    pub fn ue(&mut self) -> Result<u32> {
        let mut zeros = 0u32;
        while self.u(1)? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(Error::invalid("exp-golomb code too long"));
            }
        }
        if zeros == 0 {
            return Ok(0);
        }
        let rest = self.u(zeros)? as u64;
        let v = (1u64 << zeros) - 1 + rest;
        if v > u32::MAX as u64 {
            return Err(Error::invalid("exp-golomb value overflow"));
        }
        Ok(v as u32)
    }

    /// Unsigned Exp-Golomb bounded to `max`.
    pub fn ue_max(&mut self, max: u32, what: &str) -> Result<u32> {
        let v = self.ue()?;
        if v > max {
            return Err(Error::invalid(format!("{what} out of range: {v} > {max}")));
        }
        Ok(v)
    }

    /// Signed Exp-Golomb.
    pub fn se(&mut self) -> Result<i32> {
        let k = self.ue()? as i64;
        let v = if k & 1 == 1 { (k + 1) / 2 } else { -(k / 2) };
        Ok(v as i32)
    }

    pub fn se_range(&mut self, min: i32, max: i32, what: &str) -> Result<i32> {
        let v = self.se()?;
        if v < min || v > max {
            return Err(Error::invalid(format!("{what} out of range: {v}")));
        }
        Ok(v)
    }

    pub fn align(&mut self) {
        self.pos = (self.pos + 7) & !7;
    }

    /// True when more data precedes the rbsp trailing bits.
    pub fn more_rbsp_data(&self) -> bool {
        match self.stop {
            Some(l) => self.pos < l,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golomb() {
        // 1 | 010 | 011 | 00100 | 00101
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = BitReader::new(&data);
        assert_eq!(r.ue().unwrap(), 0);
        assert_eq!(r.ue().unwrap(), 1);
        assert_eq!(r.ue().unwrap(), 2);
        assert_eq!(r.se().unwrap(), 2);
        assert_eq!(r.se().unwrap(), -2);
        assert!(r.ue().is_err());
    }

    #[test]
    fn unescape() {
        assert_eq!(unescape_rbsp(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
    }
}
