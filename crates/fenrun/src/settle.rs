//! Settlement (§5–§7): each order through its seller's schedule and the
//! kernel, refunds reversed, pools shared, and the settlement with its summary.
//!
//! [`crate::Engine::new`] evaluates ranks and activity once and prepares, for every
//! rule, "nearest ancestor that qualifies" links, so each rule takes at most
//! as many steps per order as it can pay, whatever the depth of the chain.
//! Orders are then independent of each other (a refund only needs its own
//! order), which is what lets a batch be settled in parts and merged (§10.6).

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::batch::{Batch, Event};
use crate::blocks::Blocks;
use crate::error::{At, Error, EventAt, MemberAt, Missing, Must, Result, Where};
use crate::events::Party;
use crate::graph::NONE;
use crate::hold::Timestamp;
use crate::ids::{idx32, rule_idx, RuleId};
use crate::kernel::{
    self, Base, Book, IntPrice, IntRate, Open, Outcome, Overflow, Paid, Prices, SlotOf,
};
use crate::limits;
use crate::lines::{available_at, Line, LineNames, LineTable, LineView, MEMBER_CAP};
use crate::money::Rounding;
use crate::policy::Policy;
use crate::progress::{SettleProgress, Tick};
use crate::rank::{RankChange, Ranking};
use crate::rule::{pool, On, Price, RuleKind};
use crate::running::Running;
use crate::state::State;
use crate::upline::{Upline, WALKS_AHEAD};

/// What one order's rules produced before any refund: the kernel's outcome
/// and its lines.
#[derive(Debug, Clone, Default)]
struct OrderOutcome {
    out: Outcome<Decimal>,
    lines: Vec<Line>,
    /// The integer representation's outcome, before it is written as money.
    units: Outcome<i64>,
}

/// One entry of a seller's schedule: a line (or, with `who` = [`NONE`], a
/// share that breaks) that every order of that seller produces.
#[derive(Debug, Clone, Copy)]
struct Slot {
    who: u32,
    level: u32,
    /// Index of its price in the [`RateTable`].
    rate: u32,
    rule: u16,
}

impl SlotOf for Slot {
    #[inline(always)]
    fn breaks(&self) -> bool {
        self.who == NONE
    }

    #[inline(always)]
    fn rule(&self) -> u16 {
        self.rule
    }
}

/// The distinct prices schedules use (a policy has few), so a slot stays
/// small, and each in integers at the policy scale.
#[derive(Debug, Default)]
struct RateTable(
    Vec<Price>,
    HashMap<(bool, [u8; 16]), u32, foldhash::fast::RandomState>,
    /// The prices in integers at the scale of [`RateTable::index`], by
    /// index (None: too large for i64).
    Vec<Option<IntPrice>>,
);

impl RateTable {
    /// The index of `price`, which the table holds at `scale` in integers too.
    fn index(&mut self, price: Price, scale: u32) -> u32 {
        // A price made the same way before has the same bytes: found by them
        // (much cheaper than comparing values, which aligns scales). A price
        // of equal value written otherwise ("0.1", "0.10") is found by value
        // and then known by its bytes too; the table holds no two equal prices.
        let bytes = (price.is_fixed(), price.value().serialize());
        if let Some(&i) = self.1.get(&bytes) {
            return i;
        }
        let i = match self.0.iter().position(|p| *p == price) {
            Some(i) => idx32(i),
            None => {
                self.0.push(price);
                self.2.push(IntPrice::of(price, scale));
                idx32(self.0.len() - 1)
            }
        };
        self.1.insert(bytes, i);
        i
    }

    /// Price `i`, as [`RateTable::index`] gave it out.
    fn get(&self, i: u32) -> Option<Price> {
        self.0.get(i as usize).copied()
    }

    /// Price `i`, or `internal` naming `path`.
    fn must(&self, i: u32, at: impl Into<Where>) -> Result<Price, Missing> {
        self.get(i).must(at, "rate")
    }
}

/// How many orders ahead [`State::run`] asks for a seller's schedule.
const SCHEDULES_AHEAD: usize = 16;

/// Schedules of the sellers met so far, built on a seller's first order of
/// a category.
struct Schedules {
    /// Per seller: `(start, end)` in `slots` of its schedule for orders of
    /// no category the policy names, or `(NONE, NONE)` when not built yet.
    span: Vec<(u32, u32)>,
    /// Per seller and category the policy names, once built: a map rather
    /// than a table of members × categories, which many categories would
    /// make large and sparse.
    by_category: HashMap<(u32, u16), (u32, u32), foldhash::fast::RandomState>,
    slots: Vec<Slot>,
    rates: RateTable,
    /// Scratch for a schedule that does not fit the u32 spans (never in practice).
    scratch: Vec<Slot>,
}

impl Schedules {
    fn new(members: usize) -> Schedules {
        Schedules {
            span: vec![(NONE, NONE); members],
            by_category: HashMap::default(),
            slots: Vec::new(),
            rates: RateTable::default(),
            scratch: Vec::new(),
        }
    }

    /// Ask for the cache line of `seller`'s span (orders of no named
    /// category), a few orders before it is read.
    fn prefetch_span(&self, seller: u32) {
        prefetch_index::prefetch_index(&self.span, seller as usize);
    }

    /// Ask for the first slots of `seller`'s schedule, once built, whose
    /// span [`Schedules::prefetch_span`] brought in earlier.
    fn prefetch_slots(&self, seller: u32) {
        if let Some(&(start, _)) = self.span.get(seller as usize) {
            if start != NONE {
                prefetch_index::prefetch_index(&self.slots, start as usize);
            }
        }
    }

    /// The schedule of `seller` for orders of `category`, walking the tree
    /// on its first such order only.
    fn of(
        &mut self,
        seller: u32,
        category: u16,
        engine: &State,
        up: &Upline,
    ) -> Result<(&[Slot], &RateTable), Missing> {
        let path = || MemberAt(seller);
        let built = if category == 0 {
            self.span
                .get(seller as usize)
                .copied()
                .must(path(), "schedule")?
        } else {
            let built = self.by_category.get(&(seller, category)).copied();
            built.unwrap_or((NONE, NONE))
        };
        let (start, end) = built;
        if start != NONE {
            let slots = self.slots.get(start as usize..end as usize);
            return Ok((slots.must(path(), "schedule")?, &self.rates));
        }
        let from = self.slots.len();
        engine.schedule(up, seller, category, &mut self.rates, &mut self.slots)?;
        match (u32::try_from(from), u32::try_from(self.slots.len())) {
            (Ok(a), Ok(b)) if b != NONE => {
                if category == 0 {
                    *self
                        .span
                        .get_mut(seller as usize)
                        .must(path(), "schedule")? = (a, b);
                } else {
                    self.by_category.insert((seller, category), (a, b));
                }
            }
            _ => {
                self.scratch.clear();
                self.scratch.extend(self.slots.drain(from..));
                return Ok((&self.scratch, &self.rates));
            }
        }
        let slots = self.slots.get(from..).must(path(), "schedule")?;
        Ok((slots, &self.rates))
    }
}

/// An order [`BySeller`] cannot settle from its units alone: it has refunds,
/// or its amount does not fit `i64` units.
#[derive(Debug, Clone, Copy)]
struct Slow {
    /// The amount in units of the policy's scale, or 0 when it does not fit
    /// an `i64` (then it is read from the event).
    units: i64,
    /// Its schedule class (the policy's index of its category, §12.1).
    class: u16,
    event: u32,
    /// Where the order's refunds start in [`BySeller::refunds`], or [`NONE`]
    /// when it has none.
    first_refund: u32,
}

/// A batch's orders grouped by seller (input order within a seller), each
/// with its schedule class, and its refunds grouped by order (input order
/// within an order): orders counted per seller, then placed by a two-pass
/// radix partition; refunds sorted by order, then laid out in the order the
/// loop meets their orders.
struct BySeller {
    /// `start[s]..start[s + 1]`: the positions of seller `s`'s orders in `orders`.
    start: Vec<u32>,
    /// The orders, seller by seller, eight bytes each (the loop reads them in
    /// sequence): an order without refunds whose amount fits the entry is
    /// `units << class_bits | class` (> 0); any other is `-k` for its entry
    /// `k` in `slow`.
    orders: Vec<i64>,
    /// Bits of a fast entry that hold its class (0 when every order has class 0).
    class_bits: u32,
    slow: Vec<Slow>,
    /// The refunds of each refunded order together, the orders in the order
    /// the loop meets them (seller order), one order's refunds in input order.
    refunds: Vec<RefundEntry>,
}

/// Sellers in a bucket of [`BySeller::new`]'s first pass: 2^(64 − [`VALUE_BITS`]),
/// so that a seller's place in its bucket fits the bits above an entry.
const BUCKET: usize = 1 << (64 - VALUE_BITS);
/// Bits of an order's entry kept beside its seller's place in the bucket
/// during [`BySeller::new`]: an entry is units below [`FAST_LIMIT`] or a slow
/// entry's `-k`, both within these bits as two's complement.
const VALUE_BITS: u32 = 52;
/// Orders of this many units or more take the slow path (about 2^51: no
/// real order, but an entry must fit [`VALUE_BITS`]).
const FAST_LIMIT: i64 = 1 << (VALUE_BITS - 1);

/// An entry with its seller's place `k` in the bucket in the top bits.
// Bit packing in two's complement, on purpose: `k` is below `BUCKET`.
#[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
fn pack(k: usize, value: i64) -> i64 {
    let low = (value as u64) & ((1u64 << VALUE_BITS) - 1);
    ((k as u64) << VALUE_BITS | low) as i64
}

/// The seller's place and the entry of [`pack`].
// The top bits of a packed entry, below `BUCKET`.
#[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
fn unpack(e: i64) -> (usize, i64) {
    let k = ((e as u64) >> VALUE_BITS) as usize;
    let value = (e << (64 - VALUE_BITS)) >> (64 - VALUE_BITS);
    (k, value)
}

/// A refund as [`BySeller`] holds it: read once in input order with its
/// order, so that the loop over a seller's orders reads no event row.
#[derive(Debug, Clone, Copy)]
struct RefundEntry {
    order: u32,
    event: u32,
    /// The amount in units of the policy's scale, or 0 when it does not fit
    /// an `i64` (then it is read from the event).
    units: i64,
    completes: bool,
}

