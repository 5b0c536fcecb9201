//! The money of one order, written once (§5.4, §6.2): every slot's share,
//! the order cap taken in slot order, breakage per rule, and what each
//! refund reverses. It runs over [`Exact`], a number representation: `i64`
//! units of the policy's scale (the fast path, which declines with an
//! [`Overflow`] whatever it cannot compute exactly) and [`Decimal`] (every
//! case). The settlement paths and `explain` all call it; none repeats it.

use rust_decimal::Decimal;

use crate::money::{div_round, div_round_i64, Rounding, RoundingMode, SHARE_MAX_UNITS};
use crate::rule::Price;

/// An exact amount of money: `i64` units of the scale, or a [`Decimal`].
pub(crate) trait Exact: Copy + Default + PartialOrd + std::fmt::Debug {
    /// Nothing.
    const ZERO: Self;
    /// Whether the representation declines what it cannot compute, for the
    /// caller to take the Decimal path (which then books the order instead).
    const DECLINES: bool;
    /// `self + b`, `None` out of range.
    fn checked_add(self, b: Self) -> Option<Self>;
    /// `self − b` for `b ≤ self`.
    fn minus(self, b: Self) -> Self;
    /// `self + b` of two amounts of one order being booked, `None` out of
    /// range: a representation that declines has checked (or its prices
    /// vouched) that the order's shares add up within it, so it only adds.
    fn add_booked(self, b: Self) -> Option<Self>;
    /// Whether it is zero.
    fn is_zero(self) -> bool;
    /// `round(a × x / o)` at the scale (a refund of `x` of an order of `o`
    /// taking its share of an amount `a`), `None` where this representation
    /// cannot give the value §6.2 defines.
    fn share(a: Self, x: Self, o: Self, rounding: Rounding) -> Option<Self>;
}

impl Exact for i64 {
    const ZERO: i64 = 0;
    const DECLINES: bool = true;

    #[inline]
    fn checked_add(self, b: i64) -> Option<i64> {
        i64::checked_add(self, b)
    }

    #[inline]
    fn minus(self, b: i64) -> i64 {
        self - b
    }

    #[inline]
    fn add_booked(self, b: i64) -> Option<i64> {
        Some(self + b)
    }

    #[inline]
    fn is_zero(self) -> bool {
        self == 0
    }

    /// Only where the Decimal representation computes the share exactly too
    /// ([`Rounding::round_share`]'s domain: `0 < o ≤ 10^12` units, `a` and
    /// `x` within `[0, o]`), so that both give the same value.
    #[inline]
    fn share(a: i64, x: i64, o: i64, rounding: Rounding) -> Option<i64> {
        let within = |v: i64| (0..=o).contains(&v);
        if !(1..=SHARE_MAX_UNITS).contains(&o) || !within(a) || !within(x) {
            return None;
        }
        Some(match a.checked_mul(x) {
            Some(p) => div_round_i64(p, o, rounding.mode),
            None => i64::try_from(div_round(
                i128::from(a) * i128::from(x),
                i128::from(o),
                rounding.mode,
            ))
            .ok()?,
        })
    }
}

impl Exact for Decimal {
    const ZERO: Decimal = Decimal::ZERO;
    const DECLINES: bool = false;

    #[inline]
    fn checked_add(self, b: Decimal) -> Option<Decimal> {
        Decimal::checked_add(self, b)
    }

    #[inline]
    fn minus(self, b: Decimal) -> Decimal {
        self - b
    }

    #[inline]
    fn add_booked(self, b: Decimal) -> Option<Decimal> {
        Decimal::checked_add(self, b)
    }

    #[inline]
    fn is_zero(self) -> bool {
        Decimal::is_zero(&self)
    }

    fn share(a: Decimal, x: Decimal, o: Decimal, rounding: Rounding) -> Option<Decimal> {
        if let Some(v) = rounding.round_share(a, x, o) {
            return Some(v);
        }
        a.checked_mul(x)
            .and_then(|v| v.checked_div(o))
            .map(|v| rounding.round(v))
    }
}

