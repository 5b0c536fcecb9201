//! The rules (§5, §6.1): one module per kind, each owning its fields, their
//! validation, what it pays and how its lines read in words; this file is
//! the one place that dispatches on the kind.
//!
//! Adding a kind: a module beside the others with the same parts (its
//! `FIELDS`, `compile`, `plan` and `schedule` for an order rule or the pool's
//! payout, `describe`), a variant of [`RuleKind`] and of [`Plan`], its
//! fields in [`RuleDoc`] if new, and an arm in each `match` below. Adding an
//! option to a kind: its field in [`RuleDoc`] and its own module.

pub mod differential;
pub mod levels;
pub mod peer;
pub mod pool;

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::check::{check_rate, rank_ref};
use crate::condition::Metric;
use crate::error::{Error, Missing, Must, Result};
use crate::ids::{RankId, RankIdx, RuleId};
use crate::money::Dec;
use crate::upline::{Links, Upline};

pub use differential::Differential;
pub use levels::Levels;
pub use peer::{Peer, PeerMatch};
pub use pool::{Pool, Split};

/// A rule as written: the fields of every kind side by side in one record,
/// so that serde finds every type error while parsing and a field of another
/// kind is refused by [`compile`] naming the rule and the field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDoc {
    pub id: RuleId,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub rates: Option<Vec<Dec>>,
    #[serde(default)]
    pub rate: Option<Dec>,
    #[serde(default)]
    pub min_rank: Option<RankId>,
    #[serde(default)]
    pub compress: Option<bool>,
    #[serde(default)]
    pub generations: Option<u64>,
    #[serde(default, rename = "match")]
    pub match_: Option<String>,
    #[serde(default)]
    pub split: Option<pool::SplitDoc>,
}

impl RuleDoc {
    /// Fields other than `id` and `type`, by name and presence.
    fn present(&self) -> [(&'static str, bool); 7] {
        [
            ("rates", self.rates.is_some()),
            ("rate", self.rate.is_some()),
            ("min_rank", self.min_rank.is_some()),
            ("compress", self.compress.is_some()),
            ("generations", self.generations.is_some()),
            ("match", self.match_.is_some()),
            ("split", self.split.is_some()),
        ]
    }

    /// The `rate` field, required (`missing_field` at `path` without it).
    pub(crate) fn required_rate(&self, path: &str) -> Result<Decimal> {
        match self.rate {
            Some(d) => check_rate(d, &format!("{path}.rate")),
            None => Err(Error::MissingField {
                path: path.to_owned(),
                field: "rate".to_owned(),
            }),
        }
    }
}

/// A field of a rule kind's document besides `id` and `type` (§8), as the
/// kind's module declares it: the one list validation and the schema read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Field {
    /// The key as written.
    pub name: &'static str,
    /// Whether the rule is refused without it (`missing_field`).
    pub required: bool,
    /// What it holds.
    pub value: Value,
}

impl Field {
    pub(crate) const fn required(name: &'static str, value: Value) -> Field {
        Field {
            name,
            required: true,
            value,
        }
    }

    pub(crate) const fn optional(name: &'static str, value: Value) -> Field {
        Field {
            name,
            required: false,
            value,
        }
    }
}

/// What a rule field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
#[non_exhaustive]
pub enum Value {
    /// A decimal rate in [0, 1], as a string.
    Rate,
    /// A non-empty list of rates.
    Rates,
    /// A rank id of the ladder.
    Rank,
    /// `true` or `false`.
    Flag,
    /// A whole number.
    Count,
    /// A name (an attribute's).
    Text,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A pool's split: `"equal"` or `{"weighted_by": metric}` with a
    /// parameterless metric.
    Split,
}

/// What a rule computes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RuleKind {
    /// 多级分销: multi-tier commission (§5.1).
    Levels(Levels),
    /// 级差: rank differential (§5.2).
    Differential(Differential),
    /// 平级奖: same-rank bonus (§5.3).
    Peer(Peer),
    /// 分红池: dividend pool (§6.1).
    Pool(Pool),
}

/// A rule with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule id.
    pub id: RuleId,
    /// What it computes.
    pub kind: RuleKind,
}

/// Every rule kind's `type` with its fields, in the order of the docs.
pub(crate) const KINDS: &[(&str, &[Field])] = &[
    (levels::NAME, levels::FIELDS),
    (differential::NAME, differential::FIELDS),
    (peer::NAME, peer::FIELDS),
    (pool::NAME, pool::FIELDS),
];

