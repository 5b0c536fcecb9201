//! Distribution measures of a settlement: how evenly the members earn (Gini
//! coefficient, the top 1 % and 10 % shares), what each rank takes, and how
//! much of the money comes from members' own sales rather than their
//! downlines' (团队计酬).

use std::sync::Arc;

use rust_decimal::Decimal;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::error::{Error, Result};
use crate::graph::NONE;
use crate::ids::RankId;
use crate::lines::{Line, MEMBER_CAP};
use crate::money::{Money, Rounding, Short, RATIO_PLACES};
use crate::rank::member_sums;
use crate::settle::Settlement;
use crate::state::State;

/// Distribution measures of one settlement, from [`crate::Engine::stats`].
///
/// Every measure is over all the batch's members, those who earned nothing
/// included. Ratios are rounded to 4 places with the policy's rounding
/// mode; `None` where the divisor is zero.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Members of the batch.
    pub members: usize,
    /// Members whose total is above zero.
    pub earners: usize,
    /// Gini coefficient of the members' totals: 0 when all earn the same,
    /// near 1 when one member takes everything; `None` when nothing is paid.
    pub gini: Option<Decimal>,
    /// Share of the total paid that the top 1 % of members take (the
    /// ⌈members / 100⌉ largest totals).
    pub top_1_percent_share: Option<Decimal>,
    /// Share of the total paid that the top 10 % of members take (the
    /// ⌈members / 10⌉ largest totals).
    pub top_10_percent_share: Option<Decimal>,
    /// Each rank of the ladder, lowest first.
    pub by_rank: Vec<RankStats>,
    /// Where the money comes from.
    pub sources: Sources,
    pub(crate) scale: u32,
}

/// What the members of one rank (after evaluation) earn together.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RankStats {
    /// The rank.
    pub rank: RankId,
    /// Members holding it.
    pub members: usize,
    /// Their totals summed.
    pub total: Decimal,
    /// `total / members`, rounded as the policy rounds money.
    pub mean: Option<Decimal>,
    /// The middle total (the mean of the two middle ones for an even count,
    /// rounded as the policy rounds money).
    pub median: Option<Decimal>,
    /// `total` over the total paid.
    pub share: Option<Decimal>,
    /// `total` over the batch's net sales.
    pub payout_ratio: Option<Decimal>,
}

/// The total paid by where each line's money comes from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Sources {
    /// Order lines (and their reversals) paid to the order's seller (level
    /// 0): earnings on the member's own sales.
    pub own: Decimal,
    /// Order lines paid to a member above the seller (level ≥ 1): earnings
    /// on the downline's sales (团队计酬).
    pub team: Decimal,
    /// Pool lines (分红池).
    pub pool: Decimal,
    /// Member-cap lines (§12.3), zero or negative.
    pub member_cap: Decimal,
    /// `own` over `own + team + pool`.
    pub own_share: Option<Decimal>,
    /// `team` over `own + team + pool`.
    pub team_share: Option<Decimal>,
    /// `pool` over `own + team + pool`.
    pub pool_share: Option<Decimal>,
}

fn overflow(what: &str) -> Error {
    Error::Overflow {
        path: "stats".into(),
        detail: what.to_owned(),
    }
}

fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(|| overflow(what))
}

fn sum<'a>(xs: impl IntoIterator<Item = &'a Decimal>, what: &str) -> Result<Decimal> {
    xs.into_iter()
        .try_fold(Decimal::ZERO, |acc, x| add(acc, *x, what))
}

fn count(n: usize) -> Result<Decimal> {
    u64::try_from(n)
        .map(Decimal::from)
        .map_err(|_| overflow("member count"))
}

/// Refuse a settlement that another engine (another batch) made.
pub(crate) fn check_same(state: &State, s: &Settlement) -> Result<()> {
    if Arc::ptr_eq(&s.names.members, &state.batch.ids) {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            path: "settlement".into(),
            detail: "the settlement was made by another engine; measure a settlement with the engine that settled it".into(),
        })
    }
}

/// Every member's total, by member index (zero for those without a line).
pub(crate) fn totals_by_member(state: &State, s: &Settlement) -> Vec<Decimal> {
    let mut total = vec![Decimal::ZERO; state.batch.ids.len()];
    for &(m, t) in &s.totals {
        if let Some(x) = total.get_mut(m as usize) {
            *x = t;
        }
    }
    total
}

