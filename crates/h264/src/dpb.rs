//! Decoded picture buffer: picture order count, reference marking,
//! reference list construction and output ordering.

use crate::error::{Error, Result};
use crate::frame::{PicData, RefPic};
use crate::params::Sps;
use crate::slice::{SliceHeader, SliceType};
use std::sync::Arc;

/// A reference picture held by the DPB.
pub struct DpbEntry {
    pub pic: Arc<PicData>,
    pub poc: i32,
    pub frame_num: u32,
    pub frame_num_wrap: i32,
    pub long_term_idx: Option<u32>,
}

/// POC state carried between pictures.
#[derive(Default, Clone, Copy)]
pub struct PocState {
    pub prev_msb: i32,
    pub prev_lsb: i32,
    pub prev_frame_num_offset: i32,
    pub prev_frame_num: u32,
}

impl PocState {
    /// Frames missing between the previous picture and one with `frame_num` (a gap
    /// in frame_num), 0 when none.
    pub fn frame_num_gap(&self, sps: &Sps, frame_num: u32) -> u32 {
        let max = 1u32 << sps.log2_max_frame_num;
        let prev = self.prev_frame_num % max;
        if frame_num == prev || frame_num == (prev + 1) % max {
            0
        } else {
            (frame_num + max - prev - 1) % max
        }
    }

    /// The state once the stand-ins filling a gap before `frame_num` are in.
    pub fn bridge_gap(&mut self, sps: &Sps, frame_num: u32) {
        let max = 1u32 << sps.log2_max_frame_num;
        self.prev_frame_num = (frame_num + max - 1) % max;
    }

    /// The state after picture `h`, whose [`compute_poc`] gave frame_num_offset `fno`
    /// and POC msb `msb` (a memory reset, MMCO 5, starts over).
    pub fn advance(&mut self, h: &SliceHeader, fno: i32, msb: i32) {
        let mmco5 = h.has_mmco5();
        if h.nal_ref_idc != 0 {
            (self.prev_msb, self.prev_lsb) = if mmco5 {
                (0, 0)
            } else {
                (msb, h.poc_lsb as i32)
            };
        }
        (self.prev_frame_num_offset, self.prev_frame_num) =
            if mmco5 { (0, 0) } else { (fno, h.frame_num) };
    }
}

/// Compute the picture order count of a frame (8.2.1). Returns
/// (poc, frame_num_offset, poc_msb).
pub fn compute_poc(sps: &Sps, h: &SliceHeader, st: &PocState) -> (i32, i32, i32) {
    let max_frame_num = 1i32 << sps.log2_max_frame_num;
    match sps.poc_type {
        0 => {
            let max_lsb = 1i32 << sps.log2_max_poc_lsb;
            let (pmsb, plsb) = if h.idr {
                (0, 0)
            } else {
                (st.prev_msb, st.prev_lsb)
            };
            let lsb = h.poc_lsb as i32;
            let msb = if lsb < plsb && plsb - lsb >= max_lsb / 2 {
                pmsb.wrapping_add(max_lsb)
            } else if lsb > plsb && lsb - plsb > max_lsb / 2 {
                pmsb.wrapping_sub(max_lsb)
            } else {
                pmsb
            };
            let top = msb.wrapping_add(lsb);
            let bottom = top.wrapping_add(h.delta_poc_bottom);
            (top.min(bottom), 0, msb)
        }
        1 => {
            let fno = if h.idr {
                0
            } else if st.prev_frame_num > h.frame_num {
                st.prev_frame_num_offset.wrapping_add(max_frame_num)
            } else {
                st.prev_frame_num_offset
            };
            let n = sps.offset_for_ref_frame.len() as i32;
            let mut abs = if n != 0 {
                fno.wrapping_add(h.frame_num as i32)
            } else {
                0
            };
            if h.nal_ref_idc == 0 && abs > 0 {
                abs -= 1;
            }
            let mut expected = 0i32;
            if abs > 0 {
                let delta_cycle: i32 = sps
                    .offset_for_ref_frame
                    .iter()
                    .fold(0i32, |a, &b| a.wrapping_add(b));
                let cycle = (abs - 1) / n;
                let in_cycle = (abs - 1) % n;
                expected = cycle.wrapping_mul(delta_cycle);
                for i in 0..=in_cycle as usize {
                    expected = expected.wrapping_add(sps.offset_for_ref_frame[i]);
                }
            }
            if h.nal_ref_idc == 0 {
                expected = expected.wrapping_add(sps.offset_for_non_ref_pic);
            }
            let top = expected.wrapping_add(h.delta_poc[0]);
            let bottom = top
                .wrapping_add(sps.offset_for_top_to_bottom_field)
                .wrapping_add(h.delta_poc[1]);
            (top.min(bottom), fno, 0)
        }
        _ => {
            let fno = if h.idr {
                0
            } else if st.prev_frame_num > h.frame_num {
                st.prev_frame_num_offset.wrapping_add(max_frame_num)
            } else {
                st.prev_frame_num_offset
            };
            let t = fno.wrapping_add(h.frame_num as i32).wrapping_mul(2);
            let poc = if h.idr {
                0
            } else if h.nal_ref_idc == 0 {
                t.wrapping_sub(1)
            } else {
                t
            };
            (poc, fno, 0)
        }
    }
}