/// A rate `m / div` (`div` = 10^scale) in integers, when both fit an `i64`:
/// the fast representation's rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntRate {
    m: i64,
    div: i64,
}

impl IntRate {
    pub(crate) fn of(rate: Decimal) -> Option<IntRate> {
        Some(IntRate {
            m: i64::try_from(rate.mantissa()).ok()?,
            div: 10i64.checked_pow(rate.scale())?,
        })
    }

    /// `round(rate × units)` in units of the scale; `None` if the product leaves i64.
    #[inline(always)]
    pub(crate) fn pay(self, units: i64, mode: RoundingMode) -> Option<i64> {
        let n = units.checked_mul(self.m)?;
        // Rates written with up to four decimals, as policies write them,
        // divide by a constant: a multiplication and a shift instead of a
        // division instruction (the largest cost of the totals loop after
        // the schedules' cache misses).
        Some(match self.div {
            1 => n,
            10 => div_round_i64(n, 10, mode),
            100 => div_round_i64(n, 100, mode),
            1000 => div_round_i64(n, 1000, mode),
            10000 => div_round_i64(n, 10000, mode),
            d => div_round_i64(n, d, mode),
        })
    }
}

/// A slot's price in integers: a rate, or a fixed amount in units of the
/// scale (at most the order's units once clamped, §12.2).
#[derive(Debug, Clone, Copy)]
pub(crate) enum IntPrice {
    Rate(IntRate),
    Fixed(i64),
    /// Not clamped to the order (`"limit": "none"`, §12.5).
    Unclamped(i64),
}

impl IntPrice {
    /// `price` in integers at `scale`, when it fits an `i64`.
    pub(crate) fn of(price: Price, scale: u32) -> Option<IntPrice> {
        match price {
            Price::Rate(r) => IntRate::of(r).map(IntPrice::Rate),
            Price::Fixed(f) => crate::money::units(f, scale)
                .and_then(|u| i64::try_from(u).ok())
                .map(IntPrice::Fixed),
            // Orders in integers are of one unit under a per-unit policy
            // (`State::per_unit`): a per-unit amount is the amount.
            Price::FixedWith(f) => {
                let u = crate::money::units(f.amount, scale).and_then(|u| i64::try_from(u).ok());
                u.map(|u| {
                    if f.clamped {
                        IntPrice::Fixed(u)
                    } else {
                        IntPrice::Unclamped(u)
                    }
                })
            }
        }
    }

    /// The share of an order of `units`: `round(rate × units)`, or the
    /// fixed amount clamped to the order.
    #[inline(always)]
    pub(crate) fn pay(self, units: i64, mode: RoundingMode) -> Option<i64> {
        match self {
            IntPrice::Rate(r) => r.pay(units, mode),
            IntPrice::Fixed(f) => Some(f.min(units)),
            IntPrice::Unclamped(f) => Some(f),
        }
    }
}

/// An order amount as the Decimal representation multiplies it: in units of
/// the scale when it has no more decimals than the scale, so that a product
/// is computed in exact integers where it fits them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Base {
    amount: Decimal,
    units: Option<i128>,
    rounding: Rounding,
    /// The order's quantity (§12.5; 1 by default).
    quantity: u32,
    /// Rates rounded per unit (`rounding.per: "unit"`, §12.5).
    per_unit: bool,
}

impl Base {
    pub(crate) fn new(amount: Decimal, rounding: Rounding) -> Base {
        Base {
            amount,
            units: crate::money::units(amount, rounding.scale),
            rounding,
            quantity: 1,
            per_unit: false,
        }
    }

    /// The same order of `quantity` units, its rates rounded per unit when
    /// `per_unit` (§12.5).
    pub(crate) fn of_units(self, quantity: u32, per_unit: bool) -> Base {
        Base {
            quantity: quantity.max(1),
            per_unit,
            ..self
        }
    }

