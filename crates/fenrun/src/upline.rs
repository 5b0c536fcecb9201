//! The members as the order rules walk up from a seller: one row per member
//! holding its sponsor, depth, rank and activity, and its "nearest qualifying
//! ancestor" links (one per distinct kind of ancestor the rules skip to).
//!
//! A seller's schedule visits a few ancestors at random places in a table of
//! a million members. With one array per field, each ancestor cost a cache
//! miss (and often a page walk) per field read: its activity, rank, sponsor,
//! depth and a link. In one row they share a cache line: rows are 16, 32 or
//! 64 bytes, or whole multiples of 64, and start on a 64-byte boundary, so
//! that a row of at most 64 bytes never spans two lines.
//!
//! Every link column asks for the nearest proper ancestor that is active and
//! holds one of a set of ranks (`levels` with `compress`: at least its
//! `min_rank`; `differential`: a rank whose rate is above a threshold; `peer`:
//! the seller's rank, or at least it). A set of ranks is a 64-bit mask
//! ([`MAX_RANKS`](crate::limits::MAX_RANKS) is 64), and rules asking for the
//! same set share a column. All columns are filled in one parents-first pass
//! that reads each member's sponsor's row once.

use crate::error::{Error, MemberAt, Missing, Must, Result};
use crate::graph::{Ahead, Forest, NONE};
use crate::heavy::Layout;
use crate::ids::RankIdx;

/// Cells of a row before its links.
const FIXED: usize = 3;

/// A member's sponsor, depth, and rank with activity, as a row stores them.
pub(crate) type Row = [u32; FIXED];
const PARENT: usize = 0;
const DEPTH: usize = 1;
/// The rank, with [`ACTIVE`] set for an active member.
const RANK: usize = 2;
const ACTIVE: u32 = 1 << 16;
/// Ancestors a live table's link reads one by one before it looks on the
/// heavy paths.
const WALK: u32 = 16;
/// How many walks ahead [`Upline::ahead`] brings a chain in: one ancestor a
/// walk, as many as [`Upline::link`] reads one by one.
pub(crate) const WALKS_AHEAD: usize = WALK as usize;
/// Cells (`u32`) in a 64-byte cache line.
const LINE: usize = 16;

/// The link columns of a policy's rules, each a set of ranks, without repeats.
#[derive(Debug, Default)]
pub(crate) struct Links {
    masks: Vec<u64>,
}

impl Links {
    /// The column of the nearest active proper ancestor holding one of the
    /// ranks of `mask` (bit `r` for rank `r`), added unless one asks for the
    /// same ranks already.
    pub fn column(&mut self, mask: u64) -> usize {
        match self.masks.iter().position(|&m| m == mask) {
            Some(c) => c,
            None => {
                self.masks.push(mask);
                self.masks.len() - 1
            }
        }
    }
}

/// Rank `r` alone, as a mask (none past the 64 a mask holds).
pub(crate) fn rank_bit(r: usize) -> u64 {
    u32::try_from(r)
        .ok()
        .and_then(|r| 1u64.checked_shl(r))
        .unwrap_or(0)
}

/// The ranks from `min` up to (not including) `ranks`, as a mask.
pub(crate) fn at_least(min: RankIdx, ranks: usize) -> u64 {
    (usize::from(min)..ranks).fold(0, |m, r| m | rank_bit(r))
}

/// One row per member, `width` cells each, the first at `start`.
///
/// A live table ([`Upline::live`], rank timing `immediate`, §13) holds no
/// link columns: ranks and activity move with every event. Each link is
/// found when asked: among the first ancestors one by one, then on the
/// tree's heavy paths ([`Upline::lay`]), in O(log² n) however deep the
/// chain (before the tree is laid out, or after a row moved off it, by
/// walking on).
#[derive(Debug, Clone)]
pub(crate) struct Upline {
    width: usize,
    start: usize,
    cells: Vec<u32>,
    /// The link columns' masks of a live table, empty otherwise.
    live: Vec<u64>,
    /// Of a live table: the ranks held along the tree's heavy paths.
    reach: Option<Reach>,
}

/// The ranks along a tree's heavy paths: per path, a segment tree whose
/// node holds the ranks of the active members under it (bit `r` for rank
/// `r`), so that the nearest ancestor holding one of a set is found by
/// looking at O(log n) nodes per piece of the chain.
#[derive(Debug, Clone)]
struct Reach {
    /// The tree laid out: each member's sponsor now, or when it joins.
    parent: Vec<u32>,
    layout: Layout,
    bits: Vec<u64>,
}