impl BySeller {
    /// Every order of `batch` by seller, each with its class (`class(event)`,
    /// below `classes`: the policy's index of the order's category), or
    /// `internal` if one found no place (the tables' own invariants broken):
    /// never an order left out.
    fn new(
        batch: &Batch,
        scale: u32,
        classes: u16,
        class: impl Fn(usize) -> Result<u16, Missing>,
        units_matter: bool,
    ) -> Result<BySeller> {
        const WHERE: &str = "events";
        let n = batch.ids.len();
        // A fast entry keeps its class in its low bits, so fewer units fit.
        let class_bits = u16::BITS - classes.saturating_sub(1).leading_zeros();
        let fast_limit = FAST_LIMIT >> class_bits;
        let mut start = vec![0u32; n + 1];
        let mut refunds = Vec::new();
        for (i, p) in batch.events.parties().enumerate() {
            match p {
                Party::Seller(s) => {
                    *start.get_mut(s as usize + 1).must(EventAt(i), "seller")? += 1;
                }
                Party::RefundOf(order) => {
                    // The row just read: in cache.
                    if let Some(Event::Refund(r)) = batch.events.get(i) {
                        refunds.push(RefundEntry {
                            order,
                            event: idx32(i),
                            units: batch.events.units_at(i, scale).unwrap_or(0),
                            completes: r.completes,
                        });
                    }
                }
            }
        }
        // Stable: refunds of one order keep their input order.
        refunds.sort_by_key(|r| r.order);
        let mut sum = 0u32;
        for c in &mut start {
            sum += *c;
            *c = sum;
        }
        // Two passes of a radix partition instead of one scatter over the
        // whole array: first into buckets of `BUCKET` sellers (a few hundred
        // write streams, each filled front to back), then each bucket, copied
        // out, into seller order (its region and cursors fit the L2 cache).
        // One scatter over 80 MB missed the caches on almost every write.
        // An entry carries its seller's place in the bucket above its value.
        let buckets = n.div_ceil(BUCKET);
        // `start` has n + 1 entries: `s.min(n)` is always one of them.
        let at = |s: usize| {
            start
                .get(s.min(n))
                .map(|&a| a as usize)
                .must(WHERE, "seller")
        };
        let bucket_start = |b: usize| at(b * BUCKET);
        let mut fill: Vec<usize> = (0..buckets)
            .map(bucket_start)
            .collect::<Result<_, Missing>>()?;
        let mut orders = vec![0i64; sum as usize];
        let mut placed = 0usize;
        let mut slow = Vec::new();
        // Orders come in input order, and so do the refunded ones' entries in
        // `refunds` (sorted by order): one cursor finds each one's first refund.
        let mut cursor = 0usize;
        for (i, p) in batch.events.parties().enumerate() {
            if let Party::Seller(seller) = p {
                while refunds.get(cursor).is_some_and(|r| (r.order as usize) < i) {
                    cursor += 1;
                }
                let first_refund = match refunds.get(cursor) {
                    Some(r) if r.order as usize == i => idx32(cursor),
                    _ => NONE,
                };
                let units = batch.events.units_at(i, scale);
                let c = if class_bits == 0 { 0 } else { class(i)? };
                // An order of several units under a policy that reads them
                // (§12.5) is settled from its event, with its quantity.
                let single = !units_matter || batch.events.quantity(i) == 1;
                let value = match units {
                    Some(u) if first_refund == NONE && u < fast_limit && single => {
                        u << class_bits | i64::from(c)
                    }
                    // Numbered again below, in seller order.
                    _ => {
                        slow.push(Slow {
                            units: units.unwrap_or(0),
                            class: c,
                            event: idx32(i),
                            first_refund,
                        });
                        // Entries number fewer than 2^51 (they fit an order's entry).
                        #[allow(clippy::cast_possible_wrap)]
                        let k = (slow.len() - 1) as i64;
                        -k
                    }
                };
                let s = seller as usize;
                let pos = fill.get_mut(s / BUCKET).must(EventAt(i), "seller bucket")?;
                *orders.get_mut(*pos).must(EventAt(i), "order place")? = pack(s % BUCKET, value);
                *pos += 1;
                placed += 1;
            }
        }
        let mut scratch: Vec<i64> = Vec::new();
        let mut next = vec![0usize; BUCKET];
        if placed != orders.len() {
            return Err(Error::missing(WHERE, "order in seller order"));
        }
        for b in 0..buckets {
            let (from, to) = (bucket_start(b)?, bucket_start(b + 1)?);
            let region = orders.get_mut(from..to).must(WHERE, "seller bucket")?;
            scratch.clear();
            scratch.extend_from_slice(region);
            for (k, c) in next.iter_mut().enumerate() {
                *c = at(b * BUCKET + k)?.saturating_sub(from);
            }
            for &e in &scratch {
                let (k, value) = unpack(e);
                let pos = next.get_mut(k).must(WHERE, "seller in bucket")?;
                *region.get_mut(*pos).must(WHERE, "order place")? = value;
                *pos += 1;
            }
        }
        // Slow orders numbered in the order the settlement loop meets them,
        // so that it reads them in sequence too.
        let mut in_seller_order = Vec::with_capacity(slow.len());
        for entry in orders.iter_mut().filter(|e| **e <= 0) {
            let k = usize::try_from(entry.unsigned_abs()).ok();
            let s = k.and_then(|k| slow.get(k)).must(WHERE, "order entry")?;
            // Entries number fewer than 2^51 (they fit an order's entry).
            #[allow(clippy::cast_possible_wrap)]
            let k = in_seller_order.len() as i64;
            *entry = -k;
            in_seller_order.push(*s);
        }
        // The refunds too, so that the loop reads them in sequence rather
        // than one order's run at a random place each time.
        let mut refunds_in_order = Vec::with_capacity(refunds.len());
        for s in in_seller_order.iter_mut() {
            if s.first_refund == NONE {
                continue;
            }
            let rest = refunds.get(s.first_refund as usize..);
            let rest = rest.must(EventAt(s.event as usize), "refunds")?;
            // Refunds are events, fewer than `u32::MAX`.
            s.first_refund = idx32(refunds_in_order.len());
            let run = rest.iter().take_while(|r| r.order == s.event);
            refunds_in_order.extend(run);
        }
        let (slow, refunds) = (in_seller_order, refunds_in_order);
        Ok(BySeller {
            start,
            orders,
            class_bits,
            slow,
            refunds,
        })
    }

    /// The class of an entry of `orders`.
    #[inline(always)]
    fn class(&self, entry: i64) -> u16 {
        if self.class_bits == 0 {
            0
        } else if entry > 0 {
            u16::try_from(entry & ((1 << self.class_bits) - 1)).unwrap_or(0)
        } else {
            self.slow(entry).map_or(0, |s| s.class)
        }
    }

    /// The units of a fast entry (> 0) of `orders`.
    #[inline(always)]
    fn units(&self, entry: i64) -> i64 {
        entry >> self.class_bits
    }

    /// Number of sellers (members), every one with a possibly empty list.
    fn sellers(&self) -> u32 {
        idx32(self.start.len().saturating_sub(1))
    }

    fn orders_of(&self, seller: u32) -> Result<&[i64], Missing> {
        let s = seller as usize;
        let range = match (self.start.get(s), self.start.get(s + 1)) {
            (Some(&a), Some(&b)) => self.orders.get(a as usize..b as usize),
            _ => None,
        };
        range.must(MemberAt(seller), "orders")
    }

    /// The slow order of an entry of `orders`, or `None` for units.
    fn slow(&self, entry: i64) -> Option<Slow> {
        if entry > 0 {
            return None;
        }
        self.slow
            .get(usize::try_from(entry.unsigned_abs()).ok()?)
            .copied()
    }

    /// The refunds of `order`, in input order.
    fn refunds_of(&self, order: Slow) -> Result<&[RefundEntry], Missing> {
        if order.first_refund == NONE {
            return Ok(&[]);
        }
        let path = EventAt(order.event as usize);
        let rest = self.refunds.get(order.first_refund as usize..);
        let rest = rest.must(path, "refunds")?;
        let n = rest.iter().take_while(|r| r.order == order.event).count();
        rest.get(..n).must(path, "refunds")
    }

    /// Cut the sellers into at most `parts` contiguous ranges holding about as many orders each.
    fn split(&self, parts: usize) -> Vec<std::ops::Range<u32>> {
        let total = self.orders.len();
        let sellers = self.sellers();
        let parts = parts.clamp(1, total.max(1));
        let mut ranges = Vec::with_capacity(parts);
        let mut from = 0u32;
        for k in 1..parts {
            let goal = idx32(total * k / parts);
            let to = self
                .start
                .partition_point(|&c| c < goal)
                .min(sellers as usize);
            let to = idx32(to);
            if to > from {
                ranges.push(from..to);
                from = to;
            }
        }
        if from < sellers || ranges.is_empty() {
            ranges.push(from..sellers);
        }
        ranges
    }
}

/// An order that has refunds: its lines, and what the refunds reversed so far.
#[derive(Debug, Clone)]
struct Reversible {
    open: Open<Decimal>,
    lines: Vec<Line>,
}

impl Reversible {
    /// An order of `amount` that produced `o`, nothing reversed yet.
    fn of(amount: Decimal, o: &OrderOutcome) -> Reversible {
        let mut open = Open::default();
        open.reset(amount, &o.out);
        Reversible {
            open,
            lines: o.lines.clone(),
        }
    }
}

/// The lines, breakage and cap cut of every order of a live pass, packed
/// for the refunds that may come (a period a ledger keeps live, whose
/// refunds are not known ahead, §14): what [`Reversible::of`] keeps of an
/// order, in 16 bytes a line, made into a [`Reversible`] at the order's
/// first refund. Held in blocks: kept for the whole period, they grow
/// without being copied.
#[derive(Debug, Default)]
struct Kept {
    /// Per event up to the last order kept, where its lines start in
    /// `lines` (a refund's: where the next order's do).
    start: Blocks<usize>,
    lines: Blocks<KeptLine>,
    /// What lines share but their member and amount: a policy's rules,
    /// levels and rates make few of them, each kept once.
    shapes: Vec<Shape>,
    shape_index: HashMap<ShapeKey, u32, foldhash::fast::RandomState>,
    /// Amounts beyond 64 bits, by line.
    big: HashMap<usize, i128, foldhash::fast::RandomState>,
    /// (order, rule, breakage) and (order, cut) as the kernel gave them, in
    /// event order; a cut only when it is not zero.
    breakage: Blocks<(u32, u16, Decimal)>,
    cuts: Blocks<(u32, Decimal)>,
}

/// One kept line: its amount in units ([`KEPT_BIG`]: in `Kept::big`), its
/// member and its shape (in `Kept::shapes`).
#[derive(Debug, Clone, Copy)]
struct KeptLine {
    amount: i64,
    beneficiary: u32,
    shape: u32,
}

/// A kept line's rule, level and rate, the rate written as it is (`0.1`
/// and `0.10` apart).
#[derive(Debug, Clone, Copy)]
struct Shape {
    rate: Decimal,
    level: u32,
    rule: u16,
    fixed: bool,
    per_unit: bool,
}

/// A [`Shape`] as a key: the rate's bytes, then the level, the rule and
/// the flags in one word.
type ShapeKey = (u128, u64);

impl Shape {
    fn key(&self) -> ShapeKey {
        let word = u64::from(self.level) << 32
            | u64::from(self.rule) << 16
            | u64::from(self.fixed) << 1
            | u64::from(self.per_unit);
        (u128::from_le_bytes(self.rate.serialize()), word)
    }
}

const KEPT_BIG: i64 = i64::MIN;

impl Kept {
    /// Keep order `i`'s outcome `o`.
    fn push(&mut self, i: usize, o: &OrderOutcome) -> Result<()> {
        let at = self.lines.len();
        while self.start.len() <= i {
            self.start.push(at);
        }
        for l in &o.lines {
            let shape = Shape {
                rate: l.rate,
                level: l.level,
                rule: l.rule,
                fixed: l.fixed,
                per_unit: l.per_unit,
            };
            let key = shape.key();
            let shape = match self.shape_index.get(&key) {
                Some(&k) => k,
                None => {
                    let k = u32::try_from(self.shapes.len()).map_err(|_| {
                        overflow("lines", "rules, levels and rates of a live period")
                    })?;
                    self.shapes.push(shape);
                    self.shape_index.insert(key, k);
                    k
                }
            };
            let amount = match i64::try_from(l.amount) {
                Ok(a) if a != KEPT_BIG => a,
                _ => {
                    self.big.insert(self.lines.len(), l.amount);
                    KEPT_BIG
                }
            };
            self.lines.push(KeptLine {
                amount,
                beneficiary: l.beneficiary,
                shape,
            });
        }
        let order = idx32(i);
        for &(r, b) in &o.out.breakage {
            self.breakage.push((order, r, b));
        }
        if !o.out.cut.is_zero() {
            self.cuts.push((order, o.out.cut));
        }
        Ok(())
    }

    /// Order `i` (of `amount`) as [`Reversible::of`] made it.
    fn reversible(&self, i: usize, amount: Decimal, scale: u32) -> Result<Reversible> {
        let at = |k: usize| self.start.get(k).copied();
        let from = at(i).must(EventAt(i), "kept lines")?;
        let to = at(i + 1).unwrap_or(self.lines.len());
        (from <= to && to <= self.lines.len())
            .then_some(())
            .must(EventAt(i), "kept lines")?;
        let mut lines = Vec::with_capacity(to - from);
        let mut amounts = Vec::with_capacity(to - from);
        for (k, l) in (from..).zip(self.lines.range(from, to)) {
            let units = match l.amount {
                KEPT_BIG => *self.big.get(&k).must(EventAt(i), "kept amount")?,
                a => i128::from(a),
            };
            amounts.push(money(units, scale)?);
            let shape = self
                .shapes
                .get(l.shape as usize)
                .must(EventAt(i), "kept line")?;
            lines.push(Line {
                order: idx32(i),
                refund: NONE,
                rule: shape.rule,
                beneficiary: l.beneficiary,
                level: shape.level,
                base: 0,
                rate: shape.rate,
                amount: units,
                fixed: shape.fixed,
                per_unit: shape.per_unit,
            });
        }
        let order = idx32(i);
        let first = self.breakage.partition_point(|b| b.0 < order);
        let breakage = self.breakage.range(first, self.breakage.len());
        let breakage = breakage.take_while(|b| b.0 == order);
        let cut = self.cuts.get(self.cuts.partition_point(|c| c.0 < order));
        let cut = cut.filter(|c| c.0 == order).map_or(Decimal::ZERO, |c| c.1);
        Ok(Reversible {
            open: Open::of_parts(
                amount,
                amounts.into_iter(),
                breakage.map(|b| (b.1, b.2)),
                cut,
            ),
            lines,
        })
    }
}

