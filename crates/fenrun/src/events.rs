//! The validated events of a batch, 16 bytes each.
//!
//! Ten million orders are held from validation to the end of settlement, so
//! their size is memory first touched and then read again by every pass. An
//! amount is kept as an integer of units at the policy's rounding scale
//! (validation has checked it has no more decimals than that), its sign
//! telling an order from a refund; the rare amount too large for 64 bits of
//! units is kept whole on the side. A reader gets an [`Event`] back by value,
//! its amount a [`Decimal`] of the same value as the input's.

use rust_decimal::Decimal;

use crate::ids::idx32;

/// An order, its seller and buyer resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub seller: u32,
    /// The buyer when it is a member ([`NONE`](crate::graph::NONE) otherwise).
    pub buyer: u32,
    pub amount: Decimal,
}

/// A refund of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refund {
    /// Index of the order event in `events` (events are fewer than `u32::MAX`).
    pub order_event: u32,
    pub amount: Decimal,
    /// This refund brings the order's refunds to its full amount.
    pub completes: bool,
}

/// An event in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Order(Order),
    Refund(Refund),
}

/// Units of an order kept on the side (see [`Row::units`]).
const BIG_ORDER: i64 = 0;
/// Units of a refund kept on the side (no refund has `i64::MIN` units: they
/// are stored negated, and `-i64::MAX` is the least).
const BIG_REFUND: i64 = i64::MIN;

/// Sums of amounts in units (see [`Events::unit_sums`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitSums {
    pub sales: Vec<i128>,
    pub purchases: Vec<i128>,
    pub net: i128,
    /// Decimals of a unit.
    pub scale: u32,
}

/// Whom an event concerns (see [`Events::parties`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Party {
    /// An order and its seller.
    Seller(u32),
    /// A refund and the event of the order it reverses.
    RefundOf(u32),
}

/// One event. An order: `a` seller, `b` buyer. A refund: `a` the order's
/// event, `b` 1 if it completes the order's refunds, else 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    a: u32,
    b: u32,
    /// An order's units (> 0), a refund's units negated (< 0), or
    /// [`BIG_ORDER`] / [`BIG_REFUND`]: the amount is in `Events::big`.
    units: i64,
}

impl Row {
    /// An order's row (a refund's units are negated).
    #[inline]
    fn is_order(&self) -> bool {
        self.units > 0 || self.units == BIG_ORDER
    }

    /// Who the row's event concerns.
    #[inline]
    fn party(&self) -> Party {
        if self.is_order() {
            Party::Seller(self.a)
        } else {
            Party::RefundOf(self.a)
        }
    }
}

/// Events in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Events {
    rows: Vec<Row>,
    /// Amounts of the events whose units do not fit, by event position (ascending).
    big: Vec<(u32, Decimal)>,
    scale: u32,
    /// Each order's category code (0: none; a code is the batch's), up to
    /// the last order that has one: empty for a batch without categories.
    cats: Sparse<u16>,
    /// Each order's quantity (§12.5) up to the last order with one above 1:
    /// empty for a batch of single units.
    quantities: Sparse<u32>,
}

/// A value of some events (a category code, a quantity), kept only up to
/// the last event that has one other than `default`: a batch whose events
/// have none keeps nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sparse<T> {
    values: Vec<T>,
    default: T,
}

impl<T: Copy> Sparse<T> {
    fn new(default: T) -> Sparse<T> {
        Sparse {
            values: Vec::new(),
            default,
        }
    }

    /// Give event `i` (the last so far) the value `v`.
    fn set(&mut self, i: usize, v: T) {
        self.values.resize(i, self.default);
        self.values.push(v);
    }

    #[inline]
    fn get(&self, i: usize) -> T {
        self.values.get(i).copied().unwrap_or(self.default)
    }

    fn truncate(&mut self, n: usize) {
        self.values.truncate(n);
    }
}

/// Rows looked ahead in [`Events::unit_sums`].
const AHEAD: usize = 16;

impl Events {
    /// No events yet; amounts will be kept at `scale` decimals.
    pub fn new(scale: u32) -> Events {
        Events {
            rows: Vec::new(),
            big: Vec::new(),
            scale,
            cats: Sparse::new(0),
            quantities: Sparse::new(1),
        }
    }

    /// Give the last event pushed the quantity `q` (above 1).
    pub fn set_quantity(&mut self, q: u32) {
        let Some(last) = self.rows.len().checked_sub(1) else {
            return;
        };
        self.quantities.set(last, q);
    }