impl Reach {
    /// The ranks node `i` (of the whole array) holds.
    #[inline]
    fn bits(&self, i: usize) -> u64 {
        self.bits.get(i).copied().unwrap_or(0)
    }

    /// Set the leaf of member `m` to `holds` and its trees' nodes above it.
    fn put(&mut self, m: u32, holds: u64) -> Result<(), Missing> {
        let p = self.layout.place(m)?;
        let mut i = p.width + p.index;
        *self
            .bits
            .get_mut(p.base + i)
            .must(MemberAt(m), "rank path")? = holds;
        while i > 1 {
            i >>= 1;
            let both = self.bits(p.base + 2 * i) | self.bits(p.base + 2 * i + 1);
            *self
                .bits
                .get_mut(p.base + i)
                .must(MemberAt(m), "rank path")? = both;
        }
        Ok(())
    }

    /// The nearest proper ancestor of `m` holding a rank of `mask`, or [`NONE`].
    fn nearest(&self, m: u32, mask: u64) -> u32 {
        let Ok(mut p) = self.layout.place(m) else {
            return NONE;
        };
        // Indices on the piece before `end` are ancestors of the chain.
        let mut end = p.index;
        loop {
            if let Some(k) = end.checked_sub(1) {
                if let Some(i) = self.last(p.base, p.width, k, mask) {
                    let who = self.layout.who.get(p.base + p.width + i);
                    return who.copied().unwrap_or(NONE);
                }
            }
            if p.hang == NONE {
                return NONE;
            }
            let Ok(next) = self.layout.place(p.hang) else {
                return NONE;
            };
            (p, end) = (next, next.index + 1);
        }
    }

    /// The last index up to `k` of the path at `base` (of `width`) whose
    /// member holds a rank of `mask`.
    fn last(&self, base: usize, width: usize, k: usize, mask: u64) -> Option<usize> {
        let mut i = width + k;
        if self.bits(base + i) & mask != 0 {
            return Some(k);
        }
        // Up from the leaf: each left sibling met covers the indices just
        // before those seen so far.
        while i > 1 {
            if i & 1 == 1 && self.bits(base + i - 1) & mask != 0 {
                let mut j = i - 1;
                while j < width {
                    j = match self.bits(base + 2 * j + 1) & mask != 0 {
                        true => 2 * j + 1,
                        false => 2 * j,
                    };
                }
                return Some(j - width);
            }
            i >>= 1;
        }
        None
    }
}

/// Cells a row of `used` cells takes: a power of two up to a line, else whole lines.
fn row_width(used: usize) -> usize {
    if used <= LINE {
        used.next_power_of_two()
    } else {
        used.div_ceil(LINE) * LINE
    }
}

impl Upline {
    /// The rows of `forest`'s members with their evaluated `rank` and
    /// `active`, and the link columns of `links`.
    pub fn build(
        forest: &Forest,
        rank: &[RankIdx],
        active: &[bool],
        links: &Links,
    ) -> Result<Upline> {
        let n = forest.len();
        let width = row_width(FIXED + links.masks.len());
        // Room to move the first row to a 64-byte boundary: the vector's own
        // alignment is only that of a `u32`.
        let cells = vec![0u32; n.saturating_mul(width).saturating_add(LINE)];
        let misaligned = (cells.as_ptr() as usize % 64) / 4;
        let start = (LINE - misaligned) % LINE;
        let mut up = Upline {
            width,
            start,
            cells,
            live: Vec::new(),
            reach: None,
        };
        let (parents, depths) = (forest.parent.iter(), forest.depth.iter());
        for (m, (&p, &d)) in (0u32..).zip(parents.zip(depths)) {
            let path = || MemberAt(m);
            let r = u32::from(*rank.get(m as usize).must(path(), "rank")?);
            let a = if *active.get(m as usize).must(path(), "activity")? {
                ACTIVE
            } else {
                0
            };
            let row = up.row_mut(m).and_then(|row| row.get_mut(..FIXED));
            row.must(path(), "upline row")?
                .copy_from_slice(&[p, d, r | a]);
        }
        if links.masks.is_empty() {
            return Ok(up);
        }
        // Parents first: a sponsor's links are set before its members read them.
        let mut from = vec![NONE; links.masks.len()];
        for &m in &forest.parents_first {
            let p = up.cell(m, PARENT);
            if p == NONE {
                from.fill(NONE);
            } else {
                let holds = if up.active(p) {
                    rank_bit(usize::from(up.rank(p)))
                } else {
                    0
                };
                let sponsor = up.row(p).and_then(|r| r.get(FIXED..));
                let sponsor = sponsor.must(MemberAt(p), "upline row")?;
                for ((f, &mask), &beyond) in from.iter_mut().zip(&links.masks).zip(sponsor) {
                    *f = if mask & holds != 0 { p } else { beyond };
                }
            }
            let cells = up.row_mut(m).and_then(|r| r.get_mut(FIXED..));
            for (c, &f) in cells.must(MemberAt(m), "upline row")?.iter_mut().zip(&from) {
                *c = f;
            }
        }
        Ok(up)
    }

