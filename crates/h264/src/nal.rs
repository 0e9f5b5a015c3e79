//! NAL unit framing: Annex B byte streams and AVCC (length-prefixed) packets.

use crate::error::{Error, Result};

/// Split an Annex B byte stream into NAL unit payloads (without start codes).
pub fn split_annexb(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let n = data.len();
    let mut i = 0;
    let mut start: Option<usize> = None;
    while i + 2 < n {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            if let Some(s) = start {
                let mut e = i;
                while e > s && data[e - 1] == 0 {
                    e -= 1;
                }
                if e > s {
                    out.push(&data[s..e]);
                }
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    if let Some(s) = start {
        let mut e = n;
        while e > s && data[e - 1] == 0 {
            e -= 1;
        }
        if e > s {
            out.push(&data[s..e]);
        }
    }
    out
}

/// Parse an `avcC` (AVCDecoderConfigurationRecord): returns the NAL length size
/// and the SPS/PPS NAL units it carries.
pub fn parse_avcc(extradata: &[u8]) -> Result<(usize, Vec<Vec<u8>>)> {
    let bad = || Error::invalid("truncated avcC record");
    if extradata.len() < 7 || extradata[0] != 1 {
        return Err(Error::invalid("not an avcC record"));
    }
    let nal_length_size = (extradata[4] & 3) as usize + 1;
    let mut pos = 5;
    let mut nals = Vec::new();
    for kind in 0..2 {
        let count = if kind == 0 {
            (*extradata.get(pos).ok_or_else(bad)? & 0x1f) as usize
        } else {
            *extradata.get(pos).ok_or_else(bad)? as usize
        };
        pos += 1;
        for _ in 0..count {
            let hi = *extradata.get(pos).ok_or_else(bad)? as usize;
            let lo = *extradata.get(pos + 1).ok_or_else(bad)? as usize;
            let len = hi << 8 | lo;
            pos += 2;
            let nal = extradata.get(pos..pos + len).ok_or_else(bad)?;
            nals.push(nal.to_vec());
            pos += len;
        }
    }
    Ok((nal_length_size, nals))
}

/// Split a length-prefixed packet into NAL units.
pub fn split_avcc(packet: &[u8], nal_length_size: usize) -> Result<Vec<&[u8]>> {
    if !(1..=4).contains(&nal_length_size) {
        return Err(Error::invalid("bad NAL length size"));
    }
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < packet.len() {
        let hdr = packet
            .get(pos..pos + nal_length_size)
            .ok_or_else(|| Error::invalid("truncated NAL length"))?;
        let len = hdr.iter().fold(0usize, |a, &b| a << 8 | b as usize);
        pos += nal_length_size;
        let nal = packet
            .get(pos..pos + len)
            .ok_or_else(|| Error::invalid("NAL unit exceeds packet"))?;
        if !nal.is_empty() {
            out.push(nal);
        }
        pos += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annexb() {
        let d = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4,
        ];
        let v = split_annexb(&d);
        assert_eq!(v, vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4][..]]);
    }

    #[test]
    fn avcc() {
        let ex = [1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 2, 0x67, 9, 1, 0, 1, 0x68];
        let (n, v) = parse_avcc(&ex).unwrap();
        assert_eq!(n, 4);
        assert_eq!(v, vec![vec![0x67, 9], vec![0x68]]);
        let p = [0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41];
        assert_eq!(split_avcc(&p, 4).unwrap().len(), 2);
        assert!(split_avcc(&[0, 0, 0, 9, 1], 4).is_err());
    }
}
