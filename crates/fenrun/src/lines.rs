//! Payout lines (§9) as the settlement keeps them: columns of dense indices
//! and integer units ([`LineTable`]), the names those indices stand for
//! ([`LineNames`]), and one line read with its names resolved ([`LineView`]).
//!
//! The kernel's lines go into a table as they are made: a settlement that
//! keeps its lines holds one, a streaming settlement hands out one block at
//! a time ([`crate::Engine::settle_blocks`]). A reader that wants columns (an
//! Arrow table, a Parquet file) takes the index and unit columns as they are
//! and resolves names once per distinct member or event, not once per line;
//! a reader that wants records (the JSON document) reads [`LineView`]s.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::graph::NONE;
use crate::hold::{Times, Timestamp};
use crate::ids::RuleId;
use crate::index::Packed;

/// The rule index of a member-cap line (§12.3), which has no rule.
pub(crate) const MEMBER_CAP: u16 = u16::MAX;

/// One payout or reversal (§9) as the kernel makes it, with members, events
/// and rules as dense indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    /// Event index of the order ([`NONE`] for a pool line).
    pub order: u32,
    /// Event index of the refund ([`NONE`] if not a reversal).
    pub refund: u32,
    /// Rule index in the policy.
    pub rule: u16,
    /// Member index.
    pub beneficiary: u32,
    /// Level ([`NONE`] for pool lines).
    pub level: u32,
    /// Order amount, refund amount, or pool amount, in units of the
    /// policy scale (`12.34` at scale 2 is `1234`).
    pub base: i128,
    /// Rate or fixed amount (order lines) or weight (pool lines).
    pub rate: Decimal,
    /// Signed amount, in units of the policy scale.
    pub amount: i128,
    /// `rate` is a fixed amount (§12.2).
    pub fixed: bool,
    /// `rate` is a fixed amount per unit of the order (§12.5).
    pub per_unit: bool,
}

impl Line {
    /// The line's base and amount as money at `scale` (that of the
    /// settlement that made it); `None` beyond a decimal's 96 bits.
    pub(crate) fn money(&self, scale: u32) -> Option<(Decimal, Decimal)> {
        let money = |u: i128| Decimal::try_from_i128_with_scale(u, scale).ok();
        Some((money(self.base)?, money(self.amount)?))
    }
}

/// Lines as columns, in output order: what a settlement keeps and what a
/// streaming settlement hands out block by block.
///
/// Members, events and rules are dense indices into the settlement's
/// [`LineNames`]; a missing index (the order of a pool line, the refund of
/// an order line, the rule of a member-cap line, the level of a pool line)
/// is [`LineTable::NONE`] (or [`LineTable::NO_RULE`]). `base` and `amount`
/// are integers of units at the policy scale (`12.34` at scale 2 is `1234`),
/// as a decimal128 column holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineTable {
    scale: u32,
    order: Vec<u32>,
    refund: Vec<u32>,
    rule: Vec<u16>,
    beneficiary: Vec<u32>,
    level: Vec<u32>,
    base: Vec<i128>,
    amount: Vec<i128>,
    /// The rate, fixed amount or weight, as [`LineTable::rate`],
    /// [`LineTable::fixed`] and [`LineTable::weight`] read it.
    value: Vec<Decimal>,
    /// [`FIXED`] and [`PER_UNIT`] bits.
    flags: Vec<u8>,
}

/// `value` is a fixed amount (§12.2).
const FIXED: u8 = 1;
/// `value` is a fixed amount per unit (§12.5).
const PER_UNIT: u8 = 2;

impl LineTable {
    /// A missing member, event or level index.
    pub const NONE: u32 = NONE;
    /// The rule index of a member-cap line (§12.3), which no rule writes.
    pub const NO_RULE: u16 = MEMBER_CAP;

    /// An empty table of lines at the policy `scale`.
    pub fn new(scale: u32) -> LineTable {
        LineTable {
            scale,
            ..LineTable::default()
        }
    }

    /// An empty table with room for `rows` lines.
    pub fn with_capacity(scale: u32, rows: usize) -> LineTable {
        LineTable {
            scale,
            order: Vec::with_capacity(rows),
            refund: Vec::with_capacity(rows),
            rule: Vec::with_capacity(rows),
            beneficiary: Vec::with_capacity(rows),
            level: Vec::with_capacity(rows),
            base: Vec::with_capacity(rows),
            amount: Vec::with_capacity(rows),
            value: Vec::with_capacity(rows),
            flags: Vec::with_capacity(rows),
        }
    }