    /// A live table of `n` members with the link columns of `links`, each
    /// member a root of the lowest rank, inactive, until [`Upline::set`].
    pub fn live(n: usize, links: &Links) -> Upline {
        let mut cells = vec![0u32; n.saturating_mul(FIXED + 1)];
        for row in cells.chunks_exact_mut(FIXED + 1) {
            if let Some(p) = row.get_mut(PARENT) {
                *p = NONE;
            }
        }
        Upline {
            width: FIXED + 1,
            start: 0,
            cells,
            live: links.masks.clone(),
            reach: None,
        }
    }

    /// One more row in a live table (the next member: no sponsor,
    /// inactive), for a member joining a period a ledger keeps live (§14).
    pub fn push_row(&mut self) {
        let start = self.cells.len();
        self.cells.resize(start + self.width, 0);
        if let Some(p) = self.cells.get_mut(start + PARENT) {
            *p = NONE;
        }
    }

    /// Lay a live table's tree out in heavy paths, so that links are found
    /// in O(log² n): `parent` holds the sponsor of each of the first members,
    /// now, or, for one not joined yet (a row of no sponsor, inactive), when
    /// it joins; the members after them join with [`Upline::join`]. A row
    /// set later on another sponsor takes the table back to walking until
    /// it is laid out again (after a move).
    pub fn lay(&mut self, parent: &[u32]) -> Result<()> {
        let layout = Layout::of(parent)?;
        let mut reach = Reach {
            parent: parent.to_vec(),
            bits: vec![0; layout.nodes],
            layout,
        };
        for (m, &p) in (0u32..).zip(parent) {
            let holds = self.holds(m);
            if self.cell(m, PARENT) != p && (self.cell(m, PARENT) != NONE || holds != 0) {
                return Err(Error::missing(
                    &format!("members[{m}]"),
                    "a row on the tree laid out",
                ));
            }
            let leaf = reach.layout.place(m)?;
            let leaf = leaf.base + leaf.width + leaf.index;
            *reach.bits.get_mut(leaf).must(MemberAt(m), "rank path")? = holds;
        }
        for path in &reach.layout.paths {
            for i in (1..path.width).rev() {
                let both = reach.bits(path.base + 2 * i) | reach.bits(path.base + 2 * i + 1);
                *reach
                    .bits
                    .get_mut(path.base + i)
                    .must("members", "rank path")? = both;
            }
        }
        self.reach = Some(reach);
        Ok(())
    }

    /// Member `m`, the next one, joins a live table laid out under
    /// `sponsor`, holding no rank yet ([`Layout::append`]; [`Upline::worn`]
    /// says when to lay it out anew).
    pub fn join(&mut self, m: u32, sponsor: u32) -> Result<()> {
        if let Some(reach) = self.reach.as_mut() {
            reach.layout.append(m, sponsor)?;
            reach.parent.push(sponsor);
            reach.bits.extend([0, 0]);
        }
        Ok(())
    }

    /// Whether enough members joined since the table was laid out to lay
    /// it out anew.
    pub fn worn(&self) -> bool {
        self.reach.as_ref().is_some_and(|r| r.layout.worn())
    }

    /// The rank `m` holds for the links, as a mask: none when inactive.
    fn holds(&self, m: u32) -> u64 {
        match self.active(m) {
            true => rank_bit(usize::from(self.rank(m))),
            false => 0,
        }
    }

