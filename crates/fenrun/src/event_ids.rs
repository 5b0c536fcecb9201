//! A batch's event ids, checked for duplicates and looked up by its refunds
//! all at once when the last event has come, instead of one table probe per
//! id as each arrives.
//!
//! Ten million ids in a hash table are ten million probes of a table far
//! larger than the caches (about 0.4 s at 1M/10M, a fifth of validation).
//! Here each id's 64-bit hash is computed as it comes and written, with its
//! position, to one of [`EventIds`]' buckets (by the hash's top bits): a
//! write into one of a few hundred bucket ends, which stay in cache, and few
//! enough that the pages they are in stay in the TLB (with two thousand
//! buckets nearly every write missed it: the per-id loop took three times as
//! long). At the end each bucket in turn (about 20,000 ids) goes into a
//! table that fits a core's own cache, where equal hashes meet; refunds'
//! orders are looked up there too. An equal hash is only a candidate: the
//! ids' text decides, so the answers are exact whatever the hashes.
//!
//! A duplicate is only detected here, not named: the caller then finds the
//! first duplicate in input order with a plain map (an error path).

use std::hash::BuildHasher;

use crate::ids::idx32;
use crate::index::Packed;

/// Ids a bucket is sized for: its table (twice as many 8-byte slots) is at
/// most 512 KiB, a core's L2 on the machines measured. Four times as many
/// (a 2 MiB table, in L3) cost as much at the end as they saved on the way;
/// a quarter as many (2,048 buckets at ten million ids) missed the TLB.
const PER_BUCKET: usize = 1 << 15;
/// At most this many buckets (more ids make larger buckets).
const MAX_BUCKETS: usize = 1 << 14;

/// Event ids by bucket, each entry the low 32 bits of the id's hash above its
/// position. The buckets are regions of one allocation (freed back to the
/// system as a whole, where hundreds of small ones would stay in the heap).
#[derive(Debug)]
pub(crate) struct EventIds {
    /// Bucket `b` is `entries[b * per..][..lens[b]]`.
    entries: Vec<u64>,
    lens: Vec<u32>,
    per: usize,
    /// The ids the buckets were sized for.
    capacity: usize,
    /// Bits of the hash that pick the bucket (its top bits).
    bits: u32,
    /// Seeded per batch, so inputs cannot be crafted to collide.
    state: foldhash::fast::RandomState,
}

/// What [`EventIds::finish`] found.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// Some id is used twice.
    pub duplicate: bool,
    /// For each looked-up id, the position of an event with that id.
    pub found: Vec<Option<u32>>,
}

impl EventIds {
    /// Buckets for about `n` ids.
    pub fn with_capacity(n: usize) -> EventIds {
        let buckets = n.div_ceil(PER_BUCKET).next_power_of_two().min(MAX_BUCKETS);
        let bits = buckets.trailing_zeros();
        // Hashes spread ids evenly: a bucket rarely passes its share by much.
        let per = (n / buckets)
            .saturating_add(n / buckets / 16)
            .saturating_add(16);
        EventIds {
            entries: vec![0; buckets.saturating_mul(per)],
            lens: vec![0; buckets],
            per,
            capacity: n,
            bits,
            state: foldhash::fast::RandomState::default(),
        }
    }

    /// Whether the buckets were sized for `n` ids or more.
    pub fn fits(&self, n: usize) -> bool {
        n <= self.capacity
    }

    fn hash(&self, id: &str) -> u64 {
        self.state.hash_one(id)
    }

    fn bucket(&self, hash: u64) -> usize {
        if self.bits == 0 {
            0
        } else {
            // The top `bits` (at most a few dozen) bits: below the bucket count.
            #[allow(clippy::cast_possible_truncation)]
            let b = (hash >> (64 - self.bits)) as usize;
            b
        }
    }

    /// Add the id of the event at `at`.
    #[inline]
    pub fn push(&mut self, id: &str, at: u32) {
        let hash = self.hash(id);
        let b = self.bucket(hash);
        let len = self.lens.get(b).map_or(0, |&l| l as usize);
        if len == self.per {
            self.grow();
        }
        if let Some(e) = self.entries.get_mut(b * self.per + len) {
            *e = (hash << 32) | u64::from(at);
        }
        if let Some(l) = self.lens.get_mut(b) {
            *l += 1;
        }
    }

    /// Twice the room in every bucket (one filled up: more ids came than
    /// the buckets were sized for).
    #[cold]
    fn grow(&mut self) {
        let per = self.per.saturating_mul(2);
        let mut entries = vec![0; self.lens.len().saturating_mul(per)];
        for (b, bucket) in self.buckets().enumerate() {
            if let Some(to) = entries.get_mut(b * per..b * per + bucket.len()) {
                to.copy_from_slice(bucket);
            }
        }
        self.entries = entries;
        self.per = per;
        self.capacity = self.capacity.saturating_mul(2);
    }