    /// The quantity of event `i` (1 unless an order says more).
    #[inline]
    pub fn quantity(&self, i: usize) -> u32 {
        self.quantities.get(i)
    }

    /// Give the last event pushed the category of code `code` (not 0).
    pub fn set_category(&mut self, code: u16) {
        let Some(last) = self.rows.len().checked_sub(1) else {
            return;
        };
        self.cats.set(last, code);
    }

    /// The category code of event `i` (0: none).
    #[inline]
    pub fn category(&self, i: usize) -> u16 {
        self.cats.get(i)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
    }

    /// Events there is room for.
    pub fn capacity(&self) -> usize {
        self.rows.capacity()
    }

    /// Append an event. Its amount must be positive with at most `scale`
    /// decimals by value (validation checks both first).
    pub fn push(&mut self, event: Event) {
        let (a, b, amount, refund) = match event {
            Event::Order(o) => (o.seller, o.buyer, o.amount, false),
            Event::Refund(r) => (r.order_event, u32::from(r.completes), r.amount, true),
        };
        let units = crate::money::units_at(amount, self.scale)
            .and_then(|u| i64::try_from(u).ok())
            .filter(|&u| u > 0);
        let units = match (units, refund) {
            (Some(u), false) => u,
            (Some(u), true) => -u,
            (None, refund) => {
                self.big.push((idx32(self.rows.len()), amount));
                if refund {
                    BIG_REFUND
                } else {
                    BIG_ORDER
                }
            }
        };
        self.rows.push(Row { a, b, units });
    }

    /// Keep the first `n` events only.
    pub fn truncate(&mut self, n: usize) {
        self.rows.truncate(n);
        self.big.retain(|&(i, _)| (i as usize) < n);
        self.cats.truncate(n);
        self.quantities.truncate(n);
    }

    /// Append an order of `units` (> 0) at the scale kept; anything else is
    /// pushed as a decimal.
    #[inline]
    pub fn push_order_units(&mut self, seller: u32, buyer: u32, units: i64) {
        if units > 0 {
            self.rows.push(Row {
                a: seller,
                b: buyer,
                units,
            });
        } else {
            self.push(Event::Order(Order {
                seller,
                buyer,
                amount: Decimal::new(units, self.scale),
            }));
        }
    }

    /// Give the refund at position `i` its order's event and whether it
    /// completes the order's refunds (validation finds both after the
    /// refund is pushed). Anything else at `i` is left alone.
    pub fn set_refund(&mut self, i: usize, order_event: u32, completes: bool) {
        if let Some(row) = self.rows.get_mut(i).filter(|r| r.units < 0) {
            row.a = order_event;
            row.b = u32::from(completes);
        }
    }

