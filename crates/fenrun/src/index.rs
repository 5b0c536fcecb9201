//! An index from id strings to positions in a list that already holds them.
//!
//! A table of `u32` positions (five bytes a slot with its control byte) instead
//! of a map from borrowed `&str` (sixteen bytes of key a slot): ten million
//! event ids take about 80 MB instead of about 500 MB, and a lookup compares the
//! probed id against the list only when the hash's tag matches.
//!
//! A table looked up far more often than it is filled (members: two lookups an
//! order) keeps short ids in the slot itself ([`Inline`]): a hit then reads the
//! table and nothing else, instead of the table, the list's offsets and its text.

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};

/// What a slot of an [`IdIndex`] holds.
pub(crate) trait Slot: Copy {
    /// Whether the slot keeps the id's [`Key`] (else lookups skip making it).
    const KEYED: bool;
    /// A slot for position `at` of an id whose probe has `key`.
    fn new(key: Key, at: u32) -> Self;
    /// The position.
    fn at(self) -> u32;
    /// Whether this slot holds the probed id; `name(i)` is the id at position `i`.
    fn holds<'n>(self, probe: &Probe<'_>, name: &impl Fn(u32) -> &'n str) -> bool;
}

/// An id being looked up, with its inline form.
pub(crate) struct Probe<'a> {
    id: &'a str,
    key: Key,
}

/// Bytes of an id kept in an [`Inline`] slot.
const INLINE: usize = 11;
/// The length recorded for an id longer than [`INLINE`] bytes.
const LONG: u32 = 0xff;

/// An id of at most [`INLINE`] bytes, zero-padded, with its length in the top
/// byte; or the mark of a longer one. Built in registers from the bytes (no
/// copy to memory and read back), compared as three words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key([u32; 3]);

impl Key {
    /// No key: slots that keep only positions do not read it.
    const NONE: Key = Key([0; 3]);

    /// Made with a few overlapping word reads, no loop and no copy to memory
    /// (a copy read back as words stalls on store forwarding).
    #[inline]
    fn of(id: &str) -> Key {
        let b = id.as_bytes();
        let n = b.len();
        let byte = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
        let u32_at = |i: usize| {
            b.get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .map_or(0, u32::from_le_bytes)
        };
        let u64_at = |i: usize| {
            b.get(i..i + 8)
                .and_then(|s| s.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        // Reads that overlap put the same bytes at the same places.
        let (lo, hi) = match n {
            0 => (0, 0),
            1..=3 => (
                byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
                0,
            ),
            4..=8 => (
                u64::from(u32_at(0)) | u64::from(u32_at(n - 4)) << (8 * (n - 4)),
                0,
            ),
            9..=INLINE => (u64_at(0), u32_at(n - 4) >> (8 * (12 - n))),
            _ => return Key([0, 0, LONG << 24]),
        };
        let len = u32::try_from(n).unwrap_or(LONG);
        Key([lo as u32, (lo >> 32) as u32, hi | len << 24])
    }

    fn is_long(self) -> bool {
        self.0[2] >> 24 == LONG
    }
}

impl Slot for u32 {
    const KEYED: bool = false;
    fn new(_: Key, at: u32) -> u32 {
        at
    }
    fn at(self) -> u32 {
        self
    }
    #[inline]
    fn holds<'n>(self, probe: &Probe<'_>, name: &impl Fn(u32) -> &'n str) -> bool {
        name(self) == probe.id
    }
}

/// A position with its id's bytes when the id is short (16 bytes a slot).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inline {
    at: u32,
    key: Key,
}

impl Slot for Inline {
    const KEYED: bool = true;
    fn new(key: Key, at: u32) -> Inline {
        Inline { at, key }
    }
    fn at(self) -> u32 {
        self.at
    }
    #[inline]
    fn holds<'n>(self, probe: &Probe<'_>, name: &impl Fn(u32) -> &'n str) -> bool {
        self.key == probe.key && (!self.key.is_long() || name(self.at) == probe.id)
    }
}

