//! Which frames a pass must produce, decided from the demux-only packet scan.
//!
//! Stage 1's `N` is the number of decoded frames. The scan predicts it as the number of
//! packets that carry a picture; the decode pass checks the prediction and a second pass
//! runs when it was wrong. When every picture packet has a distinct timestamp, the
//! presentation position of each packet is its timestamp's rank, so frames can be named
//! before they are decoded and non-reference pictures nobody needs can be skipped.

use super::source::PacketInfo;
use crate::analysis::sample_frame_ids;

/// How output frames are given their presentation index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Indexing {
    /// Rank of the packet's timestamp among all picture packets (per packet index).
    ByTimestamp(Vec<Option<usize>>),
    /// The order frames leave the decoder.
    ByOutputOrder,
}

/// The frames one pass works on.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Predicted number of frames.
    pub n: usize,
    pub frame_ids: Vec<i32>,
    /// Per presentation index: sampled.
    pub sampled: Vec<bool>,
    /// Per presentation index: must be decoded (sampled, or needed by the residual).
    pub needed: Vec<bool>,
    pub indexing: Indexing,
    /// Per packet: may be left out entirely (see [`Plan::compute_drops`]).
    pub droppable: Vec<bool>,
    /// Unneeded non-reference pictures may be skipped (see [`Plan::compute_drops`]).
    pub skip_nonref: bool,
    /// Per packet, with timestamp ranks: the earliest rank of any later packet
    /// (`usize::MAX` for none).
    pub later_rank_floor: Vec<usize>,
}

/// Packets that produce a picture: not discarded by the demuxer nor, by their slice
/// headers, never output and, when slice headers could be read at all, holding a slice.
pub(crate) fn picture_packets(packets: &[PacketInfo]) -> Vec<bool> {
    let any_slice = packets.iter().any(|p| p.slice.has_slice);
    packets
        .iter()
        .map(|p| !p.discard && !p.never_shown && (p.slice.has_slice || !any_slice))
        .collect()
}

/// Whether the scan read the decoder's output order from the slice headers (some picture
/// has an output key).
pub(crate) fn output_order_read(packets: &[PacketInfo]) -> bool {
    packets.iter().any(|p| p.output_key.is_some())
}

/// Per packet (decode order), the earliest rank of any later packet (`usize::MAX` for
/// none): no later frame is shown before it.
pub(crate) fn later_rank_floors(ranks: &[Option<usize>]) -> Vec<usize> {
    let mut floor = vec![usize::MAX; ranks.len()];
    for d in (0..ranks.len().saturating_sub(1)).rev() {
        floor[d] = floor[d + 1].min(ranks[d + 1].unwrap_or(usize::MAX));
    }
    floor
}

/// Presentation ranks from timestamps, when every picture packet has a distinct one and,
/// where the scan read the slice headers (H.264, HEVC), timestamps order the pictures as
/// the decoder outputs them (by period and POC): ranks then name pictures that are never
/// decoded too.
pub(crate) fn timestamp_ranks(packets: &[PacketInfo]) -> Option<Vec<Option<usize>>> {
    let pic = picture_packets(packets);
    let mut keyed: Vec<(i64, usize)> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if pic[i] {
            keyed.push((p.pts?, i));
        }
    }
    keyed.sort_unstable();
    if keyed.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    if output_order_read(packets) {
        let keys: Option<Vec<(u32, i32)>> =
            keyed.iter().map(|&(_, i)| packets[i].output_key).collect();
        if keys?.windows(2).any(|w| w[0] >= w[1]) {
            return None;
        }
    }
    let mut ranks = vec![None; packets.len()];
    for (r, &(_, i)) in keyed.iter().enumerate() {
        ranks[i] = Some(r);
    }
    Some(ranks)
}