    /// Each bucket's entries.
    fn buckets(&self) -> impl Iterator<Item = &[u64]> {
        self.lens.iter().enumerate().map(|(b, &len)| {
            self.entries
                .get(b * self.per..b * self.per + len as usize)
                .unwrap_or_default()
        })
    }

    /// Whether any id is used twice, and the position of each of `ids`
    /// among the events (`names(i)` is event `i`'s id). With a duplicate,
    /// a looked-up id may be found at either of its positions.
    pub fn finish<'a>(
        self,
        names: &Packed,
        ids: impl ExactSizeIterator<Item = &'a str>,
    ) -> Resolved {
        // The looked-up ids by bucket: (entry as the events', index in `ids`).
        let mut asked: Vec<Vec<(u64, u32)>> = vec![Vec::new(); self.lens.len()];
        let mut texts = Vec::with_capacity(ids.len());
        for (q, id) in ids.enumerate() {
            let hash = self.hash(id);
            if let Some(a) = asked.get_mut(self.bucket(hash)) {
                a.push((hash << 32, idx32(q)));
            }
            texts.push(id);
        }
        let mut found = vec![None; texts.len()];
        let mut duplicate = false;
        let largest = self.buckets().map(<[u64]>::len).max().unwrap_or(0);
        let size = largest.saturating_mul(2).next_power_of_two().max(16);
        // Slots hold an entry with its position plus one (0: empty).
        let mut table = vec![0u64; size];
        for (bucket, asked) in self.buckets().zip(&asked) {
            if bucket.is_empty() {
                continue;
            }
            let mask =
                (bucket.len().saturating_mul(2).next_power_of_two().max(16) - 1).min(size - 1);
            let slots = table.get_mut(..=mask).unwrap_or_default();
            slots.fill(0);
            let home = |entry: u64| ((entry >> 32) as usize) & mask;
            let same = |a: u64, b: u64| a >> 32 == b >> 32;
            let at = |slot: u64| ((slot & 0xffff_ffff) as u32).wrapping_sub(1);
            for &entry in bucket {
                let mut i = home(entry);
                loop {
                    match slots.get(i).copied() {
                        Some(0) => {
                            if let Some(s) = slots.get_mut(i) {
                                *s = entry + 1;
                            }
                            break;
                        }
                        Some(slot) => {
                            // An entry's low 32 bits are its position, on purpose.
                            #[allow(clippy::cast_possible_truncation)]
                            let pos = entry as u32;
                            if same(slot, entry) && names.get(at(slot)) == names.get(pos) {
                                duplicate = true;
                            }
                            i = (i + 1) & mask;
                        }
                        None => break,
                    }
                }
            }
            for &(entry, q) in asked {
                let text = texts.get(q as usize).copied().unwrap_or("");
                let mut i = home(entry);
                while let Some(slot) = slots.get(i).copied().filter(|&s| s != 0) {
                    if same(slot, entry) && names.get(at(slot)) == text {
                        if let Some(f) = found.get_mut(q as usize) {
                            *f = Some(at(slot));
                        }
                        break;
                    }
                    i = (i + 1) & mask;
                }
            }
        }
        Resolved { duplicate, found }
    }
}

#[cfg(test)]
// Test tables hold a few thousand entries: their indices fit any integer.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
mod tests {
    use super::EventIds;
    use crate::index::Packed;

    fn resolve(ids: &[&str], capacity: usize, asked: &[&str]) -> (bool, Vec<Option<u32>>) {
        let names = Packed::new(ids.iter().copied());
        let mut set = EventIds::with_capacity(capacity);
        for (i, id) in ids.iter().enumerate() {
            set.push(id, i as u32);
        }
        let r = set.finish(&names, asked.iter().copied());
        (r.duplicate, r.found)
    }

    #[test]
    fn finds_each_id_and_no_duplicate_among_distinct_ids() {
        // Many buckets and one: every id is found where it is, absent ids are not.
        let ids: Vec<String> = (0..50_000).map(|i| format!("o{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        for capacity in [0, 10, 50_000, 1 << 22] {
            let asked = ["o0", "o49999", "o123", "x", "", "o50000"];
            let (dup, found) = resolve(&refs, capacity, &asked);
            assert!(!dup, "capacity {capacity}");
            assert_eq!(
                found,
                vec![Some(0), Some(49_999), Some(123), None, None, None]
            );
        }
    }

    #[test]
    fn a_duplicate_anywhere_is_seen() {
        for (ids, dup) in [
            (&["a", "b", "a"][..], true),
            (&["a", "b", "c"][..], false),
            (&["", ""][..], true),
            (&["x"][..], false),
            (&[][..], false),
        ] {
            for capacity in [0, 3, 100_000] {
                assert_eq!(
                    resolve(ids, capacity, &[]).0,
                    dup,
                    "{ids:?} at capacity {capacity}"
                );
            }
        }
        let mut ids: Vec<String> = (0..30_000).map(|i| format!("event-{i}")).collect();
        ids.push("event-29998".into());
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert!(resolve(&refs, refs.len(), &[]).0);
    }
}
