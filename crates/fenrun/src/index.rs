//! An index from id strings to positions in a list that already holds them.
//!
//! One flat array of slots, open addressing with linear probing, sized once for
//! the ids to come. A slot keeps a position (beside a tag byte of the id's
//! hash), so a probe compares the id's text only when the tag matches.
//!
//! A table looked up far more often than it is filled (members: looked up for
//! every order's seller) keeps short ids in the slot itself
//! ([`Inline`]): a hit then reads the table and nothing else, instead of the
//! table, the list's offsets and its text. (Event ids, inserted once and looked
//! up only by refunds, are not indexed here but all at once at the end of
//! validation: see `event_ids`.)
//!
//! At scale the table is far larger than the caches and every id's first probe
//! is a cache miss. [`IdIndex::insert_all`] and [`IdIndex::get_all`] hash each
//! id [`AHEAD`] ids before probing it and ask for its first tag and slot then
//! (a prefetch, which does not wait), so that many misses are in flight at
//! once instead of following one another.

use std::collections::VecDeque;
use std::hash::BuildHasher;

use crate::ids::idx32;

/// Ids hashed and prefetched ahead of the one probed in [`IdIndex::insert_all`]
/// and [`IdIndex::get_all`].
const AHEAD: usize = 16;

/// Run `start(ctx, k)` for `k` in `0..n` and `finish(ctx, k, started)` for
/// each in the same order, [`AHEAD`] behind (what `start` asks for, a prefetch,
/// has come by the time `finish` reads it). A failing `start` ends the starting;
/// the ones started before it are still finished, then its error is returned.
/// A failing `finish` is returned at once.
fn read_ahead<C, T, E>(
    ctx: &mut C,
    n: usize,
    mut start: impl FnMut(&C, usize) -> Result<T, E>,
    mut finish: impl FnMut(&mut C, usize, T) -> Result<(), E>,
) -> Result<(), E> {
    let mut ring: VecDeque<(usize, T)> = VecDeque::with_capacity(AHEAD + 1);
    let mut k = 0;
    let mut failed = None;
    loop {
        if k < n && failed.is_none() {
            match start(ctx, k) {
                Ok(started) => {
                    ring.push_back((k, started));
                    k += 1;
                    if ring.len() <= AHEAD {
                        continue;
                    }
                }
                Err(e) => failed = Some(e),
            }
        }
        let Some((j, started)) = ring.pop_front() else {
            return failed.map_or(Ok(()), Err);
        };
        finish(ctx, j, started)?;
    }
}

/// What a slot of an [`IdIndex`] holds.
pub(crate) trait Slot: Copy {
    /// An unused slot (its tag says it is empty).
    const EMPTY: Self;
    /// Whether slots keep the id's [`Key`] (else probes skip making it).
    const KEYED: bool;
    /// A slot for position `at` of the probed id.
    fn new(probe: &Probe<'_>, at: u32) -> Self;
    /// The position.
    fn at(self) -> u32;
    /// Whether this slot holds the probed id (whose tag matched); `name(i)` is
    /// the id at position `i`.
    fn holds<'n>(self, probe: &Probe<'_>, name: &impl Fn(u32) -> &'n str) -> bool;
}

/// An id being looked up, with its hash and inline form.
pub(crate) struct Probe<'a> {
    id: &'a str,
    hash: u64,
    key: Key,
}

impl Probe<'_> {
    /// The tag of the probed id: a byte of its hash that is not 0.
    #[inline]
    #[allow(clippy::cast_possible_truncation)] // the hash's low byte, on purpose
    fn tag(&self) -> u8 {
        (self.hash as u8).max(1)
    }
}

/// Bytes of an id kept in an [`Inline`] slot.
const INLINE: usize = 11;
/// The length recorded for an id longer than [`INLINE`] bytes.
const LONG: u32 = 0xff;

/// An id of at most [`INLINE`] bytes, zero-padded, with its length in the top
/// byte; or, for a longer one, that mark and bits of its hash. Built in
/// registers from the bytes (no copy to memory and read back), compared as
/// three words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key([u32; 3]);

