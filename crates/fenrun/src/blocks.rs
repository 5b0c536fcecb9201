//! An append-only list held in blocks: what a live period keeps of every
//! event for the rest of the period (the settlement's kept lines).
//!
//! A `Vec` grown by doubling holds up to as much room again as it has items,
//! and copies everything it holds at each doubling. Here every full block
//! holds exactly [`BLOCK`] items and
//! growing never copies a full block; only the first block grows by
//! doubling, so a small period does not take a whole block of room.

/// Items a full block holds.
const BLOCK: usize = if cfg!(test) { 4 } else { 1 << 16 };

/// A list of `T` held in blocks of [`BLOCK`] items (all full but the last).
#[derive(Debug, Clone)]
pub(crate) struct Blocks<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Blocks {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Copy> Blocks<T> {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Add `item` at the end.
    pub fn push(&mut self, item: T) {
        match self.blocks.last_mut() {
            Some(last) if last.len() < BLOCK => last.push(item),
            Some(_) => {
                let mut block = Vec::with_capacity(BLOCK);
                block.push(item);
                self.blocks.push(block);
            }
            None => self.blocks.push(vec![item]),
        }
        self.len += 1;
    }

    /// Item `i`, if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        self.blocks.get(i / BLOCK)?.get(i % BLOCK)
    }

    /// Items `from..to` (fewer if the list is shorter), across blocks.
    pub fn range(&self, from: usize, to: usize) -> impl Iterator<Item = &T> + '_ {
        let to = to.min(self.len);
        let first = from / BLOCK;
        self.blocks
            .iter()
            .skip(first)
            .enumerate()
            .flat_map(move |(k, block)| {
                let base = (first + k) * BLOCK;
                let a = from.saturating_sub(base).min(block.len());
                let b = to.saturating_sub(base).min(block.len());
                block.get(a..b).unwrap_or_default()
            })
            .take(to.saturating_sub(from))
    }

    /// The number of items at the start for which `pred` holds, `pred`
    /// holding for a prefix of the list (as [`slice::partition_point`]).
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        // The first block whose last item fails, then within it.
        let k = self
            .blocks
            .partition_point(|b| b.last().is_some_and(&mut pred));
        match self.blocks.get(k) {
            Some(block) => k * BLOCK + block.partition_point(pred),
            None => self.len,
        }
    }

    /// Room held beyond the items, in items (for tests).
    #[cfg(test)]
    fn slack(&self) -> usize {
        self.blocks.iter().map(|b| b.capacity() - b.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_cross_blocks_as_one_list() {
        let mut blocks = Blocks::default();
        let mut list = Vec::new();
        assert_eq!(blocks.len(), 0);
        assert_eq!(blocks.get(0), None);
        assert_eq!(blocks.range(0, 3).count(), 0);
        assert_eq!(blocks.partition_point(|_: &u32| true), 0);
        for i in 0..23u32 {
            blocks.push(i * 2);
            list.push(i * 2);
            assert_eq!(blocks.len(), list.len());
            // Only the last block has room, and never more than a block.
            assert!(blocks.slack() < BLOCK, "{}", blocks.slack());
            for from in 0..=list.len() + 1 {
                for to in 0..=list.len() + 2 {
                    let got: Vec<u32> = blocks.range(from, to).copied().collect();
                    let want = list.get(from..to.min(list.len())).unwrap_or_default();
                    assert_eq!(got, want, "{from}..{to} of {}", list.len());
                }
            }
            for x in 0..=(i * 2 + 2) {
                assert_eq!(
                    blocks.partition_point(|&v| v < x),
                    list.partition_point(|&v| v < x),
                    "below {x} of {}",
                    list.len()
                );
            }
        }
        for (i, v) in list.iter().enumerate() {
            assert_eq!(blocks.get(i), Some(v));
        }
        assert_eq!(blocks.get(list.len()), None);
        assert_eq!(blocks.blocks.len(), list.len().div_ceil(BLOCK));
    }
}
