//! `levels` (多级分销, multi-tier commission, §5.1): a rate per level up the
//! sponsor chain, level 0 the seller; an ineligible member's share breaks,
//! or with `compress` the level goes to the next eligible ancestor, or with
//! `on_ineligible: "stop"` (§12.5) it and every later level break.

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
    Field::optional("on_ineligible", Value::Choice(Ineligible::NAMES)),
    Field::optional(
        "by_category",
        Value::ByCategory(&Field::required("rates", Value::OrderRates)),
    ),
];

/// What `levels` does at an ineligible member (§5.1, §12.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ineligible {
    /// Its share is breakage and the next level goes on (the default).
    Break,
    /// The level goes to the next eligible ancestor (`compress: true`).
    Skip,
    /// Its share and every later level's are breakage (yudao, crmeb_java).
    Stop,
}

impl Ineligible {
    /// Every `on_ineligible` as written, the default first.
    pub(crate) const NAMES: &'static [&'static str] = &["break", "skip", "stop"];
    const ALL: [Ineligible; 3] = [Ineligible::Break, Ineligible::Skip, Ineligible::Stop];

    /// As written.
    pub fn name(self) -> &'static str {
        match self {
            Ineligible::Break => "break",
            Ineligible::Skip => "skip",
            Ineligible::Stop => "stop",
        }
    }
}

/// 多级分销: multi-tier commission (§5.1).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Levels {
    /// Rate per level, `rates[0]` = the seller.
    pub rates: Vec<RateSpec>,
    /// Eligibility rank.
    pub(crate) min_rank: Option<RankIdx>,
    /// What an ineligible member does to its level and the later ones.
    pub on_ineligible: Ineligible,
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
        let on_ineligible = match (&r.on_ineligible, r.compress) {
            (None, compress) => {
                if compress == Some(true) {
                    Ineligible::Skip
                } else {
                    Ineligible::Break
                }
            }
            (Some(_), Some(_)) => {
                return Err(Error::InvalidRule {
                    path: format!("{path}.on_ineligible"),
                    detail: "give on_ineligible or compress, not both (compress: true is on_ineligible: \"skip\")".into(),
                })
            }
            (Some(name), None) => {
                let at = format!("{path}.on_ineligible");
                cx.v2(&at, "on_ineligible")?;
                Ineligible::ALL
                    .into_iter()
                    .find(|i| i.name() == name)
                    .ok_or_else(|| Error::InvalidValue {
                        path: at,
                        detail: format!(
                            "unknown on_ineligible \"{name}\"; expected {}",
                            Ineligible::NAMES.join(", ")
                        ),
                    })?
            }
        };
        Ok(Levels {
            rates,
            min_rank,
            on_ineligible,
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

    /// Whether an ineligible member's level goes to the next eligible
    /// ancestor (`compress`, `on_ineligible: "skip"`).
    pub fn compress(&self) -> bool {
        self.on_ineligible == Ineligible::Skip
    }

    pub(crate) fn plan(&self, ranks: usize, links: &mut Links) -> Plan {
        Plan {
            next_eligible: self
                .compress()
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
        let stop = self.on_ineligible == Ineligible::Stop;
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
                // With `stop` the chain ends at an ineligible member: every
                // later level breaks, priced as a share with no member.
                Some(m) if stop && !eligible(m) => ended = true,
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