impl Key {
    /// No key: slots that keep only positions do not read it.
    const NONE: Key = Key([0; 3]);

    /// Made with a few overlapping word reads, no loop and no copy to memory
    /// (a copy read back as words stalls on store forwarding). A long id's key
    /// is the mark and 88 bits of `hash`, so that most probes of other long
    /// ids fail without reading their text.
    #[inline]
    fn of(id: &str, hash: u64) -> Key {
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
            // 24 bits of the hash (the cast keeps 24 of its top 24).
            #[allow(clippy::cast_possible_truncation)]
            _ => (hash, (hash >> 40) as u32 & 0x00ff_ffff),
        };
        let len = u32::try_from(n)
            .ok()
            .filter(|&n| n as usize <= INLINE)
            .unwrap_or(LONG);
        // The id's bytes split into 32-bit words, on purpose.
        #[allow(clippy::cast_possible_truncation)]
        let key = Key([lo as u32, (lo >> 32) as u32, hi | len << 24]);
        key
    }

    fn is_long(self) -> bool {
        self.0[2] >> 24 == LONG
    }
}

/// A position only: a probe whose tag matches compares the ids' text.
impl Slot for u32 {
    const EMPTY: u32 = 0;
    const KEYED: bool = false;
    #[inline]
    fn new(_: &Probe<'_>, at: u32) -> u32 {
        at
    }
    #[inline]
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
    const EMPTY: Inline = Inline {
        at: 0,
        key: Key::NONE,
    };
    const KEYED: bool = true;
    #[inline]
    fn new(probe: &Probe<'_>, at: u32) -> Inline {
        Inline { at, key: probe.key }
    }
    #[inline]
    fn at(self) -> u32 {
        self.at
    }
    #[inline]
    fn holds<'n>(self, probe: &Probe<'_>, name: &impl Fn(u32) -> &'n str) -> bool {
        self.key == probe.key && (!self.key.is_long() || name(self.at) == probe.id)
    }
}

/// Positions of ids in a list, keyed by the ids' text.
#[derive(Debug)]
pub(crate) struct IdIndex<S = u32> {
    /// A byte of each slot's id hash, never 0; 0 marks an empty slot. A probe
    /// reads these first: a miss (an id not in the index) seldom reads a slot.
    tags: Vec<u8>,
    slots: Vec<S>,
    /// Occupied slots.
    len: usize,
    /// Seeded per index, so inputs cannot be crafted to collide.
    state: foldhash::fast::RandomState,
}

/// Slots for `n` ids: at most two thirds full, so that probe runs stay short.
fn slots_for(n: usize) -> usize {
    n.saturating_add(n / 2).max(8)
}

impl<S: Slot> IdIndex<S> {
    /// An index sized for `n` ids (it grows past them).
    pub fn with_capacity(n: usize) -> IdIndex<S> {
        IdIndex {
            tags: vec![0; slots_for(n)],
            slots: vec![S::EMPTY; slots_for(n)],
            len: 0,
            state: foldhash::fast::RandomState::default(),
        }
    }