/// Each member's own net sales (§3 `sales`), by member index.
pub(crate) fn own_sales(state: &State) -> Result<Vec<Decimal>> {
    let sales = &state.ranking.metrics.sales;
    if sales.len() == state.batch.ids.len() {
        Ok(sales.clone())
    } else {
        member_sums(&state.batch).map(|(sales, _, _)| sales)
    }
}

/// The measures of `s`, which `state` settled.
pub(crate) fn stats(state: &State, s: &Settlement) -> Result<Stats> {
    earnings(state, s)?.stats()
}

/// The measures of the rows of `e`.
fn measure(e: &Earnings<'_>) -> Result<Stats> {
    let state = e.state;
    let rounding = state.policy.rounding();
    let scale = rounding.scale;
    let total = &e.total;
    let n = total.len();
    let paid = e.total_paid;

    let mut sorted = total.clone();
    sorted.sort_unstable();
    let gini = if n == 0 || paid <= Decimal::ZERO {
        None
    } else {
        // G = (2 Σ i·x_(i) − (n + 1) S) / (n S), totals ascending, i from 1.
        let mut weighted = Decimal::ZERO;
        for (i, x) in sorted.iter().enumerate() {
            let term = count(i + 1)?
                .checked_mul(*x)
                .ok_or_else(|| overflow("Gini sum"))?;
            weighted = add(weighted, term, "Gini sum")?;
        }
        let n_dec = count(n)?;
        let num = weighted
            .checked_mul(Decimal::TWO)
            .and_then(|w| w.checked_sub((n_dec + Decimal::ONE).checked_mul(paid)?))
            .ok_or_else(|| overflow("Gini sum"))?;
        let den = n_dec
            .checked_mul(paid)
            .ok_or_else(|| overflow("Gini sum"))?;
        rounding.ratio(num, den)
    };
    let top_share = |per_hundred: usize| -> Result<Option<Decimal>> {
        if n == 0 || paid <= Decimal::ZERO {
            return Ok(None);
        }
        let k = n.div_ceil(100 / per_hundred);
        let top = sum(sorted.iter().rev().take(k), "top share")?;
        Ok(rounding.ratio(top, paid))
    };

    let ranks = state.policy.ranks();
    let mut of_rank: Vec<Vec<Decimal>> = vec![Vec::new(); ranks.len()];
    for (m, t) in total.iter().enumerate() {
        let r = state.ranking.rank.get(m).copied().unwrap_or_default();
        if let Some(list) = of_rank.get_mut(usize::from(r)) {
            list.push(*t);
        }
    }
    let mut by_rank = Vec::with_capacity(ranks.len());
    for (rank, mut list) in ranks.iter().zip(of_rank) {
        let rank_total = sum(&list, "rank total")?;
        let k = list.len();
        let mean = if k == 0 {
            None
        } else {
            rank_total.checked_div(count(k)?).map(|m| rounding.round(m))
        };
        list.sort_unstable();
        let median = match (list.get(k / 2), k % 2) {
            (None, _) => None,
            (Some(mid), 1) => Some(*mid),
            (Some(hi), _) => {
                let lo = list.get(k / 2 - 1).copied().unwrap_or(*hi);
                Some(rounding.round(add(lo, *hi, "median")? / Decimal::TWO))
            }
        };
        by_rank.push(RankStats {
            rank: rank.id.clone(),
            members: k,
            total: rank_total,
            mean,
            median,
            share: rounding.ratio(rank_total, paid),
            payout_ratio: rounding.ratio(rank_total, e.net_sales),
        });
    }

    let sources = sources(rounding, e)?;
    Ok(Stats {
        members: n,
        earners: total.iter().filter(|t| **t > Decimal::ZERO).count(),
        gini,
        top_1_percent_share: top_share(1)?,
        top_10_percent_share: top_share(10)?,
        by_rank,
        sources,
        scale,
    })
}

/// What each member earns, by source, and its own sales: one row per
/// member of the batch (those who earned nothing included), in input order.
/// From [`crate::Engine::earnings`].
#[derive(Debug, Clone)]
pub struct Earnings<'e> {
    state: &'e State,
    /// Net amount per member (the settlement's totals).
    total: Vec<Decimal>,
    /// `[own, team, pool, member_cap]` per member.
    by_source: Vec<[Decimal; 4]>,
    /// Net sales per member (§3 `sales`).
    sales: Vec<Decimal>,
    /// The settlement's total paid and the batch's net sales.
    total_paid: Decimal,
    net_sales: Decimal,
}