    /// `round(rate × amount)` at the scale; `None` beyond the Decimal range.
    #[inline]
    pub(crate) fn pay(&self, rate: Decimal) -> Option<Decimal> {
        if let Some(v) = self
            .units
            .and_then(|u| self.rounding.round_product(rate, u))
        {
            return Some(v);
        }
        rate.checked_mul(self.amount)
            .map(|x| self.rounding.round(x))
    }

    /// The share a slot's price takes: `round(rate × amount)`, or the fixed
    /// amount clamped to the order's (§12.2).
    #[inline]
    pub(crate) fn price(&self, price: Price) -> Option<Decimal> {
        match price {
            Price::Rate(r) if self.per_unit && self.quantity > 1 => {
                // round(rate × amount / quantity) × quantity (crmeb_java).
                let q = Decimal::from(self.quantity);
                let unit = r.checked_mul(self.amount)?.checked_div(q)?;
                self.rounding.round(unit).checked_mul(q)
            }
            Price::Rate(r) => self.pay(r),
            Price::Fixed(f) => Some(f.min(self.amount)),
            Price::FixedWith(f) => {
                let total = if f.per_unit {
                    f.amount.checked_mul(Decimal::from(self.quantity))?
                } else {
                    f.amount
                };
                Some(if f.clamped {
                    total.min(self.amount)
                } else {
                    total
                })
            }
        }
    }
}

/// What left the representation's range (or, for `i64`, its exact domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// A slot's or the cap's `rate × amount`.
    Product,
    /// A rule's breakage summed over its slots.
    Breakage,
    /// The order's cap cut.
    CapCut,
    /// A refund's share of an amount.
    Share,
}

impl Overflow {
    /// The error detail the Decimal path reports.
    pub(crate) fn detail(self) -> &'static str {
        match self {
            Overflow::Product => "rate × amount",
            Overflow::Breakage => "breakage",
            Overflow::CapCut => "cap cut",
            Overflow::Share => "refund share",
        }
    }
}

/// One slot of an order that pays a member something after the cap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paid<N> {
    /// The slot's index in the seller's schedule.
    pub slot: usize,
    /// What it keeps after the cap (not zero).
    pub kept: N,
}

/// What one order paid, cut and broke ([`Outcome::order`]), reused from
/// order to order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome<N> {
    /// Every slot's share before the cap, by slot index (what explanations
    /// call the promised amount).
    pub promised: Vec<N>,
    /// The slots paying members, in slot order.
    pub paid: Vec<Paid<N>>,
    /// Breakage per rule that has any, in rule order, none zero.
    pub breakage: Vec<(u16, N)>,
    /// The order cap's amount, if the policy has one.
    pub cap: Option<N>,
    /// What the cap cut.
    pub cut: N,
}

/// What the kernel needs of a slot: whom it pays and under which rule.
pub(crate) trait SlotOf {
    /// Whether the slot's share breaks (no member takes it).
    fn breaks(&self) -> bool;
    /// The slot's rule index.
    fn rule(&self) -> u16;
}

/// How a representation prices the slots of one order: each slot's share of
/// the order, `round(rate × amount)` at the scale. A trait rather than a
/// closure so that the price inlines into the kernel's slot loop.
pub(crate) trait Prices<S> {
    /// The representation's number.
    type N: Exact;
    /// The slot's share of the order; `None` out of range.
    fn pay(&self, slot: &S) -> Option<Self::N>;

    /// Whether the shares of any `slots` slots add up within the
    /// representation, so that their total need not be checked.
    #[inline(always)]
    fn fit(&self, slots: usize) -> bool {
        let _ = slots;
        false
    }
}

