//! `levels` (多级分销, multi-tier commission, §5.1): a rate per level up the
//! sponsor chain, level 0 the seller; an ineligible member's share breaks,
//! or with `compress` the level goes to the next eligible ancestor.

use rust_decimal::Decimal;

use crate::check::check_rate;
use crate::error::{Error, Missing, Result};
use crate::graph::NONE;
use crate::ids::RankIdx;
use crate::limits;
use crate::rule::{Field, Names, RuleDoc, Said, Value};
use crate::upline::{at_least, Links, Upline};

/// The rule's `type`.
pub(crate) const NAME: &str = "levels";
/// Its fields besides `id` and `type`.
pub(crate) const FIELDS: &[Field] = &[
    Field::required("rates", Value::Rates),
    Field::optional("min_rank", Value::Rank),
    Field::optional("compress", Value::Flag),
];

/// 多级分销: multi-tier commission (§5.1).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Levels {
    /// Rate per level, `rates[0]` = the seller.
    pub rates: Vec<Decimal>,
    /// Eligibility rank.
    pub(crate) min_rank: Option<RankIdx>,
    /// Skip ineligible uplines.
    pub compress: bool,
}

/// `levels` prepared for a tree.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The [`Upline`] link to the nearest eligible proper ancestor (only
    /// with `compress`).
    next_eligible: Option<usize>,
}

impl Levels {
    pub(crate) fn compile(r: &RuleDoc, path: &str, min_rank: Option<RankIdx>) -> Result<Levels> {
        let Some(list) = &r.rates else {
            return Err(Error::MissingField {
                path: path.to_owned(),
                field: "rates".into(),
            });
        };
        if list.is_empty() {
            return Err(Error::InvalidRule {
                path: format!("{path}.rates"),
                detail: "levels needs at least one rate".into(),
            });
        }
        limits::check_count(
            &format!("{path}.rates"),
            list.len(),
            limits::MAX_LEVELS,
            "levels",
        )?;
        let rates = list
            .iter()
            .enumerate()
            .map(|(j, d)| check_rate(*d, &format!("{path}.rates[{j}]")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Levels {
            rates,
            min_rank,
            compress: r.compress.unwrap_or(false),
        })
    }

    pub(crate) fn plan(&self, ranks: usize, links: &mut Links) -> Plan {
        Plan {
            next_eligible: self
                .compress
                .then(|| links.column(at_least(self.min_rank.unwrap_or(0), ranks))),
        }
    }

    /// One slot per level: the member at that level if eligible, else
    /// breakage; a level past the end of the chain breaks too (§5.1).
    #[inline]
    pub(crate) fn schedule(
        &self,
        plan: &Plan,
        up: &Upline,
        seller: u32,
        slot: &mut impl FnMut(u32, u32, Decimal),
    ) -> Result<(), Missing> {
        // Without `min_rank` every rank is eligible: at least the lowest.
        let min = self.min_rank.unwrap_or(0);
        let eligible = |m: u32| up.active(m) && up.rank(m) >= min;
        let mut cur = seller;
        let mut ended = false;
        for (level, rate) in (0u32..).zip(&self.rates) {
            let at = if ended {
                None
            } else if level == 0 {
                Some(seller)
            } else if let Some(c) = plan.next_eligible {
                Some(up.link(cur, c)).filter(|&m| m != NONE)
            } else {
                up.parent(cur)
            };
            match at {
                Some(m) if eligible(m) => slot(m, level, *rate),
                _ => slot(NONE, level, *rate),
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