/// One member's row of [`Earnings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberEarnings<'e> {
    /// The member.
    pub member: &'e str,
    /// Its rank after evaluation.
    pub rank: &'e str,
    /// Its net amount (its total; zero without a line).
    pub total: Decimal,
    /// Of which order lines on its own sales (level 0).
    pub own: Decimal,
    /// Of which order lines on its downline's sales (level ≥ 1, 团队计酬).
    pub team: Decimal,
    /// Of which pool lines.
    pub pool: Decimal,
    /// Of which its member-cap line (zero or negative).
    pub member_cap: Decimal,
    /// Its own net sales (§3 `sales`).
    pub own_sales: Decimal,
}

impl<'e> Earnings<'e> {
    /// Every member's row, in the batch's input order.
    pub fn iter(&self) -> impl Iterator<Item = MemberEarnings<'e>> + '_ {
        let state = self.state;
        self.total.iter().enumerate().map(move |(m, total)| {
            let i = crate::ids::idx32(m);
            let [own, team, pool, member_cap] = self.by_source.get(m).copied().unwrap_or_default();
            MemberEarnings {
                member: state.batch.ids.get(i),
                rank: state.rank_id(m),
                total: *total,
                own,
                team,
                pool,
                member_cap,
                own_sales: self.sales.get(m).copied().unwrap_or_default(),
            }
        })
    }

    /// Number of rows (the batch's members).
    pub fn len(&self) -> usize {
        self.total.len()
    }

    /// Whether the batch has no member.
    pub fn is_empty(&self) -> bool {
        self.total.is_empty()
    }

    /// The money scale of the policy.
    pub fn scale(&self) -> u32 {
        self.state.policy.rounding().scale
    }

    /// The distribution measures of these rows ([`crate::Engine::stats`]).
    pub fn stats(&self) -> Result<Stats> {
        measure(self)
    }

    /// The Lorenz curve of the members' totals at `points` + 1 points:
    /// for `k` in `0..=points`, the share of members `i / n` (the `i =
    /// round(k · n / points)` lowest earners) and the share of the total
    /// paid they take, both at 4 places. The Gini coefficient is twice the
    /// area between it and the diagonal. Empty when nothing is paid.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}],
    ///   "rules": [{"id": "l", "type": "levels", "rates": ["0.10"]}]}"#)?;
    /// let batch = fenrun::Batch::from_json(r#"{"members": [{"id": "a"}, {"id": "b"}],
    ///   "events": [{"id": "o1", "seller": "b", "amount": "100.00"}]}"#, &policy)?;
    /// let engine = fenrun::Engine::new(&policy, batch)?;
    /// let curve = engine.earnings(&engine.settle()?)?.lorenz(2)?;
    /// let text: Vec<_> = curve.iter().map(|(x, y)| format!("{x} {y}")).collect();
    /// assert_eq!(text, ["0 0", "0.5 0", "1 1"]);
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn lorenz(&self, points: usize) -> Result<Vec<(Decimal, Decimal)>> {
        let n = self.total.len();
        if n == 0 || points == 0 || self.total_paid <= Decimal::ZERO {
            return Ok(Vec::new());
        }
        let rounding = self.state.policy.rounding();
        let mut sorted = self.total.clone();
        sorted.sort_unstable();
        let n_dec = count(n)?;
        let mut out = Vec::with_capacity(points + 1);
        let (mut taken, mut cum) = (0usize, Decimal::ZERO);
        for k in 0..=points {
            // round(k · n / points) members, in integers.
            let wide = |x: usize| u128::try_from(x).unwrap_or(u128::MAX);
            let i = (wide(k) * wide(n) + wide(points) / 2) / wide(points);
            let i = usize::try_from(i).unwrap_or(n).min(n);
            for x in sorted.get(taken..i).unwrap_or_default() {
                cum = add(cum, *x, "Lorenz curve")?;
            }
            taken = i.max(taken);
            let share_of_members = count(i)?.checked_div(n_dec).unwrap_or_default();
            out.push((
                rounding
                    .round_to(share_of_members, RATIO_PLACES)
                    .normalize(),
                rounding
                    .ratio(cum, self.total_paid)
                    .unwrap_or_default()
                    .normalize(),
            ));
        }
        Ok(out)
    }
}