/// Where the kernel books one order's results as it settles it: the
/// slots that pay members, and each rule's breakage.
pub(crate) trait Book<N> {
    /// Slot `slot` pays its member `kept` after the cap (never zero).
    fn line(&mut self, slot: usize, kept: N);
    /// A slot of rule `rule` breaks `amount` (not zero) on this order. A
    /// rule's slots are adjacent, so a book that keeps breakage per rule
    /// adds a slot's to the rule's last entry; `Err` if that sum leaves
    /// the representation.
    fn breakage(&mut self, rule: u16, amount: N) -> Result<(), Overflow>;
}

/// Settle one order (§5.4): `prices.pay(slot)` is each slot's share of the
/// order (rules in policy order, levels ascending, the shares in
/// `promised` by slot); a breaking slot's share adds to its rule's
/// breakage; then `cap` (the cap's own share of the order) is taken from the
/// members' shares in slot order, and what it leaves of each is kept. Zero
/// amounts are not booked. Returns what the cap cut.
///
/// Every share is computed before anything is booked. A representation
/// that declines ([`Exact::DECLINES`]) also declines, before booking, an
/// order whose shares add up beyond its range: the cut and each breakage
/// are at most that sum, so once booking starts it cannot fail, and a
/// declined order books nothing.
#[inline(always)]
pub(crate) fn order<S: SlotOf, N: Exact>(
    slots: &[S],
    prices: &impl Prices<S, N = N>,
    cap: Option<N>,
    promised: &mut Vec<N>,
    book: &mut impl Book<N>,
) -> Result<N, Overflow> {
    promised.clear();
    let mut total = N::ZERO;
    // A representation that declines does so before booking anything: the
    // shares' total must fit it, unless the prices vouch that it does.
    let count = N::DECLINES && !prices.fit(slots.len());
    for s in slots {
        let amount = prices.pay(s).ok_or(Overflow::Product)?;
        if count {
            total = total.checked_add(amount).ok_or(Overflow::Breakage)?;
        }
        promised.push(amount);
    }
    match cap {
        Some(cap) => book_slots::<S, N, true>(slots, promised, cap, book),
        None => book_slots::<S, N, false>(slots, promised, N::ZERO, book),
    }
}

/// `a + b` inside [`order`] ([`Exact::add_booked`]), `what` out of range.
#[inline(always)]
fn add<N: Exact>(a: N, b: N, what: Overflow) -> Result<N, Overflow> {
    a.add_booked(b).ok_or(what)
}

/// The booking half of [`order`], with or without a cap (`CAPPED`, a
/// constant, so that an order without one does no cap arithmetic): each
/// rule's breakage, then the members' shares after what is `left` of the
/// cap. Returns the cap cut.
#[inline(always)]
fn book_slots<S: SlotOf, N: Exact, const CAPPED: bool>(
    slots: &[S],
    promised: &[N],
    mut left: N,
    book: &mut impl Book<N>,
) -> Result<N, Overflow> {
    let mut cut = N::ZERO;
    for (slot, (s, &amount)) in slots.iter().zip(promised).enumerate() {
        if s.breaks() {
            if !amount.is_zero() {
                book.breakage(s.rule(), amount)?;
            }
            continue;
        }
        let kept = if CAPPED {
            let kept = if left < amount { left } else { amount };
            left = left.minus(kept);
            cut = add(cut, amount.minus(kept), Overflow::CapCut)?;
            kept
        } else {
            amount
        };
        if !kept.is_zero() {
            book.line(slot, kept);
        }
    }
    Ok(cut)
}

/// An [`Outcome`]'s lists as a [`Book`].
struct Collect<'a, N> {
    paid: &'a mut Vec<Paid<N>>,
    breakage: &'a mut Vec<(u16, N)>,
}

impl<N: Exact> Book<N> for Collect<'_, N> {
    #[inline(always)]
    fn line(&mut self, slot: usize, kept: N) {
        self.paid.push(Paid { slot, kept });
    }

    #[inline(always)]
    fn breakage(&mut self, rule: u16, amount: N) -> Result<(), Overflow> {
        match self.breakage.last_mut() {
            Some((r, b)) if *r == rule => *b = add(*b, amount, Overflow::Breakage)?,
            _ => self.breakage.push((rule, amount)),
        }
        Ok(())
    }
}

