//! Puts frames that leave the decoder in presentation order back into decode order.
//!
//! A frame with decode position `d` is released once every picture packet sent before it
//! has produced its frame (or is given up on: a packet sent more than `HORIZON` picture
//! packets ago will not produce a frame any more, as no decoder delays output that long).
//! The horizon counts packets sent, not positions, so packets left out do not age others.

use std::collections::BTreeMap;

const HORIZON: usize = 48;

#[derive(Debug)]
pub(crate) struct ReorderQueue<T> {
    /// Decode index -> how many packets had been sent when it was sent.
    pending: BTreeMap<usize, usize>,
    ready: BTreeMap<usize, Option<T>>,
    sent: usize,
}

impl<T> Default for ReorderQueue<T> {
    fn default() -> Self {
        ReorderQueue {
            pending: BTreeMap::new(),
            ready: BTreeMap::new(),
            sent: 0,
        }
    }
}

impl<T> ReorderQueue<T> {
    /// A picture packet went to the decoder and will produce a frame.
    pub fn expect(&mut self, decode_index: usize) {
        self.pending.insert(decode_index, self.sent);
        self.sent += 1;
        let sent = self.sent;
        self.pending.retain(|_, stamp| sent - *stamp <= HORIZON);
    }

    /// A frame arrived (with a payload when someone needs it).
    pub fn arrive(&mut self, decode_index: usize, payload: Option<T>) {
        self.pending.remove(&decode_index);
        self.ready.insert(decode_index, payload);
    }

    /// Payloads that can go on, in decode order.
    pub fn release(&mut self) -> Vec<T> {
        let limit = self.pending.keys().next().copied().unwrap_or(usize::MAX);
        let mut out = Vec::new();
        while let Some((&d, _)) = self.ready.first_key_value() {
            if d >= limit {
                break;
            }
            if let Some((_, Some(p))) = self.ready.pop_first() {
                out.push(p);
            }
        }
        out
    }

    /// Everything left, in decode order (end of stream).
    pub fn drain_all(&mut self) -> Vec<T> {
        self.pending.clear();
        self.release()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_decode_order() {
        // Decode order I0 P1 B2 B3 (P1 shown after B2, B3).
        let mut q = ReorderQueue::default();
        for d in 0..4 {
            q.expect(d);
        }
        q.arrive(0, Some(0));
        assert_eq!(q.release(), vec![0]);
        q.arrive(2, Some(2));
        assert!(q.release().is_empty());
        q.arrive(3, None);
        q.arrive(1, Some(1));
        assert_eq!(q.release(), vec![1, 2]);
        assert!(q.drain_all().is_empty());
    }
}