/// The order lines, breakage and cap cut of some of a batch's orders with their refunds.
/// Parts of one engine merge exactly ([`Part::merge`]); pools are added by [`crate::Engine::finish`].
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// Lines kept in memory (empty when they went to a sink).
    pub(crate) lines: LineTable,
    pub(crate) breakage: Vec<Decimal>,
    pub(crate) cap_cut: Decimal,
    /// Net amount per member index in units of `scale` (a line's amount
    /// always has the policy scale's decimals, at most), and whether it
    /// has any line.
    pub(crate) totals: Vec<i128>,
    pub(crate) has_line: Vec<bool>,
    /// Every line's amount added up, in units of `scale`.
    pub(crate) paid: i128,
    pub(crate) scale: u32,
    /// Lines of [`Part::book_soon`] not yet in `totals`: (member, units).
    pending: Vec<(u32, i128)>,
}

/// Lines [`Part::book_soon`] holds before adding them to the totals.
const PENDING: usize = 4096;

impl Part {
    pub(crate) fn new(members: usize, rules: usize, scale: u32) -> Part {
        Part {
            lines: LineTable::new(scale),
            breakage: vec![Decimal::ZERO; rules],
            cap_cut: Decimal::ZERO,
            totals: vec![0; members],
            has_line: vec![false; members],
            paid: 0,
            scale,
            pending: Vec::with_capacity(PENDING),
        }
    }

    /// Room for `n` members' totals (members who joined a live period).
    pub(crate) fn grow(&mut self, n: usize) {
        if n > self.totals.len() {
            self.totals.resize(n, 0);
            self.has_line.resize(n, false);
        }
    }

    /// [`Part::book`] for the lines of many orders in a row: the line is
    /// counted in the total paid now, and in its member's total by
    /// [`Part::flush`], a few thousand lines at a time, which asks for each
    /// member's total a few lines ahead so that the cache misses of a large
    /// member table overlap rather than come one after another.
    fn book_soon(&mut self, l: &Line) -> Result<()> {
        let units = l.amount;
        self.add_paid(units)?;
        self.pending.push((l.beneficiary, units));
        if self.pending.len() >= PENDING {
            self.flush()?;
        }
        Ok(())
    }

    /// Add the lines of [`Part::book_soon`] to their members' totals.
    fn flush(&mut self) -> Result<()> {
        const AHEAD: usize = 16;
        let pending = std::mem::take(&mut self.pending);
        for (j, &(m, units)) in pending.iter().enumerate() {
            if let Some(&(ahead, _)) = pending.get(j + AHEAD) {
                prefetch_index::prefetch_index(&self.totals, ahead as usize);
                prefetch_index::prefetch_index(&self.has_line, ahead as usize);
            }
            let at = MemberAt(m);
            let t = self.totals.get_mut(m as usize).must(at, "total")?;
            *t = t.checked_add(units).ok_or_else(|| sum_overflow("totals"))?;
            *self.has_line.get_mut(m as usize).must(at, "total")? = true;
        }
        self.pending = pending;
        self.pending.clear();
        Ok(())
    }

    /// Count a line into the totals.
    fn book(&mut self, l: &Line) -> Result<()> {
        let units = l.amount;
        let m = l.beneficiary as usize;
        let at = MemberAt(l.beneficiary);
        let t = self.totals.get_mut(m).must(at, "total")?;
        *t = t.checked_add(units).ok_or_else(|| sum_overflow("totals"))?;
        *self.has_line.get_mut(m).must(at, "total")? = true;
        self.add_paid(units)
    }

    /// `amount` (a line's, or a sum of them) in units of the part's scale.
    fn units(&self, amount: Decimal) -> Result<i128> {
        units(amount, self.scale)
    }

    /// Add `units` to the total paid.
    fn add_paid(&mut self, units: i128) -> Result<()> {
        self.paid = self
            .paid
            .checked_add(units)
            .ok_or_else(|| sum_overflow("total paid"))?;
        Ok(())
    }

    /// Member `m`'s net, as money.
    pub(crate) fn total(&self, m: usize) -> Result<Decimal> {
        money(self.totals.get(m).copied().unwrap_or(0), self.scale)
    }

    /// The total paid, as money.
    pub(crate) fn paid(&self) -> Result<Decimal> {
        money(self.paid, self.scale)
    }

    /// Set member `m`'s net (from another process, [`crate::Engine::read_part`]).
    pub(crate) fn set_total(&mut self, m: usize, net: Decimal) -> Result<()> {
        let units = self.units(net)?;
        if let (Some(t), Some(h)) = (self.totals.get_mut(m), self.has_line.get_mut(m)) {
            *t = units;
            *h = true;
        }
        Ok(())
    }

    /// Set the total paid (from another process).
    pub(crate) fn set_paid(&mut self, paid: Decimal) -> Result<()> {
        self.paid = self.units(paid)?;
        Ok(())
    }

    /// Count an order's breakage and cap cut (what it did not pay).
    fn book_unpaid(&mut self, o: &OrderOutcome) -> Result<()> {
        for (r, b) in &o.out.breakage {
            let slot = self.breakage.get_mut(usize::from(*r));
            let slot = slot.must(At("rules", usize::from(*r)), "breakage")?;
            *slot = checked_add(*slot, *b, "breakage")?;
        }
        self.cap_cut = checked_add(self.cap_cut, o.out.cut, "cap cut")?;
        Ok(())
    }

    /// The same sums in units of `scale`, not below the part's own (an
    /// empty [`Part::default`] is at scale 0).
    fn rescaled(mut self, scale: u32) -> Result<Part> {
        let by = scale
            .checked_sub(self.scale)
            .and_then(|d| 10i128.checked_pow(d))
            .ok_or_else(|| sum_overflow("totals"))?;
        for t in self.totals.iter_mut().chain([&mut self.paid]) {
            *t = t.checked_mul(by).ok_or_else(|| sum_overflow("totals"))?;
        }
        self.scale = scale;
        Ok(self)
    }

    /// Append another part's lines after this one's and add up totals, breakage and cap cut.
    pub fn merge(self, other: Part) -> Result<Part> {
        let scale = self.scale.max(other.scale);
        let (mut this, other) = (self.rescaled(scale)?, other.rescaled(scale)?);
        this.lines.append(other.lines);
        let grow = |v: &mut Vec<Decimal>, n: usize| {
            if v.len() < n {
                v.resize(n, Decimal::ZERO);
            }
        };
        grow(&mut this.breakage, other.breakage.len());
        for (a, b) in this.breakage.iter_mut().zip(other.breakage) {
            *a = checked_add(*a, b, "breakage")?;
        }
        if this.totals.len() < other.totals.len() {
            this.totals.resize(other.totals.len(), 0);
        }
        if this.has_line.len() < other.has_line.len() {
            this.has_line.resize(other.has_line.len(), false);
        }
        for (a, b) in this.totals.iter_mut().zip(other.totals) {
            *a = a.checked_add(b).ok_or_else(|| sum_overflow("totals"))?;
        }
        for (a, b) in this.has_line.iter_mut().zip(other.has_line) {
            *a |= b;
        }
        this.add_paid(other.paid)?;
        this.cap_cut = checked_add(this.cap_cut, other.cap_cut, "cap cut")?;
        Ok(this)
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// The lines kept, by index ([`crate::Engine::line_names`] names them).
    pub fn lines(&self) -> &LineTable {
        &self.lines
    }

    /// No lines at all.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Append `l` to `t`, or `arithmetic_overflow` if its amounts do not fit
/// integer units of the scale.
fn keep(t: &mut LineTable, l: &Line) -> Result<()> {
    t.push(l).ok_or_else(|| {
        overflow(
            "lines",
            "a line's amount has more units than a decimal at the policy scale holds",
        )
    })
}

fn overflow(path: &str, detail: &str) -> Error {
    Error::Overflow {
        path: path.to_owned(),
        detail: detail.to_owned(),
    }
}

/// `a + b`, or `arithmetic_overflow` naming the sum `what`. Inlined, with
/// the error made apart, so that the sum stays in registers: the totals loop
/// adds one per beneficiary of each seller.
#[inline]
fn checked_add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    match a.checked_add(b) {
        Some(sum) => Ok(sum),
        None => Err(sum_overflow(what)),
    }
}

#[cold]
fn sum_overflow(what: &str) -> Error {
    overflow("summary", what)
}

impl State {
    /// The orders of the batch (its events that are not refunds), for [`SettleProgress`].
    pub(crate) fn order_count(&self) -> u64 {
        let orders = self
            .batch
            .events
            .parties()
            .filter(|p| !matches!(p, Party::RefundOf(_)))
            .count();
        orders as u64
    }

    /// The whole batch in input order on one thread, its lines kept,
    /// handed to `sink` in blocks of `rows` (the last one shorter), or
    /// dropped, as `lines` says. With `as_of`, the totals are split at it
    /// (§14.1): a line counts as available when its `available_at` is at or
    /// before `as_of`, or when it has none and is a pool or member-cap
    /// line, or the policy has no hold.
    pub(crate) fn settle_in_order(
        &self,
        as_of: Option<Timestamp>,
        lines: crate::Lines,
        rows: usize,
        sink: &mut dyn FnMut(&mut LineTable) -> Result<()>,
        progress: Option<&SettleProgress>,
    ) -> Result<Settlement> {
        let times = self.batch.times.as_deref();
        let scale = self.policy.rounding().scale;
        let rows = rows.max(1);
        let mut table = match lines {
            crate::Lines::Stream => LineTable::with_capacity(scale, rows),
            _ => LineTable::new(scale),
        };
        let mut available = match as_of {
            Some(_) => vec![Decimal::ZERO; self.batch.ids.len()],
            None => Vec::new(),
        };
        let mut emit = |l: &Line| -> Result<()> {
            if let Some(as_of) = as_of {
                let open = match times.and_then(|t| available_at(l.order, l.refund, t)) {
                    Some(t) => t <= as_of,
                    None => l.order == NONE || times.is_none(),
                };
                if open {
                    let at = MemberAt(l.beneficiary);
                    let a = available
                        .get_mut(l.beneficiary as usize)
                        .must(at, "available")?;
                    *a = checked_add(*a, money(l.amount, scale)?, "available")?;
                }
            }
            match lines {
                crate::Lines::Keep => keep(&mut table, l),
                crate::Lines::Stream => {
                    keep(&mut table, l)?;
                    if table.len() >= rows {
                        sink(&mut table)?;
                        table.refill(scale, rows);
                    }
                    Ok(())
                }
                crate::Lines::TotalsOnly => Ok(()),
            }
        };
        let part = self.run(&|_| true, &mut emit, progress)?;
        let mut s = self.finish_into(part, &mut emit)?;
        match lines {
            crate::Lines::Keep => s.lines = table,
            crate::Lines::Stream if !table.is_empty() => sink(&mut table)?,
            _ => {}
        }
        let Some(as_of) = as_of else {
            return Ok(s);
        };
        let mut split = Vec::with_capacity(s.totals.len());
        let mut pending_total = Decimal::ZERO;
        for &(m, net) in &s.totals {
            let a = *available.get(m as usize).must(MemberAt(m), "available")?;
            let pending = net.checked_sub(a).ok_or_else(|| sum_overflow("pending"))?;
            pending_total = checked_add(pending_total, pending, "pending total")?;
            split.push((a, pending));
        }
        s.as_of = Some(AsOf {
            at: as_of,
            split,
            pending_total,
        });
        Ok(s)
    }

