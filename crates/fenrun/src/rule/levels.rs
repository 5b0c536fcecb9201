//! `levels` (多级分销, multi-tier commission, §5.1): a rate per level up the
//! sponsor chain, level 0 the seller; an ineligible member's share breaks,
//! or with `compress` the level goes to the next eligible ancestor.

use crate::check::Cx;
use crate::error::{Error, Missing, Result};
use crate::graph::NONE;
use crate::ids::RankIdx;
use crate::limits;
use crate::rule::rate::RateDoc;
use crate::rule::{rate_list, ByCategory, Field, Names, On, Price, RateSpec, RuleDoc, Said, Value};
use crate::upline::{at_least, Links};

/// The rule's `type`.
pub(crate) const NAME: &str = "levels";
/// Its fields besides `id` and `type`.
pub(crate) const FIELDS: &[Field] = &[
    Field::required("rates", Value::OrderRates),
    Field::optional("min_rank", Value::Rank),
    Field::optional("compress", Value::Flag),
    Field::optional(
        "by_category",
        Value::ByCategory(&Field::required("rates", Value::OrderRates)),
    ),
];

/// 多级分销: multi-tier commission (§5.1).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Levels {
    /// Rate per level, `rates[0]` = the seller.
    pub rates: Vec<RateSpec>,
    /// Eligibility rank.
    pub(crate) min_rank: Option<RankIdx>,
    /// Skip ineligible uplines.
    pub compress: bool,
    /// Rates per level for orders of a category (§12.1).
    pub by_category: ByCategory<Vec<RateSpec>>,
}

/// `levels` prepared for a tree.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The [`Upline`] link to the nearest eligible proper ancestor (only
    /// with `compress`).
    next_eligible: Option<usize>,
}

impl Levels {
    pub(crate) fn compile(
        r: &RuleDoc,
        path: &str,
        min_rank: Option<RankIdx>,
        cx: &Cx<'_>,
    ) -> Result<Levels> {
        let Some(list) = &r.rates else {
            return Err(Error::MissingField {
                path: path.to_owned(),
                field: "rates".into(),
            });
        };
        let rates = Levels::compile_rates(list, &format!("{path}.rates"), cx, false)?;
        let by_category = ByCategory::compile(r, path, cx, |doc, at| {
            doc.only("rates", at)?;
            let list = doc.rates.as_deref().unwrap_or_default();
            Levels::compile_rates(list, &format!("{at}.rates"), cx, true)
        })?;
        Ok(Levels {
            rates,
            min_rank,
            compress: r.compress.unwrap_or(false),
            by_category,
        })
    }

    /// A list of rates at `path`, non-empty unless `may_be_empty` (a
    /// category's list may have any length, §12.1).
    fn compile_rates(
        list: &[RateDoc],
        path: &str,
        cx: &Cx<'_>,
        may_be_empty: bool,
    ) -> Result<Vec<RateSpec>> {
        if list.is_empty() && !may_be_empty {
            return Err(Error::InvalidRule {
                path: path.to_owned(),
                detail: "levels needs at least one rate".into(),
            });
        }
        limits::check_count(path, list.len(), limits::MAX_LEVELS, "levels")?;
        rate_list(list, path, cx)
    }

    /// Every rate spec of the rule, its own and its categories'.
    pub(crate) fn specs(&self) -> impl Iterator<Item = &RateSpec> {
        self.rates
            .iter()
            .chain(self.by_category.iter().flat_map(|(_, v)| v.iter()))
    }

    /// The rates that apply to an order of category `c`.
    pub(crate) fn rates_for(&self, c: u16) -> &[RateSpec] {
        self.by_category.get(c).unwrap_or(&self.rates)
    }

    pub(crate) fn plan(&self, ranks: usize, links: &mut Links) -> Plan {
        Plan {
            next_eligible: self
                .compress
                .then(|| links.column(at_least(self.min_rank.unwrap_or(0), ranks))),
        }
    }

    /// One slot per level: the member at that level if eligible, else
    /// breakage; a level past the end of the chain breaks too (§5.1). Each
    /// slot's price is taken for the member in it (§12.2), a share with no
    /// member at metric value 0.
    #[inline]
    pub(crate) fn schedule(
        &self,
        plan: &Plan,
        on: &On<'_>,
        seller: u32,
        slot: &mut impl FnMut(u32, u32, Price),
    ) -> Result<(), Missing> {
        let up = on.up;
        // Without `min_rank` every rank is eligible: at least the lowest.
        let min = self.min_rank.unwrap_or(0);
        let eligible = |m: u32| up.active(m) && up.rank(m) >= min;
        let mut cur = seller;
        let mut ended = false;
        for (level, rate) in (0u32..).zip(self.rates_for(on.category)) {
            let at = if ended {
                None
            } else if level == 0 {
                Some(seller)
            } else if let Some(c) = plan.next_eligible {
                Some(up.link(cur, c)).filter(|&m| m != NONE)
            } else {
                up.parent(cur)
            };
            let price = rate.price(at, on.values)?;
            match at {
                Some(m) if eligible(m) => slot(m, level, price),
                _ => slot(NONE, level, price),
            }
            match at {
                Some(m) => cur = m,
                None => ended = true,
            }
        }
        Ok(())
    }

    pub(crate) fn describe(&self, line: &Said, names: &dyn Names) -> Result<String> {
        Ok(if line.level == 0 {
            format!("level 0, the seller {}", names.who(line.beneficiary)?)
        } else {
            format!(
                "level {}, {} above seller {}",
                line.level,
                names.who(line.beneficiary)?,
                names.id(line.seller)
            )
        })
    }
}