    /// After `m`'s row changed: its rank on the paths, or no paths if it
    /// is on another sponsor than the tree they were laid out on (a member
    /// joining takes the sponsor it was laid out under).
    fn relay(&mut self, m: u32) -> Result<(), Missing> {
        let (p, holds) = (self.cell(m, PARENT), self.holds(m));
        let Some(reach) = self.reach.as_mut() else {
            return Ok(());
        };
        if reach.parent.get(m as usize) == Some(&p) {
            reach.put(m, holds)
        } else {
            self.reach = None;
            Ok(())
        }
    }

    /// Set member `m`'s sponsor, depth, rank and activity (a live table).
    pub fn set(
        &mut self,
        m: u32,
        parent: u32,
        depth: u32,
        rank: RankIdx,
        active: bool,
    ) -> Result<()> {
        let a = if active { ACTIVE } else { 0 };
        let row = self.row_mut(m).and_then(|row| row.get_mut(..FIXED));
        row.must(MemberAt(m), "upline row")?
            .copy_from_slice(&[parent, depth, u32::from(rank) | a]);
        Ok(self.relay(m)?)
    }

    /// Member `m`'s sponsor, depth, rank and activity as a live table
    /// stores them (what [`Upline::set`] wrote).
    pub fn row_of(&self, m: u32) -> Result<Row, Missing> {
        let row = self.row(m).and_then(|row| row.get(..FIXED));
        row.and_then(|r| Row::try_from(r).ok())
            .must(MemberAt(m), "upline row")
    }

    /// Write member `m`'s row as [`Upline::row_of`] read it.
    pub fn set_row(&mut self, m: u32, row: Row) -> Result<(), Missing> {
        let cells = self.row_mut(m).and_then(|r| r.get_mut(..FIXED));
        cells.must(MemberAt(m), "upline row")?.copy_from_slice(&row);
        self.relay(m)
    }

    /// Where `m`'s row starts in `cells`.
    #[inline]
    fn at(&self, m: u32) -> usize {
        self.start + m as usize * self.width
    }

    #[inline]
    fn row(&self, m: u32) -> Option<&[u32]> {
        let at = self.at(m);
        self.cells.get(at..at + self.width)
    }

    fn row_mut(&mut self, m: u32) -> Option<&mut [u32]> {
        let at = self.at(m);
        self.cells.get_mut(at..at + self.width)
    }

    #[inline]
    fn cell(&self, m: u32, c: usize) -> u32 {
        self.cells.get(self.at(m) + c).copied().unwrap_or(NONE)
    }

    /// Ask for the row of `m`'s sponsor to be brought into the cache, without
    /// waiting for it: the first ancestor a schedule reads, at a random place
    /// in the table (`m`'s own row, read just before, is usually near the
    /// last one read).
    #[inline]
    pub fn prefetch_sponsor(&self, m: u32) {
        if let Some(p) = self.parent(m) {
            self.prefetch(p);
        }
    }

    /// Bring the rows of the chains of the members a live table is about to
    /// be walked from into the cache ahead of the walks ([`Ahead`]): `next`,
    /// the start of the walk [`WALKS_AHEAD`] walks from now ([`NONE`]: no
    /// walk), comes in; the rows of a member's first [`WALKS_AHEAD`]
    /// ancestors, which [`Upline::link`] reads one by one, have been asked
    /// for by its walk.
    pub fn ahead(&self, ahead: &mut Ahead<WALKS_AHEAD>, next: u32) {
        ahead.step(next, |x| self.cell(x, PARENT), |x| self.prefetch(x));
    }

    /// Ask for `m`'s row to be brought into the cache ([`NONE`]: nothing).
    #[inline]
    fn prefetch(&self, m: u32) {
        if m != NONE {
            prefetch_index::prefetch_index(&self.cells, self.at(m));
        }
    }

    /// The sponsor of `m`, if any.
    #[inline]
    pub fn parent(&self, m: u32) -> Option<u32> {
        Some(self.cell(m, PARENT)).filter(|&p| p != NONE)
    }

    /// Depth of `m` (a root has depth 0).
    #[inline]
    pub fn depth(&self, m: u32) -> u32 {
        match self.cell(m, DEPTH) {
            NONE => 0,
            d => d,
        }
    }

    /// The evaluated rank of `m`.
    #[inline]
    pub fn rank(&self, m: u32) -> RankIdx {
        (self.cell(m, RANK) & 0xffff) as RankIdx
    }