/// Validate rule `r` (at `path`, e.g. `rules[2]`): its type, then that it has
/// no field of another kind, then its `min_rank`, then the kind's own fields.
pub(crate) fn compile(
    r: &RuleDoc,
    path: &str,
    ranks: &HashMap<RankId, RankIdx>,
) -> Result<RuleKind> {
    let Some(&(_, allowed)) = KINDS.iter().find(|(name, _)| *name == r.kind) else {
        let names: Vec<&str> = KINDS.iter().map(|(name, _)| *name).collect();
        let (last, rest) = names.split_last().unwrap_or((&"", &[]));
        return Err(Error::InvalidValue {
            path: format!("{path}.type"),
            detail: format!(
                "unknown rule type \"{}\"; expected {} or {last}",
                r.kind,
                rest.join(", ")
            ),
        });
    };
    for (name, present) in r.present() {
        if present && !allowed.iter().any(|f| f.name == name) {
            return Err(Error::UnknownField {
                path: path.to_owned(),
                field: name.to_owned(),
            });
        }
    }
    let min_rank = r
        .min_rank
        .as_ref()
        .map(|m| rank_ref(m, &format!("{path}.min_rank"), ranks))
        .transpose()?;
    Ok(match r.kind.as_str() {
        levels::NAME => RuleKind::Levels(Levels::compile(r, path, min_rank)?),
        differential::NAME => RuleKind::Differential(Differential::default()),
        peer::NAME => RuleKind::Peer(Peer::compile(r, path, min_rank)?),
        _ => RuleKind::Pool(Pool::compile(r, path, min_rank)?),
    })
}

impl RuleKind {
    /// The rule's `type` as written (also the line `kind`).
    pub fn type_name(&self) -> &'static str {
        match self {
            RuleKind::Levels(_) => levels::NAME,
            RuleKind::Differential(_) => differential::NAME,
            RuleKind::Peer(_) => peer::NAME,
            RuleKind::Pool(_) => pool::NAME,
        }
    }

    /// The rates a line of this rule can carry, besides the ranks' rates.
    pub(crate) fn rates(&self) -> Vec<Decimal> {
        match self {
            RuleKind::Levels(r) => r.rates.clone(),
            RuleKind::Differential(_) => Vec::new(),
            RuleKind::Peer(r) => vec![r.rate],
            RuleKind::Pool(r) => vec![r.rate],
        }
    }

    /// The per-member metric the rule reads, if any (a pool's weight).
    pub(crate) fn metric(&self) -> Option<&Metric> {
        match self {
            RuleKind::Pool(r) => r.weight(),
            _ => None,
        }
    }

    /// What the rule needs prepared on the tree before orders are settled:
    /// its "nearest qualifying ancestor" link columns, added to `links`.
    /// `rank_rates` are the ladder's rates, lowest rank first.
    pub(crate) fn plan(&self, rank_rates: &[Decimal], links: &mut Links) -> Plan {
        match self {
            RuleKind::Levels(r) => Plan::Levels(r.plan(rank_rates.len(), links)),
            RuleKind::Differential(r) => Plan::Differential(r.plan(rank_rates, links)),
            RuleKind::Peer(r) => Plan::Peer(r.plan(rank_rates.len(), links)),
            RuleKind::Pool(_) => Plan::Pool,
        }
    }

    /// What an order sold by `seller` pays under this rule, as
    /// `slot(beneficiary or NONE for breakage, level, rate)` in line order.
    /// With ranks fixed it depends on the seller only. A pool pays nothing
    /// per order.
    #[inline]
    pub(crate) fn schedule(
        &self,
        plan: &Plan,
        up: &Upline,
        seller: u32,
        slot: &mut impl FnMut(u32, u32, Decimal),
    ) -> Result<(), Missing> {
        match (self, plan) {
            (RuleKind::Levels(r), Plan::Levels(p)) => r.schedule(p, up, seller, slot),
            (RuleKind::Differential(_), Plan::Differential(p)) => p.schedule(up, seller, slot),
            (RuleKind::Peer(r), Plan::Peer(p)) => r.schedule(p, up, seller, slot),
            (RuleKind::Pool(_), Plan::Pool) => Ok(()),
            _ => None.must("rules", "plan of the rule's kind"),
        }
    }

    /// The words of one of this rule's order lines after `"{id} {type}: "`
    /// and before `": {rate} × {base} = {amount}"`; `None` for a pool.
    pub(crate) fn describe(&self, line: &Said, names: &dyn Names) -> Result<Option<String>> {
        Ok(match self {
            RuleKind::Levels(r) => Some(r.describe(line, names)?),
            RuleKind::Differential(r) => Some(r.describe(line, names)?),
            RuleKind::Peer(r) => Some(r.describe(line, names)?),
            RuleKind::Pool(_) => None,
        })
    }
}

/// A rule prepared for a batch's tree (made by [`RuleKind::plan`]).
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Levels(levels::Plan),
    Differential(differential::Plan),
    Peer(peer::Plan),
    Pool,
}

/// One order line as its rule's explanation sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Said {
    /// The member paid.
    pub beneficiary: u32,
    /// The line's level.
    pub level: u32,
    /// The order's seller.
    pub seller: u32,
    /// The member the same rule paid on the line before, in this order.
    pub previous: Option<u32>,
}

/// What a rule's explanation may ask of the members (`explain` answers).
pub(crate) trait Names {
    /// The member's id.
    fn id(&self, m: u32) -> &str;
    /// The member's id with its rank, and `inactive` if so: `m9 (group_owner)`.
    fn who(&self, m: u32) -> Result<String>;
    /// The member's rank id and its rate.
    fn rank(&self, m: u32) -> Result<(String, Decimal)>;
}