    #[inline]
    fn probe<'a>(&self, id: &'a str) -> Probe<'a> {
        let hash = self.state.hash_one(id);
        let key = if S::KEYED {
            Key::of(id, hash)
        } else {
            Key::NONE
        };
        Probe { id, hash, key }
    }

    /// The probe's first slot: the hash's high bits scaled to the table.
    #[inline]
    // hash / 2^64 × len is below len, a usize.
    #[allow(clippy::cast_possible_truncation)]
    fn home(&self, probe: &Probe<'_>) -> usize {
        ((u128::from(probe.hash) * self.tags.len() as u128) >> 64) as usize
    }

    /// Ask for the probe's first tag and slot to be brought into the cache,
    /// without waiting for them.
    #[inline]
    fn prefetch(&self, probe: &Probe<'_>) {
        let i = self.home(probe);
        prefetch_index::prefetch_index(&self.tags, i);
        prefetch_index::prefetch_index(&self.slots, i);
    }

    /// The slot holding the probed id, or the empty slot ending its run.
    #[inline]
    fn find<'n>(&self, probe: &Probe<'_>, name: &impl Fn(u32) -> &'n str) -> (usize, Option<u32>) {
        let tag = probe.tag();
        let mut i = self.home(probe);
        loop {
            match self.tags.get(i) {
                Some(0) => return (i, None),
                Some(&t) if t == tag => match self.slots.get(i) {
                    Some(s) if s.holds(probe, name) => return (i, Some(s.at())),
                    _ => i += 1,
                },
                Some(_) => i += 1,
                // Past the end: runs wrap to the start (a slot is always empty).
                None => i = 0,
            }
        }
    }

    #[inline]
    fn insert_probe<'n>(
        &mut self,
        probe: &Probe<'_>,
        at: u32,
        name: &impl Fn(u32) -> &'n str,
    ) -> Result<(), u32> {
        if (self.len + 1) * 4 > self.tags.len() * 3 {
            self.grow(name);
        }
        match self.find(probe, name) {
            (_, Some(first)) => Err(first),
            (i, None) => {
                self.place(i, probe, at);
                Ok(())
            }
        }
    }

    #[inline]
    fn place(&mut self, i: usize, probe: &Probe<'_>, at: u32) {
        if let (Some(t), Some(s)) = (self.tags.get_mut(i), self.slots.get_mut(i)) {
            *t = probe.tag();
            *s = S::new(probe, at);
            self.len += 1;
        }
    }

    /// Make room for more ids (rare: tables are sized for their ids): every id
    /// is placed again from its name.
    #[cold]
    fn grow<'n>(&mut self, name: &impl Fn(u32) -> &'n str) {
        let n = slots_for((self.len + 1).saturating_mul(2));
        let tags = std::mem::replace(&mut self.tags, vec![0; n]);
        let slots = std::mem::replace(&mut self.slots, vec![S::EMPTY; n]);
        self.len = 0;
        for (_, s) in tags.into_iter().zip(slots).filter(|(t, _)| *t != 0) {
            let probe = self.probe(name(s.at()));
            if let (i, None) = self.find(&probe, name) {
                self.place(i, &probe, s.at());
            }
        }
    }

    /// Whether the next insert would grow the table (and move every id in it).
    pub fn is_full(&self) -> bool {
        (self.len + 1) * 4 > self.tags.len() * 3
    }

    /// An index sized for `n` ids holding the first `n.min(len)` ids of a
    /// list, `name(k)` its id at position `k`, read in order and inserted
    /// reading ahead: how a list's index is remade bigger faster than
    /// [`IdIndex`]'s own growth, which takes the ids in table order, each a
    /// cache miss in the list.
    pub fn of_list<'n>(len: usize, name: impl Fn(u32) -> &'n str, n: usize) -> IdIndex<S> {
        let mut index = IdIndex::with_capacity(n);
        let ids = len.min(n);
        // Neither the ids nor `each` fail; a repeated id keeps its first position.
        let _ = index.insert_all(
            0,
            ids,
            |k| Ok::<_, ()>(name(idx32(k))),
            &name,
            |_, _, _| Ok(()),
        );
        index
    }

    /// Record that `id` is at position `at`, unless an earlier position holds it:
    /// then that position is returned. `name(i)` is the id at position `i`.
    pub fn insert<'n>(
        &mut self,
        id: &str,
        at: u32,
        name: impl Fn(u32) -> &'n str,
    ) -> Result<(), u32> {
        let probe = self.probe(id);
        self.insert_probe(&probe, at, &name)
    }

    /// Insert ids `id(0..n)` at positions `from..from + n`, reading ahead
    /// (see the module). In order, `id(k)` may fail; else `each(from + k, id,
    /// first)` is told the earlier position of the same id, if any (then
    /// nothing is inserted), and may stop.
    pub fn insert_all<'a, 'n, E>(
        &mut self,
        from: usize,
        n: usize,
        id: impl Fn(usize) -> Result<&'a str, E>,
        name: impl Fn(u32) -> &'n str,
        mut each: impl FnMut(usize, &'a str, Option<u32>) -> Result<(), E>,
    ) -> Result<(), E> {
        // An id that cannot be read ends the reading; the ids before it are
        // still inserted (one of them may be a duplicate, reported first).
        read_ahead(
            self,
            n,
            |index, k| {
                let probe = index.probe(id(k)?);
                index.prefetch(&probe);
                Ok(probe)
            },
            |index, k, probe| {
                let i = from + k;
                let first = index.insert_probe(&probe, idx32(i), &name).err();
                each(i, probe.id, first)
            },
        )
    }

    /// Ask for the first tag and slot of `id`'s probe to be brought into the
    /// cache, without waiting: a [`IdIndex::get`] or [`IdIndex::insert`] of
    /// it after some other work then finds them there.
    pub fn prefetch_id(&self, id: &str) {
        self.prefetch(&self.probe(id));
    }

    /// The position of `id`, if it was inserted.
    pub fn get<'n>(&self, id: &str, name: impl Fn(u32) -> &'n str) -> Option<u32> {
        self.find(&self.probe(id), &name).1
    }

    /// Look up `id(i)` for `i` in `0..n`, reading ahead (see the module),
    /// telling `each(i, found)` in order; an absent id (`None`) is not looked
    /// up.
    pub fn get_all<'a, 'n>(
        &self,
        n: usize,
        id: impl Fn(usize) -> Option<&'a str>,
        name: impl Fn(u32) -> &'n str,
        mut each: impl FnMut(usize, Option<Option<u32>>),
    ) {
        let done: Result<(), std::convert::Infallible> = read_ahead(
            &mut &*self,
            n,
            |index, k| {
                let probe = id(k).map(|text| index.probe(text));
                if let Some(p) = &probe {
                    index.prefetch(p);
                }
                Ok(probe)
            },
            |index, k, probe| {
                each(k, probe.map(|p| index.find(&p, &name).1));
                Ok(())
            },
        );
        let Ok(()) = done;
    }

    /// The position of each of `id(0..n)` ([`IdIndex::get_all`]): `None` for
    /// an absent id or one not inserted.
    pub fn get_each<'a, 'n>(
        &self,
        n: usize,
        id: impl Fn(usize) -> Option<&'a str>,
        name: impl Fn(u32) -> &'n str,
    ) -> Vec<Option<u32>> {
        let mut found = Vec::with_capacity(n);
        self.get_all(n, id, name, |_, at| found.push(at.flatten()));
        found
    }
}