    /// Totals, rank changes and summary only, no line kept or even named (the
    /// fastest form, for payroll totals). The orders are taken seller by
    /// seller rather than in input order: each seller's schedule is walked
    /// once and its beneficiaries are summed locally, which keeps the loop in
    /// cache. On `threads` threads the sellers are cut into ranges holding
    /// about as many orders each (each order with its refunds), settled apart
    /// and merged, which is exact (§10.6). Sums of exact decimals do not
    /// depend on their order, so the result is the one [`crate::Engine::settle`]
    /// gives without lines; an error is the one input order meets first.
    pub(crate) fn settle_totals(
        &self,
        threads: usize,
        progress: Option<&SettleProgress>,
    ) -> Result<Settlement> {
        if !self.state_moves_free() {
            // Sellers' schedules change with the tree: orders in input order.
            let part = self.rerun_in_order(progress)?;
            return self.finish_into(part, &mut |_: &Line| Ok(()));
        }
        let grouped = self.by_seller()?;
        let ranges = grouped.split(threads.max(1));
        if ranges.len() <= 1 {
            let part = self.run_by_seller(&grouped, progress)?;
            // The grouping (eight bytes an order) goes before the totals are built.
            drop(grouped);
            return self.finish_into(part, &mut |_: &Line| Ok(()));
        }
        let parts: Vec<Result<Part>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .into_iter()
                .map(|sellers| {
                    let grouped = &grouped;
                    // Each thread only tries; a failure reruns the whole batch once, below.
                    scope.spawn(move || self.try_by_seller(grouped, sellers, progress))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        drop(grouped);
        let merged = parts
            .into_iter()
            .try_fold(None, |whole: Option<Part>, part| {
                let part = part?;
                Ok::<_, Error>(Some(match whole {
                    None => part,
                    Some(w) => w.merge(part)?,
                }))
            });
        let whole = match merged {
            Ok(Some(w)) => w,
            Ok(None) => Part::new(
                self.batch.ids.len(),
                self.policy.rules().len(),
                self.policy.rounding().scale,
            ),
            // An error is reported as one thread in input order meets it first.
            Err(_) => self.rerun_in_order(progress)?,
        };
        self.finish_into(whole, &mut |_: &Line| Ok(()))
    }

    /// The batch's orders grouped by seller, each with its refunds.
    fn by_seller(&self) -> Result<BySeller> {
        BySeller::new(
            &self.batch,
            self.policy.rounding().scale,
            self.classes(),
            |i| self.category_of(i),
            self.policy.reads_quantity(),
        )
    }

    /// The part of every order without lines: what [`State::settle_totals`]
    /// settles on one thread, before pools and member caps.
    pub(crate) fn totals_part(&self) -> Result<Part> {
        if !self.state_moves_free() {
            return self.rerun_in_order(None);
        }
        self.run_by_seller(&self.by_seller()?, None)
    }

    /// Totals-only settlement of every order, seller by seller: each
    /// seller's schedule is walked once and its beneficiaries' sums are kept in a
    /// few local accumulators, so the loop over a seller's orders touches no
    /// per-member array (the totals are written once per seller and beneficiary).
    /// Sums are exact, so the order in which they are formed does not change them.
    /// On an error the batch is run again in input order, so the error reported is
    /// the one input order meets first.
    fn run_by_seller(&self, grouped: &BySeller, progress: Option<&SettleProgress>) -> Result<Part> {
        match self.try_by_seller(grouped, 0..grouped.sellers(), progress) {
            Ok(part) => Ok(part),
            Err(_) => self.rerun_in_order(progress),
        }
    }

    /// After a failed try seller by seller: every order again in input order,
    /// so that the error reported is the one input order meets first; the
    /// progress counts again from nothing.
    fn rerun_in_order(&self, progress: Option<&SettleProgress>) -> Result<Part> {
        if let Some(p) = progress {
            p.start(self.order_count());
        }
        self.run(&|_| true, &mut |_: &Line| Ok(()), progress)
    }

    /// The orders of `sellers` seller by seller, each through its seller's
    /// schedule for its class ([`State::run_by_seller`]); an error is
    /// returned as met, for the caller to rerun in input order.
    fn try_by_seller(
        &self,
        grouped: &BySeller,
        sellers: std::ops::Range<u32>,
        progress: Option<&SettleProgress>,
    ) -> Result<Part> {
        let rounding = self.policy.rounding();
        let mut tick = Tick::new(progress);
        let mut part = Part::new(
            self.batch.ids.len(),
            self.policy.rules().len(),
            self.policy.rounding().scale,
        );
        let mut out = OrderOutcome::default();
        // A seller's schedules, one per class its orders have, end to end,
        // and which slots each class's is.
        let mut slots: Vec<Slot> = Vec::new();
        let mut built: Vec<(u16, std::ops::Range<usize>)> = Vec::new();
        let mut rates = RateTable::default();
        let caps = self.int_caps();
        let mut sums = UnitSums {
            acc: Vec::new(),
            breakage: vec![0; self.policy.rules().len()],
            paid: 0,
            cap_cut: 0,
        };
        let mut scratch = UnitScratch::default();
        // Which of the seller's accumulators each slot pays.
        let mut acc_of: Vec<usize> = Vec::new();
        let mut skip = |_: &Line| Ok(());
        for seller in sellers {
            let orders = grouped.orders_of(seller)?;
            if orders.is_empty() {
                continue;
            }
            tick.add(orders.len() as u64);
            // The next sellers' first ancestors arrive while this one's orders
            // are settled (one seller in five has no orders).
            self.upline.prefetch_sponsor(seller.saturating_add(1));
            self.upline.prefetch_sponsor(seller.saturating_add(2));
            slots.clear();
            built.clear();
            sums.acc.clear();
            acc_of.clear();
            let at = || MemberAt(seller);
            for &entry in orders {
                // The seller's schedule for the order's class, built on the
                // class's first order (most sellers' orders have one class).
                let class = grouped.class(entry);
                let span = match built.iter().find(|(c, _)| *c == class) {
                    Some((_, span)) => span.clone(),
                    None => {
                        let from = slots.len();
                        self.schedule(&self.upline, seller, class, &mut rates, &mut slots)?;
                        for s in slots.get(from..).unwrap_or_default() {
                            let k = match sums.acc.iter().position(|a| a.0 == s.who) {
                                Some(k) => k,
                                None => {
                                    sums.acc.push((s.who, 0, false));
                                    prefetch_index::prefetch_index(&part.totals, s.who as usize);
                                    sums.acc.len() - 1
                                }
                            };
                            acc_of.push(k);
                        }
                        // The books below rely on these: each slot has its
                        // accumulator and its rule's breakage sum.
                        let books = acc_of.len() == slots.len()
                            && acc_of.iter().all(|&k| k < sums.acc.len())
                            && slots
                                .iter()
                                .all(|s| usize::from(s.rule) < sums.breakage.len());
                        books.then_some(()).must(at(), "accumulators")?;
                        built.push((class, from..slots.len()));
                        from..slots.len()
                    }
                };
                let cap = *caps.get(usize::from(class)).must(at(), "order cap")?;
                let class_slots = slots.get(span.clone()).must(at(), "schedule")?;
                let schedule = UnitSchedule {
                    slots: class_slots,
                    acc_of: acc_of.get(span).must(at(), "accumulators")?,
                    rates: &rates.2,
                    cap,
                    rounding,
                };
                // Orders without refunds: exact integers, nothing kept.
                let slow = if entry > 0 {
                    let units = grouped.units(entry);
                    if order_in_units(units, &schedule, &mut sums, &mut scratch) {
                        continue;
                    }
                    None
                } else {
                    grouped.slow(entry)
                };
                // A product that left i64 (or, never, an entry without its
                // order): the order's event index is not kept here, so the
                // caller settles the batch again in input order.
                let Some(order) = slow else {
                    return Err(overflow("events", "rate × amount in units"));
                };
                // In integers when every reversal is written (a refund of
                // available lines under `clawback: false` writes none).
                if order.first_refund != NONE
                    && self.in_units(order.event as usize)
                    && grouped.refunds_of(order)?.iter().all(|r| {
                        self.refunding(order.event as usize, r.event as usize, r.completes)
                            .writes
                    })
                    && refunded_in_units(
                        order.units,
                        grouped.refunds_of(order)?,
                        self.policy.whole_refunds(),
                        &schedule,
                        &mut sums,
                        &mut scratch,
                    )
                {
                    continue;
                }
                let i = order.event as usize;
                let Some(amount) = self.kept_amount(i, order.units) else {
                    continue;
                };
                self.settle_order(i, amount, class, class_slots, &rates, &mut out)?;
                part.book_unpaid(&out)?;
                for l in &out.lines {
                    if let Some(a) = sums.acc.iter_mut().find(|a| a.0 == l.beneficiary) {
                        a.1 =
                            a.1.checked_add(l.amount)
                                .ok_or_else(|| sum_overflow("totals"))?;
                        a.2 = true;
                    }
                    part.add_paid(l.amount)?;
                }
                if order.first_refund != NONE {
                    let mut state = Reversible::of(amount, &out);
                    for r in grouped.refunds_of(order)? {
                        let j = r.event as usize;
                        let Some(amount) = self.kept_amount(j, r.units) else {
                            continue;
                        };
                        let how = self.refunding(i, j, r.completes);
                        reverse(&mut state, j, amount, how, rounding, &mut part, &mut skip)?;
                    }
                }
            }
            for &(m, sum, any) in &sums.acc {
                if !any || m == NONE {
                    continue;
                }
                let m = m as usize;
                if let (Some(t), Some(h)) = (part.totals.get_mut(m), part.has_line.get_mut(m)) {
                    *t = t.checked_add(sum).ok_or_else(|| sum_overflow("totals"))?;
                    *h = true;
                }
            }
        }
        part.add_paid(sums.paid)?;
        part.cap_cut = checked_add(
            part.cap_cut,
            money(sums.cap_cut, rounding.scale)?,
            "cap cut",
        )?;
        for (b, int) in part.breakage.iter_mut().zip(sums.breakage) {
            *b = checked_add(*b, money(int, rounding.scale)?, "breakage")?;
        }
        Ok(part)
    }

    /// The amount of event `event` as the event list gives it (the same
    /// value and scale), from its `units` at the policy scale when they were
    /// kept (not 0), else read from the event.
    fn kept_amount(&self, event: usize, units: i64) -> Option<Decimal> {
        let kept = Some(units)
            .filter(|&u| u != 0)
            .and_then(|u| Decimal::try_new(u, self.policy.rounding().scale).ok());
        kept.or_else(|| match self.batch.events.get(event)? {
            Event::Order(o) => Some(o.amount),
            Event::Refund(r) => Some(r.amount),
        })
    }

    /// What the indices of this batch's lines stand for.
    pub(crate) fn line_names(&self) -> LineNames {
        let rules: Vec<(RuleId, &'static str)> = self
            .policy
            .rules()
            .iter()
            .map(|r| (r.id.clone(), r.kind.type_name()))
            .collect();
        LineNames {
            members: Arc::clone(&self.batch.ids),
            events: Arc::clone(&self.batch.event_ids),
            rules: rules.into(),
            times: self.batch.times.clone(),
            money_bound: self.money_bound(),
        }
    }

    /// A bound on every base, amount and fixed amount a line of this batch
    /// can carry, in units of the policy scale. With G every event's amount
    /// added up, F the largest fixed amount and Q every quantity added up,
    /// an order line pays at most its amount (rates are at most 1) or F
    /// times its quantity, each unit's share rounded up by at most one unit,
    /// so at most L = G + (F + 1)·Q, and so does a reversal;
    /// a base is an order's, a refund's or a pool's amount, at most G; a
    /// pool pays at most G. A member-cap line takes back at most a member's
    /// total, which is at most every rule's every level of every order plus
    /// every pool: (`MAX_RULES` · `MAX_LEVELS` + `MAX_RULES`) · L, with
    /// `MAX_GENERATIONS` no more than `MAX_LEVELS`. `None` when an amount is
    /// not kept in units or the bound overflows.
    fn money_bound(&self) -> Option<i128> {
        let scale = self.policy.rounding().scale;
        let (gross, kept) = self.batch.events.gross_units()?;
        if kept != scale {
            return None;
        }
        let fixed = self.policy.max_fixed();
        let fixed =
            fixed.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::AwayFromZero);
        // One unit more a unit of quantity: rounding per unit (§12.5) can
        // round each unit's share up.
        let per_unit = crate::money::units(fixed, scale)?.checked_add(1)?;
        let quantity = i128::from(self.batch.events.total_quantity());
        let line = per_unit.checked_mul(quantity)?.checked_add(gross)?;
        let slots = limits::MAX_RULES * (limits::MAX_LEVELS.max(limits::MAX_GENERATIONS) + 1);
        line.checked_mul(i128::try_from(slots).ok()?)
    }

    /// Settle the orders whose event index `take` accepts, each with its refunds,
    /// in input order, keeping their lines. Parts of a partition merge into the whole (§10.6).
    pub(crate) fn settle_part(&self, take: impl Fn(usize) -> bool) -> Result<Part> {
        self.settle_part_counted(take, None)
    }

    fn settle_part_counted(
        &self,
        take: impl Fn(usize) -> bool,
        progress: Option<&SettleProgress>,
    ) -> Result<Part> {
        let mut lines = LineTable::new(self.policy.rounding().scale);
        let mut part = self.run(&take, &mut |l: &Line| keep(&mut lines, l), progress)?;
        part.lines = lines;
        Ok(part)
    }

    fn run(
        &self,
        take: &dyn Fn(usize) -> bool,
        emit: &mut dyn FnMut(&Line) -> Result<()>,
        progress: Option<&SettleProgress>,
    ) -> Result<Part> {
        let mut tick = Tick::new(progress);
        let mut pass = Pass::new(self)?;
        for i in 0..self.batch.events.len() {
            if pass.step(self, i, take, emit)? {
                tick.add(1);
            }
        }
        pass.end()
    }

    /// The order cap of each class (the policy's category index) as the
    /// integer representation holds it: none, or its rate (None: not in
    /// integers).
    fn int_caps(&self) -> Vec<Option<Option<IntRate>>> {
        (0..self.classes())
            .map(|c| self.policy.order_cap_for(c).map(IntRate::of))
            .collect()
    }

    /// Whether order `event` can be settled in integers from its amount
    /// alone: one unit, or a policy that does not read quantities (§12.5).
    fn in_units(&self, event: usize) -> bool {
        self.batch.events.quantity(event) == 1 || !self.policy.reads_quantity()
    }

    /// Whether every order of a seller has the same schedule: no member
    /// moved (§14), and ranks are those of the whole period (§13).
    fn state_moves_free(&self) -> bool {
        self.earlier.is_empty() && !self.policy.is_immediate()
    }

    /// The schedule of a seller for orders of a category (the policy's
    /// index): what every order rule pays from such an order, as (rule,
    /// beneficiary or breakage, level, price) slots in line order. With
    /// ranks fixed it depends on the seller and the category only, so it is
    /// walked once per pair and reused for each of its orders.
    fn schedule(
        &self,
        up: &Upline,
        seller: u32,
        category: u16,
        rates: &mut RateTable,
        slots: &mut Vec<Slot>,
    ) -> Result<(), Missing> {
        let values = |m: u32, metric: &crate::condition::Metric| {
            self.ranking.metrics.value(&self.batch, m, metric)
        };
        self.schedule_on(up, &values, seller, category, rates, slots)
    }

    /// [`State::schedule`] on the members' metric `values` (in `immediate`
    /// timing, those of the running state, §13).
    fn schedule_on(
        &self,
        up: &Upline,
        values: crate::rule::Values<'_>,
        seller: u32,
        category: u16,
        rates: &mut RateTable,
        slots: &mut Vec<Slot>,
    ) -> Result<(), Missing> {
        let on = On {
            up,
            category,
            values,
        };
        let scale = self.policy.rounding().scale;
        // A policy has at most `limits::MAX_RULES` rules: each index fits u16.
        for (ri, (rule, plan)) in (0u16..).zip(self.policy.rules().iter().zip(&self.plans)) {
            rule.kind
                .schedule(plan, &on, seller, &mut |who, level, price| {
                    slots.push(Slot {
                        who,
                        level,
                        rate: rates.index(price, scale),
                        rule: ri,
                    });
                })?;
        }
        Ok(())
    }

    /// Lines of one order before refunds from its seller's schedule: the
    /// kernel's outcome ([`Outcome::order`]) as lines.
    fn settle_order(
        &self,
        event: usize,
        order_amount: Decimal,
        category: u16,
        schedule: &[Slot],
        rates: &RateTable,
        o: &mut OrderOutcome,
    ) -> Result<()> {
        let rounding = self.policy.rounding();
        let fail = |e: Overflow| overflow(&format!("events[{event}].amount"), e.detail());
        let quantity = self.batch.events.quantity(event);
        let base =
            Base::new(order_amount, rounding).of_units(quantity, self.policy.round_per_unit());
        let cap = match self.policy.order_cap_for(category) {
            None => None,
            Some(rate) => Some(base.pay(rate).ok_or_else(|| fail(Overflow::Product))?),
        };
        o.out
            .order(schedule, &DecimalPrices { base, rates }, cap)
            .map_err(fail)?;
        let scale = rounding.scale;
        let base = units(order_amount, scale)?;
        let paid = o.out.paid.iter();
        let paid = paid.map(|p| Ok((p.slot, units(p.kept, scale)?)));
        self.lines_of(event, base, schedule, rates, paid, &mut o.lines)
    }

    /// [`State::settle_order`] of an order of `units` (one unit, or a
    /// policy that does not read quantities, and no refund) through the
    /// integer representation of the kernel, its outcome written as money;
    /// `Ok(false)`, with nothing written, where that representation
    /// declines and the Decimal one is to settle it.
    #[allow(clippy::too_many_arguments)]
    fn settle_order_in_units(
        &self,
        event: usize,
        units: i64,
        category: u16,
        schedule: &[Slot],
        rates: &RateTable,
        caps: &[Option<Option<IntRate>>],
        o: &mut OrderOutcome,
    ) -> Result<bool> {
        let rounding = self.policy.rounding();
        let Some(&cap) = caps.get(usize::from(category)) else {
            return Ok(false);
        };
        let unit = UnitSchedule {
            slots: schedule,
            acc_of: &[],
            rates: &rates.2,
            cap,
            rounding,
        };
        // Every amount below is `units` or less, in i64: only the scale can
        // keep it from being a Decimal.
        if Decimal::try_new(0, rounding.scale).is_err() || unit.order(units, &mut o.units).is_err()
        {
            return Ok(false);
        }
        let money = |u: i64| Decimal::try_new(u, rounding.scale).unwrap_or_default();
        let (from, to) = (&o.units, &mut o.out);
        to.promised.clear();
        to.promised.extend(from.promised.iter().map(|&u| money(u)));
        to.paid.clear();
        to.paid.extend(from.paid.iter().map(|p| Paid {
            slot: p.slot,
            kept: money(p.kept),
        }));
        to.breakage.clear();
        to.breakage
            .extend(from.breakage.iter().map(|&(r, b)| (r, money(b))));
        to.cap = from.cap.map(money);
        to.cut = money(from.cut);
        let paid = from.paid.iter().map(|p| Ok((p.slot, i128::from(p.kept))));
        self.lines_of(event, units.into(), schedule, rates, paid, &mut o.lines)?;
        Ok(true)
    }

    /// The lines of an order of `base` units (at the policy scale) that
    /// paid `paid`: each paid slot of `schedule` with what it kept, in
    /// units, into `lines`.
    fn lines_of(
        &self,
        event: usize,
        base: i128,
        schedule: &[Slot],
        rates: &RateTable,
        paid: impl Iterator<Item = Result<(usize, i128)>>,
        lines: &mut Vec<Line>,
    ) -> Result<()> {
        lines.clear();
        for paid in paid {
            let (slot, amount) = paid?;
            let Some(s) = schedule.get(slot) else {
                return Err(Error::Internal {
                    path: format!("events[{event}]"),
                    detail: "a paid slot outside its schedule".into(),
                });
            };
            let price = rates.must(s.rate, EventAt(event))?;
            lines.push(Line {
                order: idx32(event),
                refund: NONE,
                rule: s.rule,
                beneficiary: s.who,
                level: s.level,
                base,
                rate: price.value(),
                amount,
                fixed: price.is_fixed(),
                per_unit: price.per_unit(),
            });
        }
        Ok(())
    }

    /// Add the pools (computed on the merged net sales) to merged order parts,
    /// and build totals and summary.
    pub(crate) fn finish(&self, part: Part) -> Result<Settlement> {
        let mut pool_lines = LineTable::new(self.policy.rounding().scale);
        let mut s = self.finish_into(part, &mut |l: &Line| keep(&mut pool_lines, l))?;
        s.lines.append(pool_lines);
        Ok(s)
    }

    /// The totals-only settlement of the orders' `part`, settled already:
    /// pools and member caps added, totals and summary built.
    pub(crate) fn finish_totals(&self, part: Part) -> Result<Settlement> {
        self.finish_into(part, &mut |_: &Line| Ok(()))
    }

    /// Every line of the whole batch handed to `f` in output order, none
    /// kept: what an analysis of a settlement that kept no lines reads.
    pub(crate) fn each_line(&self, f: &mut dyn FnMut(&Line)) -> Result<()> {
        let mut emit = |l: &Line| -> Result<()> {
            f(l);
            Ok(())
        };
        let part = self.run(&|_| true, &mut emit, None)?;
        self.finish_into(part, &mut emit).map(|_| ())
    }

    fn finish_into(
        &self,
        mut part: Part,
        emit: &mut dyn FnMut(&Line) -> Result<()>,
    ) -> Result<Settlement> {
        let rounding = self.policy.rounding();
        let lines = std::mem::take(&mut part.lines);
        let mut breakage = std::mem::take(&mut part.breakage);
        breakage.resize(self.policy.rules().len(), Decimal::ZERO);
        let net_sales = self.ranking.metrics.net_sales;
        let member_cap_cut = match self.policy.member_cap() {
            None => None,
            Some(cap) => Some(self.member_caps(cap, &mut part, emit)?),
        };
        for (ri, rule) in self.policy.rules().iter().enumerate() {
            let RuleKind::Pool(rule) = &rule.kind else {
                continue;
            };
            let pool = rule.amount(net_sales, rounding, &format!("rules[{ri}]"))?;
            let mut recipients: Vec<(u32, Decimal)> = Vec::new();
            for (m, _) in (0u32..).zip(self.ranking.rank.iter()) {
                if rule.takes(self.ranking.rank(m)?, self.ranking.active(m)?) {
                    let metrics = &self.ranking.metrics;
                    let w = rule.weight_of(|metric| metrics.value(&self.batch, m, metric))?;
                    recipients.push((m, w));
                }
            }
            recipients.sort_by(|a, b| self.batch.id(a.0).cmp(self.batch.id(b.0)));
            match pool::allocate(pool, rounding, &recipients)
                .map_err(|d| overflow(&format!("rules[{ri}]"), d))?
            {
                None => {
                    if let Some(b) = breakage.get_mut(ri) {
                        *b = checked_add(*b, pool, "breakage")?;
                    }
                }
                Some(shares) => {
                    for ((m, w), amount) in recipients.iter().zip(shares) {
                        if amount.is_zero() {
                            continue;
                        }
                        let l = Line {
                            order: NONE,
                            refund: NONE,
                            rule: rule_idx(ri),
                            beneficiary: *m,
                            level: NONE,
                            base: part.units(pool)?,
                            rate: *w,
                            amount: part.units(amount)?,
                            fixed: false,
                            per_unit: false,
                        };
                        part.book(&l)?;
                        emit(&l)?;
                    }
                }
            }
        }
        let total_paid = part.paid()?;
        let mut totals: Vec<(u32, Decimal)> = part
            .has_line
            .iter()
            .zip(&part.totals)
            .enumerate()
            .filter(|(_, (h, _))| **h)
            .map(|(m, (_, &t))| Ok((idx32(m), money(t, rounding.scale)?)))
            .collect::<Result<_>>()?;
        totals.sort_by(|a, b| self.batch.id(a.0).cmp(self.batch.id(b.0)));
        let payout_ratio = rounding.ratio(total_paid, net_sales);
        Ok(Settlement {
            names: self.line_names(),
            scale: rounding.scale,
            lines,
            totals,
            rank_changes: self.ranking.changes.clone(),
            net_sales,
            total_paid,
            payout_ratio,
            breakage,
            cap_cut: part.cap_cut,
            member_cap_cut,
            as_of: None,
        })
    }

    /// The member cap (§12.3) on the merged order lines of `part`: a line
    /// for every member whose net from order rules exceeds `cap`, by member
    /// id, booked and handed to `emit`. Returns what they withhold.
    fn member_caps(
        &self,
        cap: Decimal,
        part: &mut Part,
        emit: &mut dyn FnMut(&Line) -> Result<()>,
    ) -> Result<Decimal> {
        let cap_units = part.units(cap)?;
        let mut over: Vec<(u32, Decimal)> = part
            .has_line
            .iter()
            .zip(&part.totals)
            .enumerate()
            .filter(|(_, (h, t))| **h && **t > cap_units)
            .map(|(m, _)| Ok((idx32(m), part.total(m)?)))
            .collect::<Result<_>>()?;
        over.sort_by(|a, b| self.batch.id(a.0).cmp(self.batch.id(b.0)));
        let mut cut = Decimal::ZERO;
        for (m, total) in over {
            let amount = cap - total;
            let l = Line {
                order: NONE,
                refund: NONE,
                rule: MEMBER_CAP,
                beneficiary: m,
                level: NONE,
                base: part.units(total)?,
                rate: Decimal::ZERO,
                amount: part.units(amount)?,
                fixed: false,
                per_unit: false,
            };
            part.book(&l)?;
            emit(&l)?;
            cut = checked_add(cut, -amount, "member cap cut")?;
        }
        Ok(cut)
    }

    pub(crate) fn parts(&self) -> (&Policy, &Batch, &Ranking) {
        (&self.policy, &self.batch, &self.ranking)
    }

    /// Order `event` as `explain` reads it: its lines and its refunds' in
    /// output order, and what the kernel recorded of it.
    pub(crate) fn order_record(&self, event: usize) -> Result<OrderRecord> {
        let part = self.settle_part(|i| i == event)?;
        let internal = || Error::Internal {
            path: format!("events[{event}]"),
            detail: "explained order not settled as an order".into(),
        };
        let Some(Event::Order(order)) = self.batch.events.get(event) else {
            return Err(internal());
        };
        let (mut rates, mut slots) = (RateTable::default(), Vec::new());
        let category = self.category_of(event)?;
        if self.policy.is_immediate() {
            // The state just before the order (§13), from the first event.
            let mut r = Running::start(&self.policy, &self.batch, &self.links)?;
            for i in 0..event {
                r.before(&self.batch, i)?;
                r.sale(&self.batch, i)?;
            }
            r.before(&self.batch, event)?;
            let values = |m: u32, metric: &crate::condition::Metric| r.value(m, metric);
            self.schedule_on(
                r.upline(),
                &values,
                order.seller,
                category,
                &mut rates,
                &mut slots,
            )?;
        } else {
            let up = self.upline_for(event);
            self.schedule(up, order.seller, category, &mut rates, &mut slots)?;
        }
        let mut o = OrderOutcome::default();
        self.settle_order(event, order.amount, category, &slots, &rates, &mut o)?;
        let promised = o
            .out
            .paid
            .iter()
            .map(|p| o.out.promised.get(p.slot).copied())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(internal)?;
        Ok(OrderRecord {
            part,
            promised,
            cap: o.out.cap,
        })
    }
}

/// One order with its refunds as the kernel settled it, for `explain`.
pub(crate) struct OrderRecord {
    /// The order's lines, then its refunds' reversals, in output order.
    pub part: Part,
    /// Each order line's share before the cap, in line order.
    pub promised: Vec<Decimal>,
    /// The order cap's amount, if the policy has one.
    pub cap: Option<Decimal>,
}

/// `amount` (a line's, or a sum of them) in units of `scale`.
fn units(amount: Decimal, scale: u32) -> Result<i128> {
    crate::money::units_at(amount, scale).ok_or_else(|| {
        overflow(
            "lines",
            "a line's amount has more decimals than the policy scale",
        )
    })
}

/// Units of the scale back to money, or `arithmetic_overflow` beyond the exact decimal range.
fn money(units: i128, scale: u32) -> Result<Decimal> {
    Decimal::try_from_i128_with_scale(units, scale).map_err(|_| overflow("summary", "sum"))
}

/// Integer sums of the totals-only path, in units of the scale.
#[derive(Debug)]
struct UnitSums {
    /// For the current seller: (beneficiary, sum in units, has a line).
    acc: Vec<(u32, i128, bool)>,
    breakage: Vec<i128>,
    paid: i128,
    cap_cut: i128,
}

impl UnitSums {
    /// Book one order's net result: `lines` as (slot, net amount) for each
    /// slot it paid, its breakage by rule and its cap cut.
    #[inline(always)]
    fn book(
        &mut self,
        acc_of: &[usize],
        lines: impl Iterator<Item = (usize, i64)>,
        breakage: impl Iterator<Item = (u16, i64)>,
        cut: i64,
    ) {
        for (slot, net) in lines {
            if let Some(a) = acc_of.get(slot).and_then(|&k| self.acc.get_mut(k)) {
                a.1 += i128::from(net);
                a.2 = true;
            }
            self.paid += i128::from(net);
        }
        for (rule, b) in breakage {
            if let Some(t) = self.breakage.get_mut(usize::from(rule)) {
                *t += i128::from(b);
            }
        }
        self.cap_cut += i128::from(cut);
    }
}

/// The kernel's state in units, reused from order to order.
#[derive(Debug, Default)]
struct UnitScratch {
    out: Outcome<i64>,
    open: Open<i64>,
}

/// A seller's schedule as the integer paths read it.
struct UnitSchedule<'a> {
    slots: &'a [Slot],
    /// Which of the seller's accumulators each slot pays.
    acc_of: &'a [usize],
    /// The prices in integers, by rate index (None: too large for i64).
    rates: &'a [Option<IntPrice>],
    /// The order cap's rate, if the policy has one.
    cap: Option<Option<IntRate>>,
    rounding: Rounding,
}

impl UnitSchedule<'_> {
    /// The cap and the slots' prices of an order of `units` in units.
    #[inline(always)]
    fn prices(&self, units: i64) -> std::result::Result<(Option<i64>, UnitPrices<'_>), Overflow> {
        let mode = self.rounding.mode;
        let cap = match self.cap {
            None => None,
            Some(rate) => Some(
                rate.and_then(|r| r.pay(units, mode))
                    .ok_or(Overflow::Product)?,
            ),
        };
        let prices = UnitPrices {
            rates: self.rates,
            units,
            mode,
        };
        Ok((cap, prices))
    }