#[derive(Default)]
pub struct Dpb {
    pub refs: Vec<DpbEntry>,
    pub max_long_term_idx: Option<u32>,
}

impl Dpb {
    pub fn clear(&mut self) {
        self.refs.clear();
        self.max_long_term_idx = None;
    }

    fn update_wrap(&mut self, frame_num: u32, max_frame_num: i32) {
        for e in self.refs.iter_mut() {
            e.frame_num_wrap = if e.frame_num > frame_num {
                e.frame_num as i32 - max_frame_num
            } else {
                e.frame_num as i32
            };
        }
    }

    /// Build the reference picture lists of a slice (8.2.4).
    pub fn build_lists(
        &mut self,
        h: &SliceHeader,
        sps: &Sps,
        cur_poc: i32,
    ) -> Result<[Vec<RefPic>; 2]> {
        let max_frame_num = 1i32 << sps.log2_max_frame_num;
        self.update_wrap(h.frame_num, max_frame_num);
        let mut lists: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        let short: Vec<usize> = (0..self.refs.len())
            .filter(|&i| self.refs[i].long_term_idx.is_none())
            .collect();
        let mut long: Vec<usize> = (0..self.refs.len())
            .filter(|&i| self.refs[i].long_term_idx.is_some())
            .collect();
        long.sort_by_key(|&i| self.refs[i].long_term_idx);
        match h.slice_type {
            SliceType::I => return Ok([Vec::new(), Vec::new()]),
            SliceType::P => {
                let mut s = short.clone();
                s.sort_by_key(|&i| -self.refs[i].frame_num_wrap);
                lists[0] = s;
                lists[0].extend(&long);
            }
            SliceType::B => {
                let mut before: Vec<usize> = short
                    .iter()
                    .copied()
                    .filter(|&i| self.refs[i].poc < cur_poc)
                    .collect();
                let mut after: Vec<usize> = short
                    .iter()
                    .copied()
                    .filter(|&i| self.refs[i].poc > cur_poc)
                    .collect();
                before.sort_by_key(|&i| std::cmp::Reverse(self.refs[i].poc));
                after.sort_by_key(|&i| self.refs[i].poc);
                let mut l0 = before.clone();
                l0.extend(&after);
                l0.extend(&long);
                let mut l1 = after;
                l1.extend(&before);
                l1.extend(&long);
                if l1.len() > 1 && l0 == l1 {
                    l1.swap(0, 1);
                }
                lists = [l0, l1];
            }
        }
        let mut out: [Vec<RefPic>; 2] = [Vec::new(), Vec::new()];
        for l in 0..2 {
            let n = h.num_ref_idx[l] as usize;
            if n == 0 {
                continue;
            }
            let mut list: Vec<Option<usize>> = lists[l].iter().map(|&i| Some(i)).collect();
            list.resize(n, None);
            list.truncate(n);
            // modification (8.2.4.3)
            let curr_pic_num = h.frame_num as i32;
            let mut pred = curr_pic_num;
            for (ref_idx, m) in h.ref_mods[l].iter().enumerate() {
                let target = if m.idc < 2 {
                    if m.value >= max_frame_num as u32 {
                        return Err(Error::invalid("abs_diff_pic_num out of range"));
                    }
                    let abs = m.value as i32 + 1;
                    let mut no_wrap = if m.idc == 0 { pred - abs } else { pred + abs };
                    if no_wrap < 0 {
                        no_wrap += max_frame_num;
                    } else if no_wrap >= max_frame_num {
                        no_wrap -= max_frame_num;
                    }
                    pred = no_wrap;
                    let pic_num = if no_wrap > curr_pic_num {
                        no_wrap - max_frame_num
                    } else {
                        no_wrap
                    };
                    (0..self.refs.len()).find(|&i| {
                        self.refs[i].long_term_idx.is_none()
                            && self.refs[i].frame_num_wrap == pic_num
                    })
                } else {
                    (0..self.refs.len()).find(|&i| self.refs[i].long_term_idx == Some(m.value))
                };
                let Some(t) = target else {
                    return Err(Error::invalid(
                        "reference list modification names a missing picture",
                    ));
                };
                if ref_idx >= n {
                    return Err(Error::invalid("too many reference list modifications"));
                }
                list.insert(ref_idx, Some(t));
                let mut k = ref_idx + 1;
                while k < list.len() {
                    if list[k] == Some(t) {
                        list.remove(k);
                    } else {
                        k += 1;
                    }
                }
                list.truncate(n);
                list.resize(n, None);
            }
            for (i, e) in list.iter().enumerate() {
                match e {
                    Some(k) => {
                        let r = &self.refs[*k];
                        out[l].push(RefPic {
                            pic: r.pic.clone(),
                            poc: r.poc,
                            long_term: r.long_term_idx.is_some(),
                        });
                    }
                    None => {
                        // keep indices valid; using this entry is an error later
                        if i == 0 {
                            return Err(Error::invalid(format!("reference list {l} is empty")));
                        }
                        let first = out[l][0].clone();
                        out[l].push(first);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Insert a stand-in for a frame missing from a gap in frame_num: a copy
    /// of the most recent short-term reference, marked by sliding window.
    /// Returns false when there is no picture to copy.
    pub fn insert_gap_frame(&mut self, sps: &Sps, frame_num: u32, id: i32) -> bool {
        let max_frame_num = 1i32 << sps.log2_max_frame_num;
        self.update_wrap(frame_num, max_frame_num);
        let Some(prev) = self
            .refs
            .iter()
            .filter(|e| e.long_term_idx.is_none())
            .max_by_key(|e| e.frame_num_wrap)
        else {
            return false;
        };
        let mut pic = (*prev.pic).clone();
        pic.id = id;
        let entry = DpbEntry {
            pic: Arc::new(pic),
            poc: prev.poc.wrapping_add(2),
            frame_num,
            frame_num_wrap: 0,
            long_term_idx: None,
        };
        self.sliding_window(sps);
        self.refs.push(entry);
        true
    }

    fn sliding_window(&mut self, sps: &Sps) {
        let max = (sps.max_num_ref_frames.max(1) as usize).min(16);
        while self.refs.len() >= max {
            let oldest = self
                .refs
                .iter()
                .enumerate()
                .filter(|(_, e)| e.long_term_idx.is_none())
                .min_by_key(|(_, e)| e.frame_num_wrap)
                .map(|(i, _)| i);
            match oldest {
                Some(i) => {
                    self.refs.remove(i);
                }
                None => break,
            }
        }
    }

    /// Reference marking after decoding a reference picture (8.2.5).
    pub fn mark(&mut self, h: &SliceHeader, sps: &Sps, entry: DpbEntry) {
        let max_frame_num = 1i32 << sps.log2_max_frame_num;
        let mut entry = entry;
        if h.idr {
            self.refs.clear();
            if h.long_term_reference {
                entry.long_term_idx = Some(0);
                self.max_long_term_idx = Some(0);
            } else {
                self.max_long_term_idx = None;
            }
            self.refs.push(entry);
            return;
        }
        self.update_wrap(h.frame_num, max_frame_num);
        let curr = h.frame_num as i32;
        if h.adaptive_marking {
            for m in &h.mmcos {
                match m.op {
                    1 => {
                        let pn = (curr as i64 - m.diff_pic_nums_minus1 as i64 - 1) as i32;
                        self.refs
                            .retain(|e| !(e.long_term_idx.is_none() && e.frame_num_wrap == pn));
                    }
                    2 => {
                        self.refs
                            .retain(|e| e.long_term_idx != Some(m.long_term_pic_num));
                    }
                    3 => {
                        let pn = (curr as i64 - m.diff_pic_nums_minus1 as i64 - 1) as i32;
                        let idx = m.long_term_frame_idx;
                        if let Some(p) = self
                            .refs
                            .iter()
                            .position(|e| e.long_term_idx.is_none() && e.frame_num_wrap == pn)
                        {
                            self.refs.retain(|e| e.long_term_idx != Some(idx));
                            if let Some(p2) = self
                                .refs
                                .iter()
                                .position(|e| e.long_term_idx.is_none() && e.frame_num_wrap == pn)
                            {
                                self.refs[p2].long_term_idx = Some(idx);
                            }
                            let _ = p;
                        }
                    }
                    4 => {
                        self.max_long_term_idx = m.max_long_term_frame_idx_plus1.checked_sub(1);
                        let max = self.max_long_term_idx;
                        self.refs.retain(|e| match (e.long_term_idx, max) {
                            (Some(i), Some(mx)) => i <= mx,
                            (Some(_), None) => false,
                            _ => true,
                        });
                    }
                    5 => {
                        self.refs.clear();
                        self.max_long_term_idx = None;
                    }
                    6 => {
                        let idx = m.long_term_frame_idx;
                        self.refs.retain(|e| e.long_term_idx != Some(idx));
                        entry.long_term_idx = Some(idx);
                    }
                    _ => {}
                }
            }
        } else {
            self.sliding_window(sps);
        }
        // keep the buffer bounded even for non-conforming marking
        while self.refs.len() >= 16 {
            let oldest = self
                .refs
                .iter()
                .enumerate()
                .filter(|(_, e)| e.long_term_idx.is_none())
                .min_by_key(|(_, e)| e.frame_num_wrap)
                .map(|(i, _)| i)
                .unwrap_or(0);
            self.refs.remove(oldest);
        }
        self.refs.push(entry);
    }
}