    /// The event at position `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Event> {
        self.rows.get(i).map(|&row| self.event(i, row))
    }

    /// Every event in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Event> + '_ {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, &row)| self.event(i, row))
    }

    /// Who each event concerns, without its amount (no [`Decimal`] is made):
    /// for passes that only group events.
    pub fn parties(&self) -> impl ExactSizeIterator<Item = Party> + '_ {
        self.rows.iter().map(Row::party)
    }

    /// Who event `i` concerns, without its amount: for looking ahead.
    #[inline]
    pub fn party(&self, i: usize) -> Option<Party> {
        self.rows.get(i).map(Row::party)
    }

    /// Orders less refunds over the batch in units of the scale kept (no
    /// overflow: fewer than 2^32 amounts below 2^63 each), when every amount
    /// is kept in units.
    pub fn net_units(&self) -> Option<(i128, u32)> {
        if !self.big.is_empty() {
            return None;
        }
        let net = self.rows.iter().map(|r| i128::from(r.units)).sum();
        Some((net, self.scale))
    }

    /// Every event's amount added up, orders and refunds alike, in units of
    /// the scale kept (returned beside it), when every amount is kept in
    /// units (no overflow, as for [`Events::net_units`]).
    pub fn gross_units(&self) -> Option<(i128, u32)> {
        if !self.big.is_empty() {
            return None;
        }
        let gross = self
            .rows
            .iter()
            .map(|r| i128::from(r.units.unsigned_abs()))
            .sum();
        Some((gross, self.scale))
    }

    /// Every event's quantity added up (one where none is given).
    pub fn total_quantity(&self) -> u64 {
        let given = self
            .quantities
            .values
            .iter()
            .map(|&q| u64::from(q))
            .sum::<u64>();
        let rest = self.rows.len().saturating_sub(self.quantities.values.len()) as u64;
        given + rest * u64::from(self.quantities.default)
    }

    /// Sales by seller and purchases by member buyer over `members` members,
    /// and the net of the batch, each orders less refunds in units of the
    /// scale kept (a refund counts against its order's seller and buyer),
    /// when every amount is kept in units. No sum can overflow: fewer than
    /// 2^32 amounts below 2^63 each stay below 2^95.
    pub fn unit_sums(&self, members: usize) -> Option<UnitSums> {
        if !self.big.is_empty() {
            return None;
        }
        let mut sums = UnitSums {
            sales: vec![0; members],
            purchases: vec![0; members],
            net: 0,
            scale: self.scale,
        };
        for (j, row) in self.rows.iter().enumerate() {
            // The sums an order a few rows on adds to are asked for now, so
            // that their cache misses overlap.
            if let Some(ahead) = self.rows.get(j + AHEAD).filter(|r| r.units > 0) {
                prefetch_index::prefetch_index(&sums.sales, ahead.a as usize);
                prefetch_index::prefetch_index(&sums.purchases, ahead.b as usize);
            }
            let units = i128::from(row.units);
            let order = if units > 0 {
                row
            } else {
                match self.rows.get(row.a as usize) {
                    Some(order) => order,
                    None => continue,
                }
            };
            if let Some(s) = sums.sales.get_mut(order.a as usize) {
                *s += units;
            }
            if let Some(p) = sums.purchases.get_mut(order.b as usize) {
                *p += units;
            }
            sums.net += units;
        }
        Some(sums)
    }

    /// The amount of order `i` in units of `scale`, if it is an order, its
    /// amount fits in 64 bits at the scale kept, and that scale is `scale`.
    #[inline]
    pub fn order_units(&self, i: usize, scale: u32) -> Option<i64> {
        self.rows
            .get(i)
            .filter(|r| r.units > 0 && scale == self.scale)
            .map(|r| r.units)
    }

    /// The amount of event `i` (order or refund, positive) in units of
    /// `scale`, if it fits in 64 bits there: read in place at the scale kept,
    /// else from the amount.
    pub fn units_at(&self, i: usize, scale: u32) -> Option<i64> {
        let refund_units = |r: &Row| (r.units < 0 && r.units != BIG_REFUND).then(|| -r.units);
        self.order_units(i, scale)
            .or_else(|| {
                self.rows
                    .get(i)
                    .filter(|_| scale == self.scale)
                    .and_then(refund_units)
            })
            .or_else(|| {
                let amount = match self.get(i)? {
                    Event::Order(o) => o.amount,
                    Event::Refund(r) => r.amount,
                };
                crate::money::units(amount, scale)
                    .and_then(|u| i64::try_from(u).ok())
                    .filter(|&u| u > 0)
            })
    }

    #[inline]
    fn event(&self, i: usize, row: Row) -> Event {
        let amount = |units: i64| match units {
            BIG_ORDER | BIG_REFUND => self.big_amount(i),
            u => Decimal::new(u.abs(), self.scale),
        };
        if row.is_order() {
            Event::Order(Order {
                seller: row.a,
                buyer: row.b,
                amount: amount(row.units),
            })
        } else {
            Event::Refund(Refund {
                order_event: row.a,
                amount: amount(row.units),
                completes: row.b != 0,
            })
        }
    }

    #[cold]
    fn big_amount(&self, i: usize) -> Decimal {
        match self.big.binary_search_by_key(&idx32(i), |&(j, _)| j) {
            Ok(k) => self.big.get(k).map_or(Decimal::ZERO, |&(_, d)| d),
            Err(_) => Decimal::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NONE;

    fn order(seller: u32, buyer: u32, amount: Decimal) -> Event {
        Event::Order(Order {
            seller,
            buyer,
            amount,
        })
    }

    fn refund(order_event: u32, amount: Decimal, completes: bool) -> Event {
        Event::Refund(Refund {
            order_event,
            amount,
            completes,
        })
    }

    #[test]
    fn events_come_back_with_the_same_values() {
        let huge = Decimal::MAX; // 79228162514264337593543950335: no i64 units at scale 2
        let input = [
            order(3, NONE, Decimal::new(1999, 2)),
            order(1, 2, Decimal::new(5, 0)),
            refund(1, Decimal::new(25, 1), false),
            order(0, 0, Decimal::new(10000, 3)), // "10.000": 2 decimals by value
            order(4, 1, huge),
            refund(4, huge, true),
            order(2, 3, Decimal::new(i64::MAX, 2)),
            refund(6, Decimal::new(i64::MAX, 2), true),
            order(2, 3, Decimal::new(1, 2)),
        ];
        let mut events = Events::new(2);
        for e in input.iter().cloned() {
            events.push(e);
        }
        assert_eq!(events.len(), input.len());
        let back: Vec<Event> = events.iter().collect();
        assert_eq!(back, input);
        for (i, e) in input.iter().enumerate() {
            assert_eq!(events.get(i).as_ref(), Some(e), "event {i}");
        }
        assert_eq!(events.get(input.len()), None);
        // Units only for orders kept in units, and only at the scale kept.
        assert_eq!(events.order_units(0, 2), Some(1999));
        assert_eq!(events.order_units(1, 2), Some(500));
        assert_eq!(events.order_units(3, 2), Some(1000));
        assert_eq!(events.order_units(0, 3), None);
        assert_eq!(events.order_units(2, 2), None);
        assert_eq!(events.order_units(4, 2), None);
        assert_eq!(events.order_units(6, 2), Some(i64::MAX));
        // Any event's units: refunds too, and at another scale from the amount
        // (19.99 at 3 decimals is 19990; 2.5 at 2 is 250; 10^26 × 7.9 has none).
        assert_eq!(events.units_at(0, 3), Some(19990));
        assert_eq!(events.units_at(2, 2), Some(250));
        assert_eq!(events.units_at(5, 2), None);
        assert_eq!(events.units_at(7, 2), Some(i64::MAX));
        assert_eq!(events.units_at(7, 3), None);
        assert_eq!(events.units_at(9, 2), None);
        assert_eq!(events.big.len(), 2);
        let parties: Vec<Party> = events.parties().collect();
        assert_eq!(
            parties,
            [
                Party::Seller(3),
                Party::Seller(1),
                Party::RefundOf(1),
                Party::Seller(0),
                Party::Seller(4),
                Party::RefundOf(4),
                Party::Seller(2),
                Party::RefundOf(6),
                Party::Seller(2),
            ]
        );
        // Not all in units: no integer sums.
        assert_eq!(events.net_units(), None);
        assert_eq!(events.unit_sums(5), None);
    }

    #[test]
    fn net_units_are_orders_less_refunds() {
        let mut events = Events::new(2);
        assert_eq!(events.net_units(), Some((0, 2)));
        events.push(order(0, NONE, Decimal::new(1999, 2)));
        events.push(order(1, 0, Decimal::new(i64::MAX, 2)));
        events.push(order(1, 0, Decimal::new(i64::MAX, 2)));
        events.push(refund(0, Decimal::new(5, 1), false));
        // 19.99 + 2 × (2^63 − 1)/100 − 0.50, in cents, past i64.
        let want = 1999 + 2 * i128::from(i64::MAX) - 50;
        assert_eq!(events.net_units(), Some((want, 2)));
    }

    #[test]
    fn unit_sums_count_a_refund_against_its_orders_seller_and_buyer() {
        let mut events = Events::new(2);
        events.push(order(0, NONE, Decimal::new(1999, 2))); // m0 sells 19.99 to a consumer
        events.push(order(1, 0, Decimal::new(10, 0))); // m1 sells 10 to m0
        events.push(order(1, 1, Decimal::new(i64::MAX, 2))); // a self-purchase
        events.push(refund(1, Decimal::new(25, 1), false)); // 2.50 of event 1
        events.push(refund(2, Decimal::new(i64::MAX, 2), true));
        let sums = events.unit_sums(3).unwrap();
        // m0: 1999; m1: 1000 + max − 250 − max = 750; m2: nothing.
        assert_eq!(sums.sales, [1999, 750, 0]);
        // m0 bought 1000 − 250; m1 bought max − max.
        assert_eq!(sums.purchases, [750, 0, 0]);
        assert_eq!(sums.net, 1999 + 750);
        assert_eq!(sums.scale, 2);
    }

    /// Ten million events are held at once: their size is memory first touched.
    #[test]
    fn events_stay_small() {
        assert_eq!(std::mem::size_of::<Row>(), 16);
    }
}