    /// The kernel's outcome of an order of `units` in units.
    fn order(&self, units: i64, out: &mut Outcome<i64>) -> std::result::Result<(), Overflow> {
        let (cap, prices) = self.prices(units)?;
        out.order(self.slots, &prices, cap)
    }
}

/// The integer representation's prices of one order's slots.
struct UnitPrices<'a> {
    rates: &'a [Option<IntPrice>],
    units: i64,
    mode: crate::money::RoundingMode,
}

impl Prices<Slot> for UnitPrices<'_> {
    type N = i64;

    #[inline(always)]
    fn pay(&self, s: &Slot) -> Option<i64> {
        self.rates
            .get(s.rate as usize)
            .copied()
            .flatten()
            .and_then(|r| r.pay(self.units, self.mode))
    }

    /// Rates are at most 1 (validation) and fixed amounts are clamped to the
    /// order, so each share is at most the order's units: below 2^51 units,
    /// 2^11 shares add up within i64.
    #[inline(always)]
    fn fit(&self, slots: usize) -> bool {
        (0..FAST_LIMIT).contains(&self.units) && slots <= 1 << 11
    }
}

/// The Decimal representation's prices of one order's slots.
struct DecimalPrices<'a> {
    base: Base,
    rates: &'a RateTable,
}