    /// Whether `m` is active.
    #[inline]
    pub fn active(&self, m: u32) -> bool {
        self.cell(m, RANK) & ACTIVE != 0
    }

    /// The nearest active proper ancestor of `m` holding a rank of link
    /// column `c` ([`Links::column`]), or [`NONE`].
    #[inline]
    pub fn link(&self, m: u32, c: usize) -> u32 {
        if self.live.is_empty() {
            return self.cell(m, FIXED + c);
        }
        let mask = self.live.get(c).copied().unwrap_or(0);
        // The first few ancestors one by one (most links are near: a row
        // read is one load), then the rest on the paths.
        let mut x = self.cell(m, PARENT);
        let mut steps = 0;
        while x != NONE {
            if self.holds(x) & mask != 0 {
                return x;
            }
            steps += 1;
            if let (WALK, Some(reach)) = (steps, &self.reach) {
                return reach.nearest(x, mask);
            }
            x = self.cell(x, PARENT);
        }
        NONE
    }
}

#[cfg(test)]
// Test tables hold a few thousand entries: their indices fit any integer.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
mod tests {
    use super::{at_least, row_width, Links, Upline, NONE};
    use crate::graph::Forest;
    use crate::index::Packed;
    use proptest::prelude::*;

    /// The nearest proper ancestor of `m` that is active with a rank in
    /// `mask`, by walking up one sponsor at a time.
    fn walk(parent: &[u32], rank: &[u16], active: &[bool], mask: u64, m: u32) -> u32 {
        let mut cur = parent[m as usize];
        while cur != NONE {
            if active[cur as usize] && mask & (1 << rank[cur as usize]) != 0 {
                return cur;
            }
            cur = parent[cur as usize];
        }
        NONE
    }

    fn check(parent: Vec<u32>, rank: Vec<u16>, active: Vec<bool>, masks: &[u64]) {
        let names: Vec<String> = (0..parent.len()).map(|i| format!("m{i}")).collect();
        let ids = Packed::new(names.iter().map(String::as_str));
        let forest = Forest::build(parent.clone(), &ids).unwrap();
        let mut links = Links::default();
        let cols: Vec<usize> = masks.iter().map(|&m| links.column(m)).collect();
        let up = Upline::build(&forest, &rank, &active, &links).unwrap();
        assert_eq!((up.cells.as_ptr() as usize + up.start * 4) % 64, 0);
        for m in 0..parent.len() as u32 {
            let i = m as usize;
            assert_eq!(up.parent(m), Some(parent[i]).filter(|&p| p != NONE));
            assert_eq!(up.depth(m), forest.depth[i]);
            assert_eq!(up.rank(m), rank[i]);
            assert_eq!(up.active(m), active[i]);
            for (&mask, &c) in masks.iter().zip(&cols) {
                assert_eq!(
                    up.link(m, c),
                    walk(&parent, &rank, &active, mask, m),
                    "m{m} mask {mask:b}"
                );
            }
        }
    }

    #[test]
    fn rows_are_powers_of_two_up_to_a_line_then_whole_lines() {
        assert_eq!(row_width(3), 4);
        assert_eq!(row_width(4), 4);
        assert_eq!(row_width(5), 8);
        assert_eq!(row_width(16), 16);
        assert_eq!(row_width(17), 32);
        assert_eq!(row_width(3 + 192), 208);
    }

    #[test]
    fn the_same_ranks_share_a_column() {
        let mut links = Links::default();
        assert_eq!(links.column(at_least(1, 4)), 0);
        assert_eq!(links.column(0b0100), 1);
        assert_eq!(links.column(0b1110), 0);
        assert_eq!(at_least(0, 64), u64::MAX);
        assert_eq!(at_least(3, 2), 0);
    }

    #[test]
    fn links_skip_to_the_nearest_qualifying_ancestor() {
        // 0 ← 1 ← 2 ← 3 ← 4, 0 ← 5; 6 a root; listed members before sponsors
        // too (the parents-first pass then follows the sorted order).
        let parent = vec![NONE, 0, 1, 2, 3, 0, NONE];
        let rank = vec![3, 1, 2, 0, 1, 2, 1];
        let active = vec![true, true, false, true, true, true, true];
        check(
            parent,
            rank.clone(),
            active.clone(),
            &[0b1110, 0b1100, 0b0010, 0],
        );
        let later = vec![1, 2, 3, 4, NONE, 4, NONE];
        check(
            later,
            vec![1, 0, 2, 1, 3, 2, 1],
            vec![true, true, false, true, true, true, true],
            &[0b1110, 0b1000],
        );
    }