impl<'a> Probe<'a> {
    #[inline]
    fn new<S: Slot>(id: &'a str) -> Probe<'a> {
        let key = if S::KEYED { Key::of(id) } else { Key::NONE };
        Probe { id, key }
    }
}

/// Positions of ids in a list, keyed by the ids' text.
#[derive(Debug)]
pub(crate) struct IdIndex<S = u32> {
    table: HashTable<S>,
    /// Seeded per index, so inputs cannot be crafted to collide.
    state: foldhash::fast::RandomState,
}

impl<S: Slot> IdIndex<S> {
    pub fn with_capacity(n: usize) -> IdIndex<S> {
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
        let probe = Probe::new::<S>(id);
        let hash = self.state.hash_one(id);
        let state = &self.state;
        match self.table.entry(
            hash,
            |s| s.holds(&probe, &name),
            |s| state.hash_one(name(s.at())),
        ) {
            Entry::Occupied(first) => Err(first.get().at()),
            Entry::Vacant(slot) => {
                slot.insert(S::new(probe.key, at));
                Ok(())
            }
        }
    }

    /// The position of `id`, if it was inserted.
    #[inline]
    pub fn get<'n>(&self, id: &str, name: impl Fn(u32) -> &'n str) -> Option<u32> {
        let probe = Probe::new::<S>(id);
        let hash = self.state.hash_one(id);
        self.table
            .find(hash, |s| s.holds(&probe, &name))
            .map(|s| s.at())
    }
}

#[cfg(test)]
mod tests {
    use super::{IdIndex, Inline, Slot};

    fn finds_what_was_inserted_and_names_the_first_of_a_duplicate<S: Slot>() {
        // Short and long ids, and long ids that share their first bytes.
        let ids = [
            "m1",
            "m2",
            "m10",
            "m2",
            "member-00000000001",
            "member-00000000002",
            "member-00000000001",
            "m0000000001",
            "m00000000012",
        ];
        let name = |i: u32| ids[i as usize];
        let mut index = IdIndex::<S>::with_capacity(1);
        assert_eq!(index.insert("m1", 0, name), Ok(()));
        assert_eq!(index.insert("m2", 1, name), Ok(()));
        assert_eq!(index.insert("m10", 2, name), Ok(()));
        assert_eq!(index.insert("m2", 3, name), Err(1));
        assert_eq!(index.insert(ids[4], 4, name), Ok(()));
        assert_eq!(index.insert(ids[5], 5, name), Ok(()));
        assert_eq!(index.insert(ids[6], 6, name), Err(4));
        assert_eq!(index.insert(ids[7], 7, name), Ok(()));
        assert_eq!(index.insert(ids[8], 8, name), Ok(()));
        assert_eq!(index.get("m10", name), Some(2));
        assert_eq!(index.get("member-00000000002", name), Some(5));
        assert_eq!(index.get("member-00000000003", name), None);
        assert_eq!(index.get("m0000000001", name), Some(7));
        assert_eq!(index.get("m00000000012", name), Some(8));
        assert_eq!(index.get("m000000000", name), None);
        assert_eq!(index.get("m3", name), None);
        assert_eq!(index.get("m1\0", name), None);
        assert_eq!(index.get("", name), None);
    }

    #[test]
    fn keys_hold_the_bytes_and_the_length() {
        use super::{Key, INLINE};
        let text = "abcdefghijklm\u{e9}";
        for n in 0..=text.len() {
            let Some(id) = text.get(..n) else { continue };
            // Reference: the bytes zero-padded to twelve, the length in the last.
            let mut padded = [0u8; 12];
            if n <= INLINE {
                padded[..n].copy_from_slice(id.as_bytes());
                padded[11] = n as u8;
            } else {
                padded[11] = 0xff;
            }
            let word = |k: usize| u32::from_le_bytes(padded[4 * k..4 * k + 4].try_into().unwrap());
            assert_eq!(Key::of(id), Key([word(0), word(1), word(2)]), "{id:?}");
        }
        assert_ne!(Key::of("ab"), Key::of("ab\0"));
        assert_ne!(Key::of("a"), Key::of(""));
    }

    #[test]
    fn positions_only() {
        finds_what_was_inserted_and_names_the_first_of_a_duplicate::<u32>();
    }

    #[test]
    fn short_ids_inline() {
        finds_what_was_inserted_and_names_the_first_of_a_duplicate::<Inline>();
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
        let mut p = Packed::with_capacity(ids.len());
        for id in ids {
            p.push(id);
        }
        p
    }

    /// Room for `n` ids.
    pub fn with_capacity(n: usize) -> Packed {
        Packed {
            text: String::new(),
            ends: Vec::with_capacity(n),
        }
    }

    /// Add an id at the end.
    #[inline]
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
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

    /// The position of the first id equal to `id` (a linear scan).
    pub fn position(&self, id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.get(i as u32) == id)
    }
}