impl Prices<Slot> for DecimalPrices<'_> {
    type N = Decimal;

    #[inline]
    fn pay(&self, s: &Slot) -> Option<Decimal> {
        // A slot's rate index comes from the table; were it not there, the
        // order would fail (as out of range), never pay a rate of 0.
        self.base.price(self.rates.get(s.rate)?)
    }
}

/// One order without refunds settled in units of the scale, booked by the
/// kernel straight into the seller's accumulators and the run's sums.
/// Returns `false`, having booked nothing, when the integer representation
/// declines: the caller then takes the Decimal path.
#[inline]
fn order_in_units(
    units: i64,
    schedule: &UnitSchedule<'_>,
    sums: &mut UnitSums,
    scratch: &mut UnitScratch,
) -> bool {
    let Ok((cap, prices)) = schedule.prices(units) else {
        return false;
    };
    let mut book = UnitBook {
        sums,
        acc_of: schedule.acc_of,
    };
    match kernel::order(
        schedule.slots,
        &prices,
        cap,
        &mut scratch.out.promised,
        &mut book,
    ) {
        Ok(cut) => {
            sums.cap_cut += i128::from(cut);
            true
        }
        Err(_) => false,
    }
}

/// The seller's accumulators and the run's sums as the kernel's [`Book`].
struct UnitBook<'a> {
    sums: &'a mut UnitSums,
    acc_of: &'a [usize],
}

impl Book<i64> for UnitBook<'_> {
    #[inline(always)]
    fn line(&mut self, slot: usize, kept: i64) {
        // Every slot has its accumulator: `try_by_seller` checks it for each
        // seller's schedule before any order is booked.
        if let Some(a) = self
            .acc_of
            .get(slot)
            .and_then(|&k| self.sums.acc.get_mut(k))
        {
            a.1 += i128::from(kept);
            a.2 = true;
        }
        self.sums.paid += i128::from(kept);
    }

    #[inline(always)]
    fn breakage(&mut self, rule: u16, amount: i64) -> Result<(), Overflow> {
        // Every slot's rule has its sum (checked with the accumulators).
        if let Some(t) = self.sums.breakage.get_mut(usize::from(rule)) {
            *t += i128::from(amount);
        }
        Ok(())
    }
}

/// One order with refunds settled and reversed in units of the scale, and
/// its net result booked. Returns `false`, having booked nothing, when the
/// integer representation declines any step (a refund whose amount it does
/// not hold, a share outside the domain where it agrees with the Decimal
/// one): the caller then takes the Decimal path.
fn refunded_in_units(
    units: i64,
    refunds: &[RefundEntry],
    whole: bool,
    schedule: &UnitSchedule<'_>,
    sums: &mut UnitSums,
    scratch: &mut UnitScratch,
) -> bool {
    let UnitScratch { out, open } = scratch;
    if schedule.order(units, out).is_err() {
        return false;
    }
    open.reset(units, out);
    for r in refunds {
        // 0: the refund's amount does not fit i64 units.
        if r.units == 0 {
            return false;
        }
        // Each refund's reversals are not booked one by one: the net of
        // every amount is read once the order's refunds are all taken.
        let reversed = open.refund(
            r.units,
            r.completes || whole,
            schedule.rounding,
            |_, _| {},
            |_, _| {},
        );
        if reversed.is_err() {
            return false;
        }
    }
    sums.book(
        schedule.acc_of,
        out.paid.iter().map(|p| p.slot).zip(open.net_lines()),
        open.net_breakage(),
        open.net_cut(),
    );
    true
}

/// How one refund reverses its order under the policy.
#[derive(Debug, Clone, Copy)]
struct Refunding {
    /// It reverses all that is left: the order's last refund (§6.2), or any
    /// refund under `"refunds": "whole"` (§12.5; the later ones then reverse
    /// nothing).
    completes: bool,
    /// Its reversals are written and booked: not a clawback under
    /// `"clawback": false` (§12.5), which reverses nothing (its share is
    /// still taken, so that later refunds reverse only theirs).
    writes: bool,
}

impl State {
    /// How refund `refund` (event index) of order `order` reverses it;
    /// `completes`: it is the order's last and brings its refunds to its amount.
    fn refunding(&self, order: usize, refund: usize, completes: bool) -> Refunding {
        let writes = match self.batch.times.as_deref() {
            Some(t) if !t.hold.clawback => !matches!(
                t.reversal(idx32(order), idx32(refund)),
                crate::hold::Reversal::Clawback(_)
            ),
            _ => true,
        };
        Refunding {
            completes: completes || self.policy.whole_refunds(),
            writes,
        }
    }
}

/// Reverse an order's lines, breakage and cap cut for a refund of `x` (§6.2).
fn reverse(
    state: &mut Reversible,
    refund_event: usize,
    x: Decimal,
    how: Refunding,
    rounding: Rounding,
    part: &mut Part,
    emit: &mut dyn FnMut(&Line) -> Result<()>,
) -> Result<()> {
    let mut lines: Vec<Decimal> = Vec::with_capacity(state.lines.len());
    let mut breakage: Vec<(u16, Decimal)> = Vec::new();
    let cut = state
        .open
        .refund(
            x,
            how.completes,
            rounding,
            |_, rev| lines.push(rev),
            |rule, rev| breakage.push((rule, rev)),
        )
        .map_err(|e| overflow(&format!("events[{refund_event}].amount"), e.detail()))?;
    if !how.writes {
        return Ok(());
    }
    for (l, rev) in state.lines.iter().zip(lines) {
        if rev.is_zero() {
            continue;
        }
        let reversal = Line {
            refund: idx32(refund_event),
            base: part.units(x)?,
            amount: part.units(-rev)?,
            ..*l
        };
        part.book(&reversal)?;
        emit(&reversal)?;
    }
    for (rule, rev) in breakage {
        if let Some(b) = part.breakage.get_mut(usize::from(rule)) {
            *b -= rev;
        }
    }
    part.cap_cut -= cut;
    Ok(())
}