impl<N: Exact> Outcome<N> {
    /// Settle one order with [`order`], keeping what it books. On an error
    /// the outcome is to be discarded.
    #[inline(always)]
    pub(crate) fn order<S: SlotOf>(
        &mut self,
        slots: &[S],
        prices: &impl Prices<S, N = N>,
        cap: Option<N>,
    ) -> Result<(), Overflow> {
        self.paid.clear();
        self.breakage.clear();
        self.cap = cap;
        let mut book = Collect {
            paid: &mut self.paid,
            breakage: &mut self.breakage,
        };
        self.cut = order(slots, prices, cap, &mut self.promised, &mut book)?;
        Ok(())
    }
}

/// An order open to refunds: what it paid, broke and cut, and how much of
/// each its refunds reversed so far (§6.2).
#[derive(Debug, Clone, Default)]
pub(crate) struct Open<N> {
    amount: N,
    /// Per paid slot of the outcome: (kept, reversed).
    lines: Vec<(N, N)>,
    /// Per rule with breakage: (rule, breakage, reversed).
    breakage: Vec<(u16, N, N)>,
    /// (cap cut, reversed).
    cut: (N, N),
}

impl<N: Exact> Open<N> {
    /// Open an order of `amount` that kept `kept` on its paid slots (in
    /// order), broke `breakage` and cut `cut`, nothing reversed yet: what
    /// [`Open::reset`] makes of its outcome.
    pub(crate) fn of_parts(
        amount: N,
        kept: impl Iterator<Item = N>,
        breakage: impl Iterator<Item = (u16, N)>,
        cut: N,
    ) -> Open<N> {
        Open {
            amount,
            lines: kept.map(|k| (k, N::ZERO)).collect(),
            breakage: breakage.map(|(r, b)| (r, b, N::ZERO)).collect(),
            cut: (cut, N::ZERO),
        }
    }

    /// Open the order of `amount` whose outcome is `out`, nothing reversed yet.
    pub(crate) fn reset(&mut self, amount: N, out: &Outcome<N>) {
        self.amount = amount;
        self.lines.clear();
        self.lines
            .extend(out.paid.iter().map(|p| (p.kept, N::ZERO)));
        self.breakage.clear();
        self.breakage
            .extend(out.breakage.iter().map(|&(r, b)| (r, b, N::ZERO)));
        self.cut = (out.cut, N::ZERO);
    }

    /// A refund of `x` (`completes`: the order's last): of every amount `a`
    /// it reverses `round(a × x / o)`, at most what is left of it, or all
    /// that is left when it completes the order. `line(i, reversed)` for
    /// each paid slot `i` (in the outcome's order) and `breakage(rule,
    /// reversed)` for each rule, zeros included; returns what it reverses of
    /// the cap cut.
    pub(crate) fn refund(
        &mut self,
        x: N,
        completes: bool,
        rounding: Rounding,
        mut line: impl FnMut(usize, N),
        mut breakage: impl FnMut(u16, N),
    ) -> Result<N, Overflow> {
        let o = self.amount;
        let reverse = |(a, done): &mut (N, N)| -> Result<N, Overflow> {
            let left = a.minus(*done);
            let rev = if completes {
                left
            } else {
                match N::share(*a, x, o, rounding) {
                    Some(r) if r > left => left,
                    Some(r) => r,
                    None => return Err(Overflow::Share),
                }
            };
            *done = done.checked_add(rev).ok_or(Overflow::Share)?;
            Ok(rev)
        };
        for (i, l) in self.lines.iter_mut().enumerate() {
            line(i, reverse(l)?);
        }
        for (rule, b, done) in &mut self.breakage {
            let mut pair = (*b, *done);
            let rev = reverse(&mut pair)?;
            *done = pair.1;
            breakage(*rule, rev);
        }
        reverse(&mut self.cut)
    }

