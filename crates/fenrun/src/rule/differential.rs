//! `differential` (级差, rank differential, §5.2): walking up from the
//! seller, each active member whose rank's rate is above the highest rate
//! paid so far earns the difference, until the top rate of the ladder is paid.

use rust_decimal::Decimal;

use crate::check::Cx;
use crate::check::{check_rate, rank_ref};
use crate::error::{Error, MemberAt, Missing, Must, Result};
use crate::graph::NONE;
use crate::money::short_string;
use crate::rule::{ByCategory, Field, Names, On, Price, RuleDoc, Said, Value};
use crate::upline::{rank_bit, Links, Upline};

/// The rule's `type`.
pub(crate) const NAME: &str = "differential";
/// Its fields besides `id` and `type`: the rates are the ranks', or a
/// category's own (`rank_rates`).
pub(crate) const FIELDS: &[Field] = &[Field::optional(
    "by_category",
    Value::ByCategory(&Field::required("rank_rates", Value::RankRates)),
)];

/// 级差: rank differential (§5.2), on the ranks' rates.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Differential {
    /// Each rank's rate (lowest first) for orders of a category (§12.1).
    pub by_category: ByCategory<Vec<Decimal>>,
}

/// `differential` prepared for a tree.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The ranks' rates, lowest rank first.
    rates: Vec<Decimal>,
    /// Distinct thresholds `paid` can take, ascending.
    thresholds: Vec<Decimal>,
    /// `next[t]`: the [`Upline`] link to the nearest active proper ancestor
    /// with rate > `thresholds[t]` (`None` at the top).
    next: Vec<Option<usize>>,
    top: Decimal,
}

impl Differential {
    pub(crate) fn compile(r: &RuleDoc, path: &str, cx: &Cx<'_>) -> Result<Differential> {
        let by_category = ByCategory::compile(r, path, cx, |doc, at| {
            doc.only("rank_rates", at)?;
            let given = doc.rank_rates.as_ref();
            let given = given.ok_or_else(|| Error::missing(at, "rank_rates"))?;
            let at = format!("{at}.rank_rates");
            for id in given.keys() {
                rank_ref(id, &format!("{at}.{id}"), cx.ranks)?;
            }
            let mut rates = Vec::with_capacity(cx.ladder.len());
            for id in cx.ladder {
                let Some(d) = given.get(id) else {
                    return Err(Error::InvalidRule {
                        path: at.clone(),
                        detail: format!(
                            "rank_rates names every rank of the ladder; \"{id}\" is missing"
                        ),
                    });
                };
                let rate = check_rate(*d, &format!("{at}.{id}"))?;
                if let Some(&below) = rates.last() {
                    if rate < below {
                        return Err(Error::DecreasingRate {
                            path: format!("{at}.{id}"),
                            rank: id.to_string(),
                            rate: short_string(rate),
                            below_rate: short_string(below),
                        });
                    }
                }
                rates.push(rate);
            }
            Ok(rates)
        })?;
        Ok(Differential { by_category })
    }

    /// The rates of every category override (for the columnar writer's
    /// rate scale: a line's rate is a difference of two of them).
    pub(crate) fn rates(&self) -> Vec<Decimal> {
        self.by_category
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .collect()
    }

    /// The plans for the ranks' own rates, then one per category override.
    pub(crate) fn plan(&self, rank_rates: &[Decimal], links: &mut Links) -> Vec<Plan> {
        std::iter::once(rank_rates)
            .chain(self.by_category.iter().map(|(_, v)| v.as_slice()))
            .map(|rates| Differential::plan_for(rates, links))
            .collect()
    }

    /// The rates of a category's orders: its override's, else the ranks'.
    fn plan_index(&self, c: u16) -> usize {
        self.by_category.position(c).map_or(0, |i| i + 1)
    }