    proptest! {
        #[test]
        fn links_are_what_a_walk_to_the_root_finds(
            tree in (1usize..60).prop_flat_map(|n| (
                (0..n).map(|i| (0..=i).prop_map(move |p| if p == i { NONE } else { p as u32 }))
                    .collect::<Vec<_>>(),
                proptest::collection::vec(0u16..5, n),
                proptest::collection::vec(any::<bool>(), n),
            )),
            masks in proptest::collection::vec(0u64..32, 0..20),
            shuffle in any::<proptest::sample::Index>(),
        ) {
            let (parent, rank, active) = tree;
            // Also listed in another order: member i moves to (i + k) mod n
            // with its sponsor, so some members come before their sponsors.
            let n = parent.len();
            let k = shuffle.index(n);
            let moved = |i: usize| (i + k) % n;
            let mut p2 = vec![NONE; n];
            let (mut r2, mut a2) = (vec![0; n], vec![false; n]);
            for i in 0..n {
                p2[moved(i)] = if parent[i] == NONE { NONE } else { moved(parent[i] as usize) as u32 };
                r2[moved(i)] = rank[i];
                a2[moved(i)] = active[i];
            }
            check(parent, rank, active, &masks);
            check(p2, r2, a2, &masks);
        }

        #[test]
        fn live_links_on_heavy_paths_are_what_a_walk_finds(
            // Deep trees (each sponsor among the few members before), so
            // that links look past the ancestors read one by one.
            tree in (1usize..150).prop_flat_map(|n| (
                (0..n).map(|i| (i.saturating_sub(4)..i.max(1)).prop_map(move |p| if p == i { NONE } else { p as u32 }))
                    .collect::<Vec<_>>(),
                proptest::collection::vec(0u16..5, n),
                // Few active: qualifying ancestors far apart.
                proptest::collection::vec(proptest::bool::weighted(0.05), n),
                0..=n,
            )),
            masks in proptest::collection::vec(1u64..32, 1..6),
            changes in proptest::collection::vec((any::<proptest::sample::Index>(), 0u16..5, any::<bool>()), 0..30),
            mover in any::<proptest::sample::Index>(),
        ) {
            // Members from `joined` on have not joined: rows of no sponsor,
            // inactive, laid out under the sponsor they will have.
            let (mut parent, mut rank, mut active, joined) = tree;
            let n = parent.len();
            let mut links = Links::default();
            let cols: Vec<usize> = masks.iter().map(|&m| links.column(m)).collect();
            let mut up = Upline::live(n, &links);
            for m in 0..joined {
                up.set(m as u32, parent[m], 0, rank[m], active[m]).unwrap();
            }
            up.lay(&parent).unwrap();
            let agree = |up: &Upline, parent: &[u32], rank: &[u16], active: &[bool]| {
                for m in 0..joined as u32 {
                    for (&mask, &c) in masks.iter().zip(&cols) {
                        assert_eq!(up.link(m, c), walk(parent, rank, active, mask, m), "m{m} mask {mask:b}");
                    }
                }
            };
            let (r0, a0) = (rank.clone(), active.clone());
            let seen = |r: &[u16], a: &[bool]| -> (Vec<u16>, Vec<bool>) {
                (0..n).map(|m| if m < joined { (r[m], a[m]) } else { (0, false) }).unzip()
            };
            let (r, a) = seen(&r0, &a0);
            agree(&up, &parent, &r, &a);
            // Ranks and activity change: the paths follow at once.
            for (who, r, a) in changes {
                let m = who.index(joined.max(1)).min(n - 1);
                if m < joined {
                    (rank[m], active[m]) = (r, a);
                    up.set(m as u32, parent[m], 0, r, a).unwrap();
                }
            }
            let (r, a) = seen(&rank, &active);
            agree(&up, &parent, &r, &a);
            // A member moves to a root: links walk until laid out again.
            let m = mover.index(n);
            if m < joined && parent[m] != NONE {
                parent[m] = NONE;
                up.set(m as u32, NONE, 0, rank[m], active[m]).unwrap();
                agree(&up, &parent, &r, &a);
                up.lay(&parent).unwrap();
                agree(&up, &parent, &r, &a);
            }
        }
    }
}