    /// What is left of each paid slot after the refunds so far, in order.
    pub(crate) fn net_lines(&self) -> impl Iterator<Item = N> + '_ {
        self.lines.iter().map(|(a, done)| a.minus(*done))
    }

    /// What is left of each rule's breakage after the refunds so far.
    pub(crate) fn net_breakage(&self) -> impl Iterator<Item = (u16, N)> + '_ {
        self.breakage
            .iter()
            .map(|(r, b, done)| (*r, b.minus(*done)))
    }

    /// What is left of the cap cut after the refunds so far.
    pub(crate) fn net_cut(&self) -> N {
        self.cut.0.minus(self.cut.1)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{Base, Exact, IntRate, Open, Outcome, Overflow, Prices, SlotOf};
    use crate::money::{div_round, money_string, Rounding, RoundingMode, SHARE_MAX_UNITS};

    #[derive(Debug, Clone, Copy)]
    struct TestSlot {
        breaks: bool,
        rule: u16,
        rate: Decimal,
    }

    impl SlotOf for TestSlot {
        fn breaks(&self) -> bool {
            self.breaks
        }
        fn rule(&self) -> u16 {
            self.rule
        }
    }

    /// Prices by a function of the slot's rate.
    struct ByRate<F>(F);

    impl<N: Exact, F: Fn(Decimal) -> Option<N>> Prices<TestSlot> for ByRate<F> {
        type N = N;
        fn pay(&self, slot: &TestSlot) -> Option<N> {
            (self.0)(slot.rate)
        }
    }

    /// Everything one order and its refunds produced, as money strings.
    #[derive(Debug, PartialEq, Eq)]
    struct Record {
        promised: Vec<String>,
        paid: Vec<(usize, String)>,
        breakage: Vec<(u16, String)>,
        cap: Option<String>,
        cut: String,
        /// Per refund: each line's reversal, each rule's, the cut's.
        refunds: Vec<Reversed>,
    }

    /// What one refund reversed, as money strings.
    type Reversed = (Vec<String>, Vec<(u16, String)>, String);

    /// The kernel run over one representation; `Err` where it declines.
    fn run<N: Exact>(
        slots: &[TestSlot],
        amount: N,
        refunds: &[(N, bool)],
        pay: impl Fn(Decimal) -> Option<N>,
        cap: Option<Decimal>,
        rounding: Rounding,
        show: impl Fn(N) -> String,
    ) -> Result<Record, Overflow> {
        let mut out = Outcome::<N>::default();
        let cap = match cap {
            None => None,
            Some(r) => Some(pay(r).ok_or(Overflow::Product)?),
        };
        out.order(slots, &ByRate(&pay), cap)?;
        let mut open = Open::<N>::default();
        open.reset(amount, &out);
        let mut reversed = Vec::new();
        for &(x, completes) in refunds {
            let (mut lines, mut rules) = (Vec::new(), Vec::new());
            let cut = open.refund(
                x,
                completes,
                rounding,
                |_, r| lines.push(show(r)),
                |rule, r| rules.push((rule, show(r))),
            )?;
            reversed.push((lines, rules, show(cut)));
        }
        Ok(Record {
            promised: out.promised.iter().map(|&v| show(v)).collect(),
            paid: out.paid.iter().map(|p| (p.slot, show(p.kept))).collect(),
            breakage: out.breakage.iter().map(|&(r, b)| (r, show(b))).collect(),
            cap: out.cap.map(&show),
            cut: show(out.cut),
            refunds: reversed,
        })
    }

    fn slots() -> impl Strategy<Value = Vec<TestSlot>> {
        prop::collection::vec((any::<bool>(), 0u16..3, 0i64..=10_000, 0u32..=4), 0..12).prop_map(
            |mut v| {
                // A schedule lists its rules in order.
                v.sort_by_key(|s| s.1);
                v.into_iter()
                    .map(|(breaks, rule, m, scale)| TestSlot {
                        breaks,
                        rule,
                        rate: Decimal::new(m, scale).min(Decimal::ONE),
                    })
                    .collect()
            },
        )
    }

    proptest! {
        /// A rate's integer share, whatever its decimals (the ones divided
        /// by a constant and the others), is the exact product rounded.
        #[test]
        fn an_integer_rate_pays_the_rounded_exact_product(
            m in 0i64..=2_000_000,
            scale in 0u32..=7,
            units in -1_000_000_000i64..=1_000_000_000,
            mode in 0usize..3,
        ) {
            let mode = [RoundingMode::HalfUp, RoundingMode::HalfEven, RoundingMode::Down][mode];
            let rate = IntRate::of(Decimal::new(m, scale)).unwrap();
            let want = div_round(i128::from(units) * i128::from(m), 10i128.pow(scale), mode);
            prop_assert_eq!(rate.pay(units, mode).map(i128::from), Some(want));
        }
    }

    proptest! {
        /// The integer and the Decimal representations of the kernel give
        /// the same amounts to the unit wherever the integer one does not
        /// decline, and it declines only outside its exact domain.
        #[test]
        fn both_representations_give_the_same_money(
            slots in slots(),
            scale in 0u32..=4,
            mode in 0usize..3,
            units in prop_oneof![1i64..=100_000, 1i64..=SHARE_MAX_UNITS * 100, 1i64..=i64::MAX / 4],
            cap in prop::option::of(0i64..=10_000),
            cuts in prop::collection::vec(1u32..=1_000, 0..5),
            last_completes in any::<bool>(),
        ) {
            let mode = [RoundingMode::HalfUp, RoundingMode::HalfEven, RoundingMode::Down][mode];
            let rounding = Rounding { scale, mode };
            let cap = cap.map(|c| Decimal::new(c, 4));
            // Refunds: shares of what is left, the last one completing the
            // order when asked (§6.2 lets refunds add up to the order).
            let mut refunds: Vec<(i64, bool)> = Vec::new();
            let mut left = units;
            // Beyond 10^14 units a share's product a × x can pass the
            // Decimal range (7.9e28), which is an overflow error there: such
            // orders go unrefunded and test the products alone.
            let cuts = if units > 100_000_000_000_000 { Vec::new() } else { cuts };
            for (k, c) in cuts.iter().enumerate() {
                let completes = last_completes && k + 1 == cuts.len();
                let x = if completes { left } else { (left / 1_000 * i64::from(*c)).max(1).min(left) };
                if x <= 0 || left == 0 {
                    break;
                }
                left -= x;
                refunds.push((x, completes || left == 0));
                if left == 0 {
                    break;
                }
            }
            let dec = |u: i64| Decimal::new(u, scale);
            let int = run(
                &slots,
                units,
                &refunds,
                |r| IntRate::of(r).and_then(|r| r.pay(units, mode)),
                cap,
                rounding,
                |v| money_string(dec(v), scale),
            );
            let base = Base::new(dec(units), rounding);
            let exact = run(
                &slots,
                dec(units),
                &refunds.iter().map(|&(x, c)| (dec(x), c)).collect::<Vec<_>>(),
                |r| base.pay(r),
                cap,
                rounding,
                |v| money_string(v, scale),
            );
            let exact = exact.expect("the Decimal representation takes every case here");
            match int {
                Ok(int) => prop_assert_eq!(int, exact),
                Err(e) => {
                    // Only a product out of i64, or a share outside the
                    // domain where both agree (an order above 10^12 units,
                    // or a rule's breakage or the cap cut above the order:
                    // several levels' shares), may be declined.
                    let over = |v: &String| v.parse::<Decimal>().is_ok_and(|v| v > dec(units));
                    let outside = units > SHARE_MAX_UNITS
                        || exact.breakage.iter().any(|(_, b)| over(b))
                        || over(&exact.cut);
                    prop_assert!(outside, "declined {:?} at {} units", e, units);
                }
            }
        }
    }
}
