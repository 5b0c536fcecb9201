//! `differential` (级差, rank differential, §5.2): walking up from the
//! seller, each active member whose rank's rate is above the highest rate
//! paid so far earns the difference, until the top rate of the ladder is paid.

use rust_decimal::Decimal;

use crate::error::{MemberAt, Missing, Must, Result};
use crate::graph::NONE;
use crate::rule::{Field, Names, Said};
use crate::upline::{rank_bit, Links, Upline};

/// The rule's `type`.
pub(crate) const NAME: &str = "differential";
/// Its fields besides `id` and `type`: none, the rates are the ranks'.
pub(crate) const FIELDS: &[Field] = &[];

/// 级差: rank differential (§5.2), on the ranks' rates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Differential {}

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
    pub(crate) fn plan(&self, rank_rates: &[Decimal], links: &mut Links) -> Plan {
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
        let (rank, rate) = names.rank(line.beneficiary)?;
        let over = match line.previous {
            Some(p) => {
                let (prank, prate) = names.rank(p)?;
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