/// Settling a period's events in input order, one event at a time: what
/// carries from one event to the next (the totals so far, the orders a
/// refund may still reverse, the schedules walked, and in `immediate`
/// timing the state the next order walks). The one loop of every in-order
/// settlement ([`State::run`]).
pub(crate) struct Pass<'s> {
    part: Part,
    /// One buffer for every order's lines: no allocation per order.
    out: OrderOutcome,
    schedules: Schedules,
    open: HashMap<usize, Reversible, foldhash::fast::RandomState>,
    /// Orders (event index) that have at least one refund: their lines are
    /// kept until their last refund. (The totals-only path finds them as
    /// it groups, so the engine does not keep this.)
    refunded: Vec<bool>,
    /// The tree as it stood at each order (§14): a member moved by a
    /// stream changes the chains of the orders after the move only. Events
    /// come in order: the tree in place (`State::earlier`) moves forward only.
    epoch: usize,
    /// In `immediate` timing (§13) each order walks the state just before
    /// it: a schedule of its own, the state moved after every event. What
    /// ranking the period recorded of it, when it did; else the period is
    /// replayed as it is settled.
    walk: Option<crate::running::Cursor<'s>>,
    running: Option<Running>,
    own_rates: RateTable,
    own_slots: Vec<Slot>,
    ahead: crate::graph::Ahead<WALKS_AHEAD>,
    caps: Vec<Option<Option<IntRate>>>,
    /// Every order's lines, kept for the refunds that may come (a period a
    /// ledger keeps live, whose refunds are not known ahead).
    kept: Option<Kept>,
}

impl<'s> Pass<'s> {
    /// Before the first event of `state`, a period a ledger keeps live in
    /// `immediate` timing (§14): the running state moved by each event as
    /// it comes ([`Pass::step`]), every order's lines kept for its refunds.
    pub(crate) fn live(state: &State) -> Result<Pass<'static>> {
        // Members join as it goes: no per-member schedule cache.
        Pass::fresh(state, None, Vec::new(), 0, Some(Kept::default()))
    }

    /// The running state of a live period ([`Pass::live`]).
    pub(crate) fn running_mut(&mut self) -> Option<&mut Running> {
        self.running.as_mut()
    }

    /// Room for `n` members in the part's totals (members who joined a live period).
    pub(crate) fn grow(&mut self, n: usize) {
        self.part.grow(n);
    }

    /// The orders' part so far and the running state, copied: what a
    /// settlement of a live period as it stands finishes from.
    pub(crate) fn now(&self) -> Result<(Part, Option<Running>)> {
        let mut part = self.part.clone();
        part.flush()?;
        Ok((part, self.running.clone()))
    }

    /// Before the first event of `state`.
    fn new(state: &'s State) -> Result<Pass<'s>> {
        let mut refunded = vec![false; state.batch.events.len()];
        for (i, p) in state.batch.events.parties().enumerate() {
            if let Party::RefundOf(order) = p {
                *refunded
                    .get_mut(order as usize)
                    .must(EventAt(i), "refunded order")? = true;
            }
        }
        let walk = state
            .walks
            .as_ref()
            .map(|w| w.cursor(state.batch.ids.len(), &state.links));
        let members = state.batch.ids.len();
        Pass::fresh(state, walk, refunded, members, None)
    }

    /// Before the first event of `state`: the orders walk `walk` (a record
    /// of a replay) or, in `immediate` timing without one, the running
    /// state; `refunded` marks the orders a refund will reverse (empty when
    /// not known ahead); a schedule cache for `members`.
    fn fresh<'w>(
        state: &State,
        walk: Option<crate::running::Cursor<'w>>,
        refunded: Vec<bool>,
        members: usize,
        kept: Option<Kept>,
    ) -> Result<Pass<'w>> {
        let running = match state.policy.is_immediate() && walk.is_none() {
            true => Some(Running::start(&state.policy, &state.batch, &state.links)?),
            false => None,
        };
        Ok(Pass {
            part: Part::new(
                state.batch.ids.len(),
                state.policy.rules().len(),
                state.policy.rounding().scale,
            ),
            out: OrderOutcome::default(),
            schedules: Schedules::new(members),
            open: HashMap::default(),
            refunded,
            epoch: 0,
            walk,
            running,
            own_rates: RateTable::default(),
            own_slots: Vec::new(),
            ahead: crate::graph::Ahead::default(),
            caps: state.int_caps(),
            kept,
        })
    }

    /// Settle event `i` of `state` (the one after the last stepped) when
    /// `take` accepts its order, its lines booked and handed to `emit`;
    /// whether it settled an order.
    pub(crate) fn step(
        &mut self,
        state: &State,
        i: usize,
        take: &dyn Fn(usize) -> bool,
        emit: &mut dyn FnMut(&Line) -> Result<()>,
    ) -> Result<bool> {
        let batch = &state.batch;
        let Some(e) = batch.events.get(i) else {
            return Err(Error::missing(&format!("events[{i}]"), "event"));
        };
        if let Some(r) = self.running.as_mut() {
            r.before(batch, i)?;
        }
        let walked = match self.walk.as_mut() {
            Some(w) => Some(w.to(i)?),
            None => None,
        };
        let mut settled = false;
        match e {
            Event::Order(o) if take(i) => {
                settled = true;
                let before = self.epoch;
                while state
                    .earlier
                    .get(self.epoch)
                    .is_some_and(|(until, _)| i >= *until as usize)
                {
                    self.epoch += 1;
                }
                if self.epoch != before {
                    self.schedules = Schedules::new(batch.ids.len());
                }
                let up = state
                    .earlier
                    .get(self.epoch)
                    .map_or(&state.upline, |(_, u)| u);
                // The seller of the order at `k`, if it is one: for looking
                // ahead (no amount is made).
                let seller_at = |k: usize| match batch.events.party(k) {
                    Some(Party::Seller(s)) => Some(s),
                    _ => None,
                };
                let category = state.category_of(i)?;
                // In `immediate` timing, a schedule of the order's own on
                // the live table: the running state's, or the one ranking
                // recorded (only when no rule reads a metric).
                let recorded = |m: u32, _: &crate::condition::Metric| {
                    None.must(MemberAt(m), "metric of a recorded walk")
                };
                let replayed;
                let live: Option<(&Upline, crate::rule::Values<'_>)> =
                    match (self.running.as_ref(), walked) {
                        (Some(r), _) => {
                            replayed =
                                |m: u32, metric: &crate::condition::Metric| r.value(m, metric);
                            Some((r.upline(), &replayed))
                        }
                        (None, Some(w)) => Some((w, &recorded)),
                        (None, None) => None,
                    };
                let (slots, rates) = match live {
                    Some((live, values)) => {
                        let next = seller_at(i + WALKS_AHEAD).unwrap_or(NONE);
                        live.ahead(&mut self.ahead, next);
                        self.own_slots.clear();
                        state.schedule_on(
                            live,
                            values,
                            o.seller,
                            category,
                            &mut self.own_rates,
                            &mut self.own_slots,
                        )?;
                        (self.own_slots.as_slice(), &self.own_rates)
                    }
                    None => {
                        // A schedule is two loads at random places (the
                        // seller's span, then its slots): asked for ahead,
                        // the span 2 × SCHEDULES_AHEAD orders early and the
                        // slots SCHEDULES_AHEAD, they overlap instead of
                        // each order waiting for its own.
                        if let Some(s) = seller_at(i + 2 * SCHEDULES_AHEAD) {
                            self.schedules.prefetch_span(s);
                        }
                        if let Some(s) = seller_at(i + SCHEDULES_AHEAD) {
                            self.schedules.prefetch_slots(s);
                        }
                        self.schedules.of(o.seller, category, state, up)?
                    }
                };
                // A live pass keeps every order as its lines (below),
                // whatever refunds come; a batch knows which orders they
                // reverse and keeps those whole.
                let refunded = match self.kept {
                    Some(_) => false,
                    None => *self.refunded.get(i).must(EventAt(i), "refunds")?,
                };
                // In integers when the order has no refund to reverse
                // and its amount alone prices it; else in Decimal.
                let scale = state.policy.rounding().scale;
                let units = match refunded {
                    false if state.in_units(i) => batch.events.order_units(i, scale),
                    _ => None,
                };
                let out = &mut self.out;
                let done = match units {
                    Some(a) => state
                        .settle_order_in_units(i, a, category, slots, rates, &self.caps, out)?,
                    None => false,
                };
                if !done {
                    state.settle_order(i, o.amount, category, slots, rates, out)?;
                }
                self.part.book_unpaid(out)?;
                for l in &out.lines {
                    self.part.book_soon(l)?;
                    emit(l)?;
                }
                match self.kept.as_mut() {
                    Some(kept) => kept.push(i, out)?,
                    None if refunded => {
                        self.open.insert(i, Reversible::of(o.amount, out));
                    }
                    None => {}
                }
            }
            Event::Order(_) => {}
            Event::Refund(r) => {
                let order = r.order_event as usize;
                if let (Some(kept), false) = (&self.kept, self.open.contains_key(&order)) {
                    let Some(Event::Order(o)) = batch.events.get(order) else {
                        return Err(Error::missing(&format!("events[{i}]"), "refunded order"));
                    };
                    let scale = state.policy.rounding().scale;
                    self.open
                        .insert(order, kept.reversible(order, o.amount, scale)?);
                }
                if let (true, Some(open)) = (take(order), self.open.get_mut(&order)) {
                    let how = state.refunding(order, i, r.completes);
                    let rounding = state.policy.rounding();
                    reverse(open, i, r.amount, how, rounding, &mut self.part, emit)?;
                    if how.completes {
                        self.open.remove(&order);
                    }
                }
            }
        }
        if let Some(r) = self.running.as_mut() {
            r.sale(batch, i)?;
        }
        Ok(settled)
    }

    /// The orders' part, after the last event.
    fn end(mut self) -> Result<Part> {
        self.part.flush()?;
        Ok(self.part)
    }
}

/// The result of a settlement (§9): lines, totals, rank changes, summary.
#[derive(Debug, Clone)]
pub struct Settlement {
    /// What the indices of its lines and totals stand for.
    pub(crate) names: LineNames,
    pub(crate) scale: u32,
    pub(crate) lines: LineTable,
    pub(crate) totals: Vec<(u32, Decimal)>,
    pub(crate) rank_changes: Vec<RankChange>,
    pub(crate) net_sales: Decimal,
    pub(crate) total_paid: Decimal,
    pub(crate) payout_ratio: Option<Decimal>,
    pub(crate) breakage: Vec<Decimal>,
    pub(crate) cap_cut: Decimal,
    /// What member caps withheld (§12.3), when the policy has one.
    pub(crate) member_cap_cut: Option<Decimal>,
    /// What was available at the settlement's `as_of`, when asked one.
    pub(crate) as_of: Option<AsOf>,
}

/// A settlement's split of its totals at a time (§14.1).
#[derive(Debug, Clone)]
pub(crate) struct AsOf {
    /// The time asked (inclusive).
    pub at: Timestamp,
    /// What of each total (in the order of `totals`) was available then,
    /// and what was pending.
    pub split: Vec<(Decimal, Decimal)>,
    /// Every total's pending part added up.
    pub pending_total: Decimal,
}

impl Settlement {
    /// Every line in output order (none after a streamed or totals-only settlement).
    pub fn lines(&self) -> impl Iterator<Item = LineView<'_>> + '_ {
        (0..self.lines.len()).filter_map(move |i| self.names.view(&self.lines, i))
    }

    /// Every line in output order as columns (empty after a streamed or
    /// totals-only settlement); [`Settlement::names`] resolves its indices.
    pub fn line_table(&self) -> &LineTable {
        &self.lines
    }

    /// What the member, event and rule indices of its lines stand for.
    pub fn names(&self) -> &LineNames {
        &self.names
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Net amount per beneficiary, sorted by member id.
    pub fn totals(&self) -> impl Iterator<Item = (&str, Decimal)> + '_ {
        self.totals
            .iter()
            .map(|(m, t)| (self.names.members.get(*m), *t))
    }