#[cfg(test)]
// Test tables hold a few thousand entries: their indices fit any integer.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
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

    /// Many ids, read ahead, through a table that starts too small (it grows),
    /// with lookups of present, absent and missing (`None`) ids.
    fn blocks_agree_with_one_at_a_time<S: Slot>() {
        let ids: Vec<String> = (0..5000)
            .map(|i| match i % 3 {
                0 => format!("e{i}"),
                1 => format!("event-with-a-long-name-{i}"),
                _ => format!("{i:011}"),
            })
            .collect();
        let name = |i: u32| ids[i as usize].as_str();
        let mut index = IdIndex::<S>::with_capacity(10);
        let mut told = Vec::new();
        let done: Result<(), ()> = index.insert_all(
            0,
            ids.len(),
            |i| Ok(ids[i].as_str()),
            name,
            |i, id, first| {
                told.push((i, id.to_owned(), first));
                Ok(())
            },
        );
        assert_eq!(done, Ok(()));
        assert_eq!(told.len(), ids.len());
        assert!(told
            .iter()
            .all(|(i, id, first)| *id == ids[*i] && first.is_none()));
        // Every third asked for is absent, every fifth not given.
        let asked = |i: usize| match (i % 5, i % 3) {
            (0, _) => None,
            (_, 0) => Some(format!("x{i}")),
            _ => Some(ids[i].clone()),
        };
        let asked: Vec<Option<String>> = (0..ids.len()).map(asked).collect();
        let mut found = Vec::new();
        index.get_all(
            ids.len(),
            |i| asked[i].as_deref(),
            name,
            |i, f| found.push((i, f)),
        );
        for (i, f) in found {
            let one = asked[i].as_deref().map(|id| index.get(id, name));
            assert_eq!(f, one, "{i}");
            let want = match (i % 5, i % 3) {
                (0, _) => None,
                (_, 0) => Some(None),
                _ => Some(Some(i as u32)),
            };
            assert_eq!(f, want, "{i}");
        }
    }

    /// A failing id and a duplicate stop the insertion in input order, after
    /// the ids before them (read ahead with them) went in.
    fn blocks_stop_in_order<S: Slot>() {
        let ids = ["a", "b", "c", "b", "d"];
        let name = |i: u32| ids[i as usize];
        let mut index = IdIndex::<S>::with_capacity(ids.len());
        let got = index.insert_all(
            0,
            ids.len(),
            |i| {
                if i == 4 {
                    Err(format!("bad {i}"))
                } else {
                    Ok(ids[i])
                }
            },
            name,
            |i, id, first| match first {
                Some(f) => Err(format!("{id} at {i} first at {f}")),
                None => Ok(()),
            },
        );
        assert_eq!(got, Err("b at 3 first at 1".to_owned()));
        assert_eq!(index.get("c", name), Some(2));
        let mut index = IdIndex::<S>::with_capacity(ids.len());
        let got = index.insert_all(
            0,
            ids.len(),
            |i| {
                if i == 2 {
                    Err(format!("bad {i}"))
                } else {
                    Ok(ids[i])
                }
            },
            name,
            |_, _, _| Ok(()),
        );
        assert_eq!(got, Err("bad 2".to_owned()));
        assert_eq!(
            (index.get("a", name), index.get("b", name)),
            (Some(0), Some(1))
        );
        assert_eq!(index.get("c", name), None);
    }

    /// An index remade from a list holds its first `n` ids at their
    /// positions (a repeated id at its first), and is not full.
    #[test]
    fn of_list_holds_the_lists_ids() {
        let ids = ["e1", "event-with-a-long-name", "e2", "e1", "e3"];
        let names = super::Packed::new(ids.iter().copied());
        let index = IdIndex::<u32>::of_list(names.len(), |k| names.get(k), 4);
        let name = |k: u32| names.get(k);
        let got: Vec<Option<u32>> = ids.iter().map(|id| index.get(id, name)).collect();
        assert_eq!(got, [Some(0), Some(1), Some(2), Some(0), None]);
        assert!(!index.is_full());
    }

    #[test]
    fn blocks_positions_only() {
        blocks_agree_with_one_at_a_time::<u32>();
        blocks_stop_in_order::<u32>();
    }

    #[test]
    fn blocks_inline() {
        blocks_agree_with_one_at_a_time::<Inline>();
        blocks_stop_in_order::<Inline>();
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
            assert_eq!(Key::of(id, 0), Key([word(0), word(1), word(2)]), "{id:?}");
        }
        assert_ne!(Key::of("ab", 0), Key::of("ab\0", 0));
        assert_ne!(Key::of("a", 0), Key::of("", 0));
    }

    #[test]
    fn positions_only() {
        finds_what_was_inserted_and_names_the_first_of_a_duplicate::<u32>();
    }

    #[test]
    fn short_ids_inline() {
        finds_what_was_inserted_and_names_the_first_of_a_duplicate::<Inline>();
    }

    /// Tests keep 4 low bits of each end: the ids below cross 16-byte
    /// boundaries one at a time, several at once (a 40-byte id), and not at
    /// all (empty ids), as 4 GiB of ids would with 32.
    #[test]
    fn packed_ids_come_back_across_the_boundaries_of_their_ends() {
        let long = "x".repeat(40);
        let ids: Vec<String> = ["", "m1", "", "abcdefghijklmno", "p", long.as_str(), "", "q"]
            .into_iter()
            .map(str::to_owned)
            .chain((0..100).map(|i| format!("o{i}")))
            .collect();
        let packed = super::Packed::new(ids.iter().map(String::as_str));
        assert_eq!(super::LOW_BITS, 4);
        assert!(packed.highs.len() > 10, "{:?}", packed.highs);
        assert_eq!(packed.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(packed.get(i as u32), id, "id {i}");
        }
        assert_eq!(packed.get(ids.len() as u32), "");
        assert_eq!(packed.position("o57"), Some(8 + 57));
        assert_eq!(packed.position(&long), Some(5));
        assert_eq!(packed.position("zz"), None);
    }
}

