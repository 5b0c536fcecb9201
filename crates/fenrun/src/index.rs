//! An index from id strings to positions in a list that already holds them.
//!
//! A table of `u32` positions (five bytes a slot with its control byte) instead
//! of a map from borrowed `&str` (sixteen bytes of key a slot): ten million
//! event ids take about 80 MB instead of about 500 MB, and a lookup compares the
//! probed id against the list only when the hash's tag matches.

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};

/// Positions of ids in a list, keyed by the ids' text.
#[derive(Debug)]
pub(crate) struct IdIndex {
    table: HashTable<u32>,
    /// Seeded per index, so inputs cannot be crafted to collide.
    state: foldhash::fast::RandomState,
}

impl IdIndex {
    pub fn with_capacity(n: usize) -> IdIndex {
        IdIndex {
            table: HashTable::with_capacity(n),
            state: foldhash::fast::RandomState::default(),
        }
    }

    /// Record that `id` is at position `at`, unless an earlier position holds it:
    /// then that position is returned. `name(i)` is the id at position `i`.
    pub fn insert<'n>(
        &mut self,
        id: &str,
        at: u32,
        name: impl Fn(u32) -> &'n str,
    ) -> Result<(), u32> {
        let hash = self.state.hash_one(id);
        let state = &self.state;
        match self
            .table
            .entry(hash, |&i| name(i) == id, |&i| state.hash_one(name(i)))
        {
            Entry::Occupied(first) => Err(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(at);
                Ok(())
            }
        }
    }

    /// The position of `id`, if it was inserted.
    #[inline]
    pub fn get<'n>(&self, id: &str, name: impl Fn(u32) -> &'n str) -> Option<u32> {
        let hash = self.state.hash_one(id);
        self.table.find(hash, |&i| name(i) == id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::IdIndex;

    #[test]
    fn finds_what_was_inserted_and_names_the_first_of_a_duplicate() {
        let ids = ["m1", "m2", "m10", "m2"];
        let name = |i: u32| ids[i as usize];
        let mut index = IdIndex::with_capacity(1);
        assert_eq!(index.insert("m1", 0, name), Ok(()));
        assert_eq!(index.insert("m2", 1, name), Ok(()));
        assert_eq!(index.insert("m10", 2, name), Ok(()));
        assert_eq!(index.insert("m2", 3, name), Err(1));
        assert_eq!(index.get("m10", name), Some(2));
        assert_eq!(index.get("m3", name), None);
        assert_eq!(index.get("", name), None);
    }
}

/// Ids stored end to end in one buffer: a compact copy of a list's ids that a
/// lookup can compare against while staying in cache (a million member ids take
/// about 11 MB here, against about 100 MB of scattered records).
#[derive(Debug, Default)]
pub(crate) struct Packed {
    text: String,
    /// `ends[i]`: where id `i` ends in `text` (it starts where id `i - 1` ends).
    ends: Vec<usize>,
}

impl Packed {
    pub fn new<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> Packed {
        let mut p = Packed {
            text: String::new(),
            ends: Vec::with_capacity(ids.len()),
        };
        for id in ids {
            p.text.push_str(id);
            p.ends.push(p.text.len());
        }
        p
    }

    /// Id `i` ("" past the end).
    #[inline]
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let end = self.ends.get(i).copied().unwrap_or(0);
        let start = match i.checked_sub(1) {
            Some(j) => self.ends.get(j).copied().unwrap_or(0),
            None => 0,
        };
        self.text.get(start..end).unwrap_or("")
    }
}