    /// Append one line (its units at the table's scale); `None` (nothing
    /// appended) when its base or amount has more units than a decimal at
    /// the scale holds (96 bits), so that every line kept reads back.
    #[inline]
    pub(crate) fn push(&mut self, l: &Line) -> Option<()> {
        let exact = |u: i128| Some(u).filter(|u| u.unsigned_abs() < 1 << 96);
        let base = exact(l.base)?;
        let amount = exact(l.amount)?;
        self.order.push(l.order);
        self.refund.push(l.refund);
        self.rule.push(l.rule);
        self.beneficiary.push(l.beneficiary);
        self.level.push(l.level);
        self.base.push(base);
        self.amount.push(amount);
        self.value.push(l.rate);
        self.flags
            .push((u8::from(l.fixed) * FIXED) | (u8::from(l.per_unit) * PER_UNIT));
        Some(())
    }

    /// Line `i` as the kernel made it.
    pub(crate) fn get(&self, i: usize) -> Option<Line> {
        let flags = *self.flags.get(i)?;
        Some(Line {
            order: *self.order.get(i)?,
            refund: *self.refund.get(i)?,
            rule: *self.rule.get(i)?,
            beneficiary: *self.beneficiary.get(i)?,
            level: *self.level.get(i)?,
            base: *self.base.get(i)?,
            rate: *self.value.get(i)?,
            amount: *self.amount.get(i)?,
            fixed: flags & FIXED != 0,
            per_unit: flags & PER_UNIT != 0,
        })
    }

    /// Every line as the kernel made it, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Line> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Append `other`'s lines after these (an empty table takes the
    /// scale of `other`: lines of one engine share theirs).
    pub(crate) fn append(&mut self, mut other: LineTable) {
        if self.is_empty() {
            self.scale = other.scale;
        }
        self.order.append(&mut other.order);
        self.refund.append(&mut other.refund);
        self.rule.append(&mut other.rule);
        self.beneficiary.append(&mut other.beneficiary);
        self.level.append(&mut other.level);
        self.base.append(&mut other.base);
        self.amount.append(&mut other.amount);
        self.value.append(&mut other.value);
        self.flags.append(&mut other.flags);
    }