/// Each member's earnings by source, from the settlement's lines or, when
/// it kept none (a streamed or totals-only settlement that paid something),
/// from the lines of the batch settled again without keeping them.
pub(crate) fn earnings<'e>(state: &'e State, s: &Settlement) -> Result<Earnings<'e>> {
    check_same(state, s)?;
    let n = state.batch.ids.len();
    let scale = state.policy.rounding().scale;
    let zero = Decimal::new(0, scale);
    let mut by_source = vec![[zero; 4]; n];
    let mut failed = false;
    let mut book = |l: &Line| {
        let k = if l.rule == MEMBER_CAP {
            3
        } else if l.order == NONE {
            2
        } else if l.level == 0 {
            0
        } else {
            1
        };
        let slot = by_source
            .get_mut(l.beneficiary as usize)
            .and_then(|row| row.get_mut(k));
        let amount = Decimal::try_from_i128_with_scale(l.amount, scale).ok();
        match slot.and_then(|x| x.checked_add(amount?).map(|y| (x, y))) {
            Some((x, y)) => *x = y,
            None => failed = true,
        }
    };
    if s.lines.is_empty() && !s.total_paid.is_zero() {
        state.each_line(&mut book)?;
    } else {
        s.lines.iter().for_each(|l| book(&l));
    }
    if failed {
        return Err(overflow("earnings by source"));
    }
    Ok(Earnings {
        state,
        total: totals_by_member(state, s),
        by_source,
        sales: own_sales(state)?,
        total_paid: s.total_paid,
        net_sales: s.net_sales,
    })
}

/// The total paid by source, and each source's share of what was earned
/// before member caps.
fn sources(rounding: Rounding, e: &Earnings<'_>) -> Result<Sources> {
    let mut by = [Decimal::ZERO; 4];
    for row in &e.by_source {
        for (acc, x) in by.iter_mut().zip(row) {
            *acc = add(*acc, *x, "sources")?;
        }
    }
    let [own, team, pool, member_cap] = by;
    let earned = add(add(own, team, "sources")?, pool, "sources")?;
    Ok(Sources {
        own,
        team,
        pool,
        member_cap,
        own_share: rounding.ratio(own, earned),
        team_share: rounding.ratio(team, earned),
        pool_share: rounding.ratio(pool, earned),
    })
}

impl Stats {
    /// The measures as their JSON document (the `stats` of `fenrun settle
    /// --stats`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Stats {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Stats", 7)?;
        st.serialize_field("members", &self.members)?;
        st.serialize_field("earners", &self.earners)?;
        st.serialize_field("gini", &self.gini.map(Short))?;
        st.serialize_field("top_1_percent_share", &self.top_1_percent_share.map(Short))?;
        st.serialize_field(
            "top_10_percent_share",
            &self.top_10_percent_share.map(Short),
        )?;
        let ranks: Vec<RankOut<'_>> = self
            .by_rank
            .iter()
            .map(|r| RankOut(r, self.scale))
            .collect();
        st.serialize_field("by_rank", &ranks)?;
        st.serialize_field("sources", &SourcesOut(&self.sources, self.scale))?;
        st.end()
    }
}

struct RankOut<'a>(&'a RankStats, u32);

impl Serialize for RankOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (r, scale) = (self.0, self.1);
        let mut st = s.serialize_struct("RankStats", 7)?;
        st.serialize_field("rank", &r.rank)?;
        st.serialize_field("members", &r.members)?;
        st.serialize_field("total", &Money(r.total, scale))?;
        st.serialize_field("mean", &r.mean.map(|m| Money(m, scale)))?;
        st.serialize_field("median", &r.median.map(|m| Money(m, scale)))?;
        st.serialize_field("share", &r.share.map(Short))?;
        st.serialize_field("payout_ratio", &r.payout_ratio.map(Short))?;
        st.end()
    }
}

struct SourcesOut<'a>(&'a Sources, u32);

impl Serialize for SourcesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (x, scale) = (self.0, self.1);
        let mut st = s.serialize_struct("Sources", 7)?;
        st.serialize_field("own", &Money(x.own, scale))?;
        st.serialize_field("team", &Money(x.team, scale))?;
        st.serialize_field("pool", &Money(x.pool, scale))?;
        st.serialize_field("member_cap", &Money(x.member_cap, scale))?;
        st.serialize_field("own_share", &x.own_share.map(Short))?;
        st.serialize_field("team_share", &x.team_share.map(Short))?;
        st.serialize_field("pool_share", &x.pool_share.map(Short))?;
        st.end()
    }
}