impl Plan {
    /// A plan for `n` frames sampling `t` of them from `start`; `with_previous` also needs
    /// the frame before each sampled one (frame difference).
    pub fn new(n: usize, t: usize, start: i64, with_previous: bool, indexing: Indexing) -> Plan {
        let frame_ids = sample_frame_ids(n, t, start);
        let mut sampled = vec![false; n];
        for &f in &frame_ids {
            sampled[f as usize] = true;
        }
        let mut needed = sampled.clone();
        if with_previous {
            for &f in &frame_ids {
                if f > 0 {
                    needed[f as usize - 1] = true;
                }
            }
        }
        let later_rank_floor = match &indexing {
            Indexing::ByTimestamp(ranks) => later_rank_floors(ranks),
            Indexing::ByOutputOrder => Vec::new(),
        };
        Plan {
            n,
            frame_ids,
            sampled,
            needed,
            indexing,
            droppable: Vec::new(),
            skip_nonref: false,
            later_rank_floor,
        }
    }

    /// The earliest presentation index of any frame after packet `d` in decode order, when
    /// frames are named by timestamp (`usize::MAX` when none follows).
    pub fn later_display_floor(&self, d: usize) -> Option<usize> {
        self.later_rank_floor.get(d).copied()
    }

    /// Presentation index of a frame given its packet and output positions.
    pub fn presentation_index(
        &self,
        decode_index: Option<usize>,
        output_index: usize,
    ) -> Option<usize> {
        match &self.indexing {
            Indexing::ByOutputOrder => Some(output_index),
            Indexing::ByTimestamp(r) => decode_index.and_then(|d| r.get(d).copied().flatten()),
        }
    }

    /// Whether a packet's picture may be dropped (non-reference and not needed). Only
    /// possible when frames are named by timestamp and [`Plan::compute_drops`] allowed it.
    pub fn may_skip(&self, packet_index: usize, info: &PacketInfo) -> bool {
        if !self.skip_nonref {
            return false;
        }
        match &self.indexing {
            Indexing::ByOutputOrder => false,
            Indexing::ByTimestamp(r) => {
                info.slice.has_slice
                    && !info.slice.is_reference
                    && r.get(packet_index)
                        .copied()
                        .flatten()
                        .is_some_and(|p| p < self.n && !self.needed[p])
            }
        }
    }

    /// Marks the packets nothing needed depends on: no needed frame is decoded at or after
    /// them before the next IDR picture (which resets every reference) or the end of the
    /// stream, and allows skipping unneeded non-reference pictures. Only when frames are
    /// named by timestamp (dropped frames still count in `N`) and the scan read the
    /// decoder's output order from the slice headers: a picture whose timestamp is out of
    /// that order, left undecoded, would shift the numbers of the frames around it unseen.
    pub fn compute_drops(&mut self, packets: &[PacketInfo]) {
        self.skip_nonref = output_order_read(packets);
        let ranks = match &self.indexing {
            Indexing::ByTimestamp(ranks) if self.skip_nonref => ranks,
            _ => {
                self.droppable.clear();
                return;
            }
        };
        let mut droppable = vec![false; packets.len()];
        let mut pending = false;
        for i in (0..packets.len()).rev() {
            if ranks
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|p| self.is_needed(p))
            {
                pending = true;
            }
            droppable[i] = !pending;
            if packets[i].slice.is_idr {
                pending = false;
            }
        }
        self.droppable = droppable;
    }

    /// What the decoder should do with packet `index`.
    pub fn action(&self, index: usize, info: &PacketInfo) -> super::decode::PacketAction {
        use super::decode::PacketAction;
        if self.droppable.get(index).copied().unwrap_or(false) {
            PacketAction::Drop
        } else if self.may_skip(index, info) {
            PacketAction::SkipNonRef
        } else {
            PacketAction::Decode
        }
    }

    pub fn is_sampled(&self, p: usize) -> bool {
        self.sampled.get(p).copied().unwrap_or(false)
    }

    pub fn is_needed(&self, p: usize) -> bool {
        self.needed.get(p).copied().unwrap_or(false)
    }
}