    /// Empty again at `scale` (that of a table taken away, [`LineTable::default`],
    /// is 0) with room for `rows` lines, keeping what memory it has.
    pub(crate) fn refill(&mut self, scale: u32, rows: usize) {
        fn again<T>(column: &mut Vec<T>, rows: usize) {
            column.clear();
            column.reserve(rows);
        }
        self.scale = scale;
        again(&mut self.order, rows);
        again(&mut self.refund, rows);
        again(&mut self.rule, rows);
        again(&mut self.beneficiary, rows);
        again(&mut self.level, rows);
        again(&mut self.base, rows);
        again(&mut self.amount, rows);
        again(&mut self.value, rows);
        again(&mut self.flags, rows);
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    /// No lines.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The policy scale of `base` and `amount`.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// Each line's order (event index), [`LineTable::NONE`] on pool and
    /// member-cap lines.
    pub fn orders(&self) -> &[u32] {
        &self.order
    }

    /// Each line's refund (event index), [`LineTable::NONE`] unless a reversal.
    pub fn refunds(&self) -> &[u32] {
        &self.refund
    }

    /// Each line's rule (index in the policy), [`LineTable::NO_RULE`] on a
    /// member-cap line.
    pub fn rules(&self) -> &[u16] {
        &self.rule
    }

    /// Each line's beneficiary (member index).
    pub fn beneficiaries(&self) -> &[u32] {
        &self.beneficiary
    }

    /// Each line's level, [`LineTable::NONE`] on pool and member-cap lines.
    pub fn levels(&self) -> &[u32] {
        &self.level
    }

    /// Each line's base (order, refund or pool amount; a member-cap line's
    /// total before the cap) in units of the scale.
    pub fn base_units(&self) -> &[i128] {
        &self.base
    }

    /// Each line's signed amount in units of the scale.
    pub fn amount_units(&self) -> &[i128] {
        &self.amount
    }

    fn order_line(&self, i: usize) -> bool {
        self.order.get(i).is_some_and(|&o| o != NONE)
    }

    fn flag(&self, i: usize, bit: u8) -> bool {
        self.flags.get(i).is_some_and(|f| f & bit != 0)
    }

    /// Line `i`'s rate: order lines that pay a rate.
    pub fn rate(&self, i: usize) -> Option<Decimal> {
        let rate = self.order_line(i) && !self.flag(i, FIXED);
        self.value.get(i).copied().filter(|_| rate)
    }

    /// Line `i`'s fixed amount paid in place of a rate (§12.2), per unit
    /// of the order when [`LineTable::per_unit`].
    pub fn fixed(&self, i: usize) -> Option<Decimal> {
        let fixed = self.order_line(i) && self.flag(i, FIXED);
        self.value.get(i).copied().filter(|_| fixed)
    }

    /// Line `i`'s fixed amount is per unit of the order (§12.5).
    pub fn per_unit(&self, i: usize) -> bool {
        self.flag(i, PER_UNIT)
    }

    /// Line `i`'s weight: pool lines.
    pub fn weight(&self, i: usize) -> Option<Decimal> {
        let pool = !self.order_line(i) && self.rule.get(i).is_some_and(|&r| r != MEMBER_CAP);
        self.value.get(i).copied().filter(|_| pool)
    }
}

/// What the indices of a settlement's [`LineTable`]s stand for: member,
/// event and rule ids, rule types, and the instants of a hold period. Cheap
/// to clone (the ids are shared) and to send to another thread.
#[derive(Debug, Clone)]
pub struct LineNames {
    pub(crate) members: Arc<Packed>,
    pub(crate) events: Arc<Packed>,
    pub(crate) rules: Arc<[(RuleId, &'static str)]>,
    pub(crate) times: Option<Arc<Times>>,
    /// A bound on the magnitude of every base, amount and fixed amount of
    /// the lines, in units of the policy scale (`None`: none known).
    pub(crate) money_bound: Option<i128>,
}

impl LineNames {
    /// Whether every base, amount and fixed amount of these lines has at
    /// most `digits` digits in units of the policy scale (a decimal of
    /// precision `digits` holds each). It is a bound worked out before any
    /// line is made, from the batch's amounts and quantities and the policy's
    /// fixed amounts, not a look at the lines; `false` when it cannot tell.
    /// A columnar writer uses it to store money in 64 bits.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}],
    ///   "rules": [{"id": "l", "type": "levels", "rates": ["0.10"]}]}"#)?;
    /// let batch = fenrun::Batch::from_json(r#"{"members": [{"id": "a"}, {"id": "b", "sponsor": "a"}],
    ///   "events": [{"id": "o1", "seller": "b", "amount": "100.00"},
    ///              {"id": "o2", "seller": "b", "amount": "100.00"},
    ///              {"id": "r1", "refund_of": "o1", "amount": "30.00"}]}"#, &policy)?;
    /// let names = fenrun::Engine::new(&policy, batch)?.line_names();
    /// // G = 10000 + 10000 + 3000 cents, no fixed amount, 3 events of one unit:
    /// // an order line at most 23000 + (0 + 1) · 3 = 23003 cents, any line at most
    /// // (64 rules · 32 levels + 64 pools) · 23003 = 2112 · 23003 = 48,582,336 cents.
    /// assert!(names.money_fits(8));
    /// assert!(!names.money_fits(7));
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn money_fits(&self, digits: u32) -> bool {
        let limit = 10i128.checked_pow(digits);
        matches!((self.money_bound, limit), (Some(b), Some(l)) if b < l)
    }

    /// Number of members (member indices are `0..member_count()`).
    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Member `i`'s id (`""` out of range).
    pub fn member(&self, i: u32) -> &str {
        id_at(&self.members, i)
    }

    /// Number of events (event indices are `0..event_count()`).
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// Event `i`'s id (`""` out of range).
    pub fn event(&self, i: u32) -> &str {
        id_at(&self.events, i)
    }

    /// Number of rules (rule indices are `0..rule_count()`).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Rule `r`'s id; `None` for [`LineTable::NO_RULE`] (a member-cap line).
    pub fn rule(&self, r: u16) -> Option<&str> {
        if r == MEMBER_CAP {
            return None;
        }
        Some(
            self.rules
                .get(usize::from(r))
                .map_or("", |(id, _)| id.as_str()),
        )
    }

    /// What a line of rule `r` is: its rule type (`levels`, `differential`,
    /// `peer`, `pool`), or `member_cap` for [`LineTable::NO_RULE`].
    pub fn kind(&self, r: u16) -> &'static str {
        if r == MEMBER_CAP {
            return "member_cap";
        }
        self.rules.get(usize::from(r)).map_or("", |(_, k)| *k)
    }

    /// The policy has a hold period (§14.1): lines have an `available_at`.
    pub fn has_hold(&self) -> bool {
        self.times.is_some()
    }

    /// When line `i` of `t` becomes available under the hold period
    /// (§14.1): its order's time, or its reversal's; `None` without a hold,
    /// for pool and member-cap lines, and while its order is not received.
    pub fn available_at(&self, t: &LineTable, i: usize) -> Option<Timestamp> {
        let times = self.times.as_deref()?;
        let order = *t.order.get(i)?;
        let refund = *t.refund.get(i)?;
        available_at(order, refund, times)
    }

    /// Line `i` of `t` with its names resolved.
    pub fn view<'s>(&'s self, t: &LineTable, i: usize) -> Option<LineView<'s>> {
        let order = *t.order.get(i)?;
        let refund = *t.refund.get(i)?;
        let rule = *t.rule.get(i)?;
        let level = *t.level.get(i)?;
        let money = |u: i128| Decimal::try_from_i128_with_scale(u, t.scale).ok();
        Some(LineView {
            order: (order != NONE).then(|| self.event(order)),
            refund: (refund != NONE).then(|| self.event(refund)),
            rule: self.rule(rule),
            kind: self.kind(rule),
            beneficiary: self.member(*t.beneficiary.get(i)?),
            level: (level != NONE).then_some(level),
            base: money(*t.base.get(i)?)?,
            rate: t.rate(i),
            fixed: t.fixed(i),
            weight: t.weight(i),
            amount: money(*t.amount.get(i)?)?,
            available_at: self
                .times
                .as_deref()
                .and_then(|x| available_at(order, refund, x)),
        })
    }
}