/// Ids stored end to end in one buffer: a compact copy of a list's ids that a
/// lookup can compare against while staying in cache (a million member ids take
/// about 11 MB here, against about 100 MB of scattered records).
#[derive(Debug, Clone, Default)]
pub(crate) struct Packed {
    text: String,
    /// The low [`LOW_BITS`] of where each id ends in `text` (it starts where
    /// the one before ends): 4 bytes an id instead of 8.
    ends: Vec<u32>,
    /// `highs[k]`: the first id that ends at or past `(k + 1) << LOW_BITS`.
    /// Empty until the ids take 4 GiB.
    highs: Vec<u32>,
}

/// Bits of an end kept in `Packed::ends`; unit tests keep 4, so that every
/// test crosses the boundaries that only 4 GiB of ids cross otherwise.
const LOW_BITS: u32 = if cfg!(test) { 4 } else { 32 };

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
            ends: Vec::with_capacity(n),
            ..Packed::default()
        }
    }

    /// Add an id at the end.
    #[inline]
    pub fn push(&mut self, id: &str) {
        self.push_parts(id, "");
    }

    /// Append the id `head` then `tail`, end to end.
    pub fn push_parts(&mut self, head: &str, tail: &str) {
        // In u64: a 32-bit target's usize cannot be shifted by 32.
        let before = self.text.len() as u64 >> LOW_BITS;
        self.text.push_str(head);
        self.text.push_str(tail);
        let end = self.text.len() as u64;
        for _ in before..end >> LOW_BITS {
            self.highs.push(idx32(self.ends.len()));
        }
        self.ends.push((end & ((1u64 << LOW_BITS) - 1)) as u32);
    }

    /// Where id `i` ends in `text`.
    #[inline]
    // An end is an offset into `text`, which is in memory: it fits usize.
    #[allow(clippy::cast_possible_truncation)]
    fn end(&self, i: usize) -> usize {
        let low = u64::from(self.ends.get(i).copied().unwrap_or(0));
        if self.highs.is_empty() {
            return low as usize;
        }
        let high = self.highs.partition_point(|&h| h as usize <= i) as u64;
        (high << LOW_BITS | low) as usize
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Room for `n` more ids.
    pub fn reserve(&mut self, n: usize) {
        self.ends.reserve(n);
    }

    /// Room for `bytes` more bytes of ids.
    pub fn reserve_text(&mut self, bytes: usize) {
        self.text.reserve(bytes);
    }

    /// Id `i` ("" past the end).
    #[inline]
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        if i >= self.ends.len() {
            return "";
        }
        let start = i.checked_sub(1).map_or(0, |j| self.end(j));
        self.text.get(start..self.end(i)).unwrap_or("")
    }

    /// Ask for where id `i` is to be brought into the cache, without
    /// waiting for it (before [`Packed::prefetch_text`] of the same id).
    #[inline]
    pub fn prefetch_end(&self, i: u32) {
        let i = i as usize;
        prefetch_index::prefetch_index(&self.ends, i.saturating_sub(1));
    }

    /// Ask for id `i`'s text to be brought into the cache, without waiting
    /// for it (it reads where the id starts).
    #[inline]
    pub fn prefetch_text(&self, i: u32) {
        let start = (i as usize).checked_sub(1).map_or(0, |j| self.end(j));
        prefetch_index::prefetch_index(self.text.as_bytes(), start);
    }

    /// Keep the first `n` ids only.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len() {
            return;
        }
        let end = n.checked_sub(1).map_or(0, |j| self.end(j));
        self.text.truncate(end);
        self.ends.truncate(n);
        self.highs.retain(|&h| (h as usize) < n);
    }

    /// The position of the first id equal to `id` (a linear scan).
    pub fn position(&self, id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.get(idx32(i)) == id)
    }
}