    /// The plan for an order of category `c`, walked from `seller`.
    #[inline]
    pub(crate) fn schedule(
        &self,
        plans: &[Plan],
        on: &On<'_>,
        seller: u32,
        slot: &mut impl FnMut(u32, u32, Price),
    ) -> Result<(), Missing> {
        let plan = plans.get(self.plan_index(on.category));
        let plan = plan.must(MemberAt(seller), "differential plan")?;
        plan.schedule(on.up, seller, &mut |m, level, rate| {
            slot(m, level, Price::Rate(rate));
        })
    }

    /// The rate of rank `r` for orders of category `c`, if overridden.
    pub(crate) fn rank_rate_for(&self, c: u16, r: crate::ids::RankIdx) -> Option<Decimal> {
        self.by_category
            .get(c)
            .and_then(|v| v.get(usize::from(r)).copied())
    }

    fn plan_for(rank_rates: &[Decimal], links: &mut Links) -> Plan {
        let mut thresholds: Vec<Decimal> = std::iter::once(Decimal::ZERO)
            .chain(rank_rates.iter().copied())
            .collect();
        thresholds.sort();
        thresholds.dedup();
        let top = thresholds.last().copied().unwrap_or_default();
        let next = thresholds
            .iter()
            .map(|&t| {
                let above = rank_rates
                    .iter()
                    .enumerate()
                    .filter(|(_, &r)| r > t)
                    .fold(0, |m, (i, _)| m | rank_bit(i));
                (t < top).then(|| links.column(above))
            })
            .collect();
        Plan {
            rates: rank_rates.to_vec(),
            thresholds,
            next,
            top,
        }
    }

    pub(crate) fn describe(&self, line: &Said, names: &dyn Names) -> Result<String> {
        let rank_of = |m: u32| -> Result<(String, Decimal)> {
            let (id, idx, rate) = names.rank(m)?;
            Ok((id, self.rank_rate_for(line.category, idx).unwrap_or(rate)))
        };
        let (rank, rate) = rank_of(line.beneficiary)?;
        let over = match line.previous {
            Some(p) => {
                let (prank, prate) = rank_of(p)?;
                format!(
                    " over {} ({prank}, {})",
                    names.id(p),
                    crate::money::short_string(prate)
                )
            }
            None => ", first paid in the chain".to_owned(),
        };
        Ok(format!(
            "{} ({rank}, rate {}){over}",
            names.id(line.beneficiary),
            crate::money::short_string(rate)
        ))
    }
}

impl Plan {
    /// Member `m`'s rank's rate.
    fn rate(&self, up: &Upline, m: u32) -> Result<Decimal, Missing> {
        self.rates
            .get(usize::from(up.rank(m)))
            .copied()
            .must(MemberAt(m), "rank rate")
    }

    /// The seller first if active, then each nearest ancestor above the
    /// rate paid so far, paid the difference, at its distance from the seller.
    #[inline]
    pub(crate) fn schedule(
        &self,
        up: &Upline,
        seller: u32,
        slot: &mut impl FnMut(u32, u32, Decimal),
    ) -> Result<(), Missing> {
        let depth0 = up.depth(seller);
        let mut paid = Decimal::ZERO;
        let mut cur = seller;
        let seller_rate = self.rate(up, seller)?;
        if up.active(seller) && seller_rate > paid {
            slot(seller, 0, seller_rate);
            paid = seller_rate;
        }
        while paid < self.top {
            // `paid` is 0 or a rank's rate: one of the thresholds.
            let t = self.thresholds.iter().position(|x| *x == paid);
            let path = || MemberAt(seller);
            let t = t.must(path(), "differential threshold")?;
            let Some(c) = *self.next.get(t).must(path(), "differential link")? else {
                break;
            };
            let a = up.link(cur, c);
            if a == NONE {
                break;
            }
            let r = self.rate(up, a)?;
            let level = depth0.saturating_sub(up.depth(a));
            slot(a, level, r - paid);
            paid = r;
            cur = a;
        }
        Ok(())
    }
}