/// Id `i` of `ids`, `""` out of range.
fn id_at(ids: &Packed, i: u32) -> &str {
    if (i as usize) < ids.len() {
        ids.get(i)
    } else {
        ""
    }
}

/// A line's `available_at` (§14.1): its order's, or its reversal's.
pub(crate) fn available_at(order: u32, refund: u32, times: &Times) -> Option<Timestamp> {
    if order == NONE {
        return None;
    }
    times.available_at(order, (refund != NONE).then_some(refund))
}

/// One line of a settlement with names resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineView<'s> {
    /// The order id (`None` for pool lines).
    pub order: Option<&'s str>,
    /// The refund id of a reversal.
    pub refund: Option<&'s str>,
    /// The rule id (`None` for a member-cap line, which no rule writes).
    pub rule: Option<&'s str>,
    /// The rule type (`levels`, `differential`, `peer`, `pool`), or
    /// `member_cap`.
    pub kind: &'s str,
    /// The member paid.
    pub beneficiary: &'s str,
    /// Level (order rules only).
    pub level: Option<u32>,
    /// Order, refund or pool amount.
    pub base: Decimal,
    /// Rate of an order line.
    pub rate: Option<Decimal>,
    /// Fixed amount of an order line that pays one in place of a rate (§12.2).
    pub fixed: Option<Decimal>,
    /// Weight of a pool line.
    pub weight: Option<Decimal>,
    /// Signed amount at the policy scale.
    pub amount: Decimal,
    /// When an order line or reversal becomes available under the policy's
    /// hold period (§14.1); `None` without a hold, for pool and member-cap
    /// lines, and while the order is not received (a hold from receipt).
    pub available_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::{Line, LineTable, NONE};
    use rust_decimal::Decimal;

    fn line(base: i128, amount: i128) -> Line {
        Line {
            order: 0,
            refund: NONE,
            rule: 0,
            beneficiary: 0,
            level: 0,
            base,
            rate: Decimal::new(10, 2),
            amount,
            fixed: false,
            per_unit: false,
        }
    }

    #[test]
    fn a_line_is_kept_only_if_it_reads_back() {
        let mut t = LineTable::new(2);
        // 12.30 and 1.23 at scale 2.
        assert_eq!(t.push(&line(1230, 123)), Some(()));
        assert_eq!(t.base_units(), [1230]);
        assert_eq!(t.amount_units(), [123]);
        assert_eq!(t.get(0), Some(line(1230, 123)));
        // 10^29 cents (10^27 at scale 2) is more than a decimal's 96 bits
        // (7.9 × 10^28); so is a refund of as many.
        assert_eq!(t.push(&line(10i128.pow(29), 100)), None);
        assert_eq!(t.push(&line(100, -(10i128.pow(29)))), None);
        // 2^96 - 1 units is the largest a decimal holds.
        assert_eq!(t.push(&line((1 << 96) - 1, 100)), Some(()));
        assert_eq!(t.len(), 2);
    }
}