    /// The `n` largest totals, largest first, ties by member id (a selection,
    /// not a sort of every total): the top earners a summary shows.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version":1,"ranks":[{"id":"member","rate":"0.1"}],
    ///   "rules":[{"id":"l","type":"levels","rates":["0.10","0.05"]}]}"#)?;
    /// let batch = fenrun::Batch::from_json(r#"{"members":[{"id":"a"},{"id":"b","sponsor":"a"},{"id":"c","sponsor":"b"}],
    ///   "events":[{"id":"o1","seller":"c","amount":"100"},{"id":"o2","seller":"b","amount":"50"}]}"#, &policy)?;
    /// // c earns 10.00 on o1; b 5.00 on o1 and 5.00 on o2; a 2.50 on o2.
    /// let s = fenrun::settle(&policy, batch)?;
    /// let top: Vec<_> = s.top_earners(2).into_iter().map(|(m, t)| format!("{m} {t}")).collect();
    /// assert_eq!(top, ["b 10.00", "c 10.00"]);
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn top_earners(&self, n: usize) -> Vec<(&str, Decimal)> {
        if n == 0 {
            return Vec::new();
        }
        let mut top: Vec<(&str, Decimal)> = self.totals().collect();
        let order = |a: &(&str, Decimal), b: &(&str, Decimal)| b.1.cmp(&a.1).then(a.0.cmp(b.0));
        if top.len() > n {
            top.select_nth_unstable_by(n - 1, order);
            top.truncate(n);
        }
        top.sort_by(order);
        top
    }

    /// Net amount of one member, `None` if it has no line.
    pub fn total_of(&self, member: &str) -> Option<Decimal> {
        self.totals().find(|(m, _)| *m == member).map(|(_, t)| t)
    }

    /// Rank changes of evaluation, sorted by member id.
    pub fn rank_changes(&self) -> &[RankChange] {
        &self.rank_changes
    }

    /// Net sales of the batch.
    pub fn net_sales(&self) -> Decimal {
        self.net_sales
    }

    /// Sum of every line.
    pub fn total_paid(&self) -> Decimal {
        self.total_paid
    }

    /// Total paid over net sales, at 4 decimals; `None` when net sales are 0.
    pub fn payout_ratio(&self) -> Option<Decimal> {
        self.payout_ratio
    }

    /// Breakage per rule id, in policy order.
    pub fn breakage(&self) -> impl Iterator<Item = (&str, Decimal)> + '_ {
        self.names
            .rules
            .iter()
            .zip(&self.breakage)
            .map(|((r, _), b)| (r.as_str(), *b))
    }

    /// Amount cut by the order cap, net of refunds.
    pub fn cap_cut(&self) -> Decimal {
        self.cap_cut
    }

    /// Amount withheld by the member cap (§12.3), when the policy has one.
    pub fn member_cap_cut(&self) -> Option<Decimal> {
        self.member_cap_cut
    }

    /// The money scale of the policy.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// The time the totals are split at, for a settlement asked one
    /// ([`crate::SettleOptions::as_of`], §14.1).
    pub fn as_of(&self) -> Option<Timestamp> {
        self.as_of.as_ref().map(|a| a.at)
    }

    /// What of member `member`'s total was available at the settlement's
    /// `as_of`; `None` without one, or for a member without a line. The
    /// pending part is the total less this.
    pub fn available_of(&self, member: &str) -> Option<Decimal> {
        let k = self
            .totals
            .iter()
            .position(|(m, _)| self.names.members.get(*m) == member)?;
        self.as_of.as_ref()?.split.get(k).map(|s| s.0)
    }

    /// Every total split at the settlement's `as_of`: (member, net,
    /// available, pending), sorted by member id; empty without one.
    pub fn split_totals(&self) -> impl Iterator<Item = (&str, Decimal, Decimal, Decimal)> + '_ {
        let split = self.as_of.as_ref().map_or(&[][..], |a| &a.split[..]);
        self.totals()
            .zip(split)
            .map(|((m, net), (a, p))| (m, net, *a, *p))
    }

    /// Every total's pending part at the settlement's `as_of`, added up
    /// (`summary.pending_total`); `None` without one.
    pub fn pending_total(&self) -> Option<Decimal> {
        self.as_of.as_ref().map(|a| a.pending_total)
    }

    /// The same settlement without its lines (totals, rank changes, summary).
    pub(crate) fn without_lines(&self) -> Settlement {
        Settlement {
            names: self.names.clone(),
            scale: self.scale,
            lines: LineTable::new(self.scale),
            totals: self.totals.clone(),
            rank_changes: self.rank_changes.clone(),
            net_sales: self.net_sales,
            total_paid: self.total_paid,
            payout_ratio: self.payout_ratio,
            breakage: self.breakage.clone(),
            cap_cut: self.cap_cut,
            member_cap_cut: self.member_cap_cut,
            as_of: self.as_of.clone(),
        }
    }
}

#[cfg(test)]
// Test tables hold a few thousand entries: their indices fit any integer.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
mod tests {
    use super::{pack, unpack, BySeller, BUCKET, FAST_LIMIT};
    use crate::{Batch, Policy};

    /// A live pass keeps every order's lines, breakage and cut in blocks
    /// (of 4 items in tests): refunds of orders kept many blocks back, in
    /// part and in full, reverse what their orders paid, as the batch does.
    #[test]
    fn a_live_pass_reverses_orders_kept_blocks_back() {
        let mut doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../examples/reference-policy.json")).unwrap();
        doc["version"] = serde_json::json!(2);
        doc["rank_timing"] = serde_json::json!("immediate");
        // A cap below the rules' rates: most orders are cut.
        doc["order_cap"] = serde_json::json!("0.12");
        let policy = Policy::from_value(doc).unwrap();
        // A chain m0 <- m1 <- ... <- m5; m0 and m2 own groups of 100 or more
        // (group owners), so the levels rule pays some and breaks the rest.
        let mut members = String::from(r#"{"id": "m0"}"#);
        for i in 1..6 {
            members.push_str(&format!(r#", {{"id": "m{i}", "sponsor": "m{}"}}"#, i - 1));
        }
        let start = format!(
            r#"{{"members": [{members}], "groups": [{{"id": "g0", "owner": "m0", "size": 120}},
                {{"id": "g2", "owner": "m2", "size": 150}}]}}"#
        );
        let mut events = Vec::new();
        for o in 0..30 {
            let seller = 5 - o % 4;
            events.push(format!(
                r#"{{"id": "o{o}", "seller": "m{seller}", "amount": "{}.{:02}"}}"#,
                100 + 37 * o,
                (o * 13) % 100
            ));
            // Refunds of orders many blocks back: o1 in part, then the rest
            // of it; o5 in full; o0 in two parts; o17 in part.
            let refunds: &[(&str, usize, &str)] = match o {
                12 => &[("r0", 1, "20.00")],
                20 => &[("r1", 5, "285.65"), ("r2", 1, "117.13")],
                25 => &[("r3", 0, "0.01")],
                29 => &[("r4", 0, "99.99"), ("r5", 17, "50.00")],
                _ => &[],
            };
            for (id, of, amount) in refunds {
                events.push(format!(
                    r#"{{"id": "{id}", "refund_of": "o{of}", "amount": "{amount}"}}"#
                ));
            }
        }
        let whole = format!(
            "{}, \"events\": [{}]}}",
            start.trim_end().trim_end_matches('}'),
            events.join(", ")
        );
        let settled = crate::settle(&policy, Batch::from_json(&whole, &policy).unwrap())
            .unwrap()
            .to_json();
        // Reversals many blocks after their orders; breakage and cuts.
        for kept in [r#""refund":"r4""#, r#""refund":"r5""#, r#""cap_cut":"#] {
            assert!(settled.contains(kept), "{kept} in {settled}");
        }
        assert!(!settled.contains(r#""cap_cut":"0.00""#), "{settled}");
        assert!(!settled.contains(r#""dist":"0.00""#), "{settled}");
        // The lines of orders and refunds, as the batch wrote them.
        let settled: serde_json::Value = serde_json::from_str(&settled).unwrap();
        let want: Vec<&serde_json::Value> = settled["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l.get("order").is_some())
            .collect();
        let answers = |lines: Option<crate::EventLines>| -> Vec<serde_json::Value> {
            let lines = lines.unwrap();
            lines
                .json()
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        // Each event applied answers with its lines; or taken, all of them
        // settled together by a catch-up.
        let mut one_by_one = crate::Ledger::open_json(&policy, &start).unwrap();
        let mut got = Vec::new();
        for e in &events {
            got.extend(answers(one_by_one.apply_json(e).unwrap().lines));
        }
        assert_eq!(got.iter().collect::<Vec<_>>(), want);
        let mut together = crate::Ledger::open_json(&policy, &start).unwrap();
        for e in &events {
            together.take_json(e).unwrap();
        }
        let got = answers(together.catch_up().unwrap());
        assert_eq!(got.iter().collect::<Vec<_>>(), want);
        // The summary's breakage and cap cut, net of what the refunds
        // reversed, finished from the live state.
        let totals = crate::SettleOptions::default().lines(crate::Lines::TotalsOnly);
        let batch = Batch::from_json(&whole, &policy).unwrap();
        let by_batch = crate::Engine::new(&policy, batch)
            .unwrap()
            .settle_with(totals.clone());
        assert_eq!(
            together.settlement_with(totals).unwrap().to_json(),
            by_batch.unwrap().to_json()
        );
    }

    #[test]
    fn an_entry_keeps_its_place_and_value() {
        for k in [0, 1, BUCKET / 2, BUCKET - 1] {
            for v in [1, 12_345, FAST_LIMIT - 1, 0, -1, -(1 << 32)] {
                assert_eq!(unpack(pack(k, v)), (k, v), "place {k}, value {v}");
            }
        }
    }

    #[test]
    fn orders_are_grouped_by_seller_across_buckets_in_input_order() {
        // 3 × BUCKET + 5 members under m0, so the first pass has four buckets
        // and the last is short. Sellers follow an LCG; every seventh order is
        // refunded (a slow entry) and every 1,000th is too large for an entry
        // (2^51 cents, also slow).
        let n = 3 * BUCKET + 5;
        let mut json = String::from(r#"{"members": [{"id": "m0"}"#);
        for i in 1..n {
            json.push_str(&format!(r#", {{"id": "m{i}", "sponsor": "m0"}}"#));
        }
        json.push_str(r#"], "events": ["#);
        let mut x: u64 = 7;
        let mut want: Vec<Vec<i64>> = vec![Vec::new(); n];
        let big = "22517998136852.48"; // 2^51 cents
        for o in 0..40_000usize {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let seller = (x >> 33) as usize % n;
            let cents = 100 + o as i64;
            let amount = if o % 1000 == 999 {
                big.to_owned()
            } else {
                format!("{}.{:02}", cents / 100, cents % 100)
            };
            if o > 0 {
                json.push_str(", ");
            }
            json.push_str(&format!(
                r#"{{"id": "o{o}", "seller": "m{seller}", "amount": "{amount}"}}"#
            ));
            if o % 7 == 3 {
                json.push_str(&format!(
                    r#", {{"id": "r{o}", "refund_of": "o{o}", "amount": "0.01"}}"#
                ));
            }
            // Fast entries are units; slow ones are marked by their amount.
            let fast = o % 7 != 3 && o % 1000 != 999;
            want[seller].push(if fast { cents } else { -(o as i64) });
        }
        json.push_str("]}");
        let policy = Policy::from_json(
            r#"{"version": 1, "ranks": [{"id": "member"}],
                "rules": [{"id": "l", "type": "levels", "rates": ["0.10"]}]}"#,
        )
        .unwrap();
        let batch = Batch::from_json(&json, &policy).unwrap();
        let grouped = BySeller::new(&batch, 2, 1, |_| Ok(0), false).unwrap();
        assert_eq!(grouped.sellers() as usize, n);
        // Order number of each event (refunds come after their order).
        let mut order_no = Vec::new();
        let mut count = 0i64;
        for e in batch.events.iter() {
            order_no.push(count);
            if matches!(e, super::Event::Order(_)) {
                count += 1;
            }
        }
        assert_eq!(count, 40_000);
        for (seller, want) in want.iter().enumerate() {
            let got: Vec<i64> = grouped
                .orders_of(seller as u32)
                .unwrap()
                .iter()
                .map(|&e| match grouped.slow(e) {
                    None => e,
                    Some(s) => -order_no[s.event as usize],
                })
                .collect();
            assert_eq!(&got, want, "seller m{seller}");
        }
    }
}
