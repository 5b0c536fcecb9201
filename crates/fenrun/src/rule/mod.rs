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
pub mod rate;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::check::Cx;
use crate::check::{check_rate, rank_ref};
use crate::condition::Metric;
use crate::error::{Error, Missing, Must, Result};
use crate::ids::{RankId, RuleId};
use crate::money::Dec;
use crate::upline::{Links, Upline};

pub use differential::Differential;
pub use levels::{Ineligible, Levels};
pub use peer::{Peer, PeerMatch};
pub use pool::{Pool, Split};
pub use rate::{Price, RateSpec, Steps};

use rate::RateDoc;

/// A member's value of a metric, as rank evaluation computed it (what a
/// step table reads, §12.2).
pub(crate) type Values<'a> = &'a dyn Fn(u32, &Metric) -> std::result::Result<Decimal, Missing>;

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
    pub rates: Option<Vec<RateDoc>>,
    #[serde(default)]
    pub rate: Option<RateDoc>,
    #[serde(default)]
    pub min_rank: Option<RankId>,
    #[serde(default)]
    pub compress: Option<bool>,
    #[serde(default)]
    pub on_ineligible: Option<String>,
    #[serde(default)]
    pub generations: Option<u64>,
    #[serde(default, rename = "match")]
    pub match_: Option<String>,
    #[serde(default)]
    pub split: Option<pool::SplitDoc>,
    #[serde(default)]
    pub by_category: Option<BTreeMap<String, CategoryDoc>>,
}

/// A rule's overrides for one category as written (§12.1): the fields of
/// every kind side by side, each kind taking its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CategoryDoc {
    #[serde(default)]
    pub rates: Option<Vec<RateDoc>>,
    #[serde(default)]
    pub rate: Option<RateDoc>,
    #[serde(default)]
    pub rank_rates: Option<BTreeMap<RankId, Dec>>,
}

impl CategoryDoc {
    /// Refuse any field but `field` (the kind's), and require that one.
    pub(crate) fn only(&self, field: &'static str, path: &str) -> Result<()> {
        let present = [
            ("rates", self.rates.is_some()),
            ("rate", self.rate.is_some()),
            ("rank_rates", self.rank_rates.is_some()),
        ];
        for (name, there) in present {
            if there && name != field {
                return Err(Error::UnknownField {
                    path: path.to_owned(),
                    field: name.to_owned(),
                });
            }
        }
        if present.iter().any(|(name, there)| *there && *name == field) {
            Ok(())
        } else {
            Err(Error::MissingField {
                path: path.to_owned(),
                field: field.to_owned(),
            })
        }
    }
}

/// A rule's overrides by category (§12.1), by the policy's category index
/// (ascending; index 0, no category, never has one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ByCategory<T>(pub(crate) Vec<(u16, T)>);

impl<T> ByCategory<T> {
    /// The place of category `c`'s override among the overrides, if the
    /// rule has one (0 never has).
    #[inline]
    pub(crate) fn position(&self, c: u16) -> Option<usize> {
        if c == 0 || self.0.is_empty() {
            return None;
        }
        self.0.binary_search_by_key(&c, |(k, _)| *k).ok()
    }

    /// The override for category `c`, if the rule has one.
    #[inline]
    pub(crate) fn get(&self, c: u16) -> Option<&T> {
        self.position(c).and_then(|i| self.0.get(i)).map(|(_, t)| t)
    }

    /// Every override.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(u16, T)> {
        self.0.iter()
    }

    /// Compile `r.by_category` (at `path`), each entry by `f`.
    pub(crate) fn compile(
        r: &RuleDoc,
        path: &str,
        cx: &Cx<'_>,
        f: impl FnMut(&CategoryDoc, &str) -> Result<T>,
    ) -> Result<ByCategory<T>> {
        match &r.by_category {
            None => Ok(ByCategory(Vec::new())),
            Some(map) => ByCategory::from_map(map, &format!("{path}.by_category"), cx, f),
        }
    }

    /// Compile a map of category → `D` written at `path` (a rule's
    /// `by_category`, the policy's `order_cap_by_category`), each entry at
    /// `path.name` by `f`.
    pub(crate) fn from_map<D>(
        map: &BTreeMap<String, D>,
        path: &str,
        cx: &Cx<'_>,
        mut f: impl FnMut(&D, &str) -> Result<T>,
    ) -> Result<ByCategory<T>> {
        let mut out = Vec::with_capacity(map.len());
        for (name, doc) in map {
            if name.is_empty() {
                return Err(Error::InvalidValue {
                    path: path.to_owned(),
                    detail: "a category is a non-empty string".into(),
                });
            }
            let c = cx.category(name).must("category", "category index")?;
            out.push((c, f(doc, &format!("{path}.{name}"))?));
        }
        out.sort_by_key(|(c, _)| *c);
        Ok(ByCategory(out))
    }
}

/// The rates `f` compiles from a list at `path` (`levels` rates), each at
/// `path[j]`.
pub(crate) fn rate_list(list: &[RateDoc], path: &str, cx: &Cx<'_>) -> Result<Vec<RateSpec>> {
    list.iter()
        .enumerate()
        .map(|(j, d)| RateSpec::compile(d, &format!("{path}[{j}]"), cx))
        .collect()
}

impl RuleDoc {
    /// Fields other than `id` and `type`, by name and presence.
    fn present(&self) -> [(&'static str, bool); 9] {
        [
            ("rates", self.rates.is_some()),
            ("rate", self.rate.is_some()),
            ("min_rank", self.min_rank.is_some()),
            ("compress", self.compress.is_some()),
            ("on_ineligible", self.on_ineligible.is_some()),
            ("generations", self.generations.is_some()),
            ("match", self.match_.is_some()),
            ("split", self.split.is_some()),
            ("by_category", self.by_category.is_some()),
        ]
    }

    /// The `rate` field, required (`missing_field` at `path` without it).
    pub(crate) fn required_rate(&self, path: &str) -> Result<&RateDoc> {
        self.rate.as_ref().ok_or_else(|| Error::MissingField {
            path: path.to_owned(),
            field: "rate".to_owned(),
        })
    }

    /// The `rate` field as a plain rate in [0, 1] (a pool's).
    pub(crate) fn plain_rate(&self, path: &str) -> Result<Decimal> {
        match self.required_rate(path)? {
            RateDoc::Plain(d) => check_rate(*d, &format!("{path}.rate")),
            RateDoc::Object(_) => Err(Error::InvalidRule {
                path: format!("{path}.rate"),
                detail: "a pool's rate is a plain rate of net sales".into(),
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
    /// What an order rule pays a beneficiary: a rate, or in version 2
    /// `{"fixed": amount}` or a step table `{"metric": …, "steps": [[from,
    /// rate], …]}` (§12.2).
    OrderRate,
    /// A non-empty list of [`Value::OrderRate`]s.
    OrderRates,
    /// A rate for each rank of the ladder, by rank id (§12.1).
    RankRates,
    /// Overrides by product category, each an object with this one field
    /// (version 2, §12.1).
    ByCategory(&'static Field),
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
pub(crate) fn compile(r: &RuleDoc, path: &str, cx: &Cx<'_>) -> Result<RuleKind> {
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
    if r.by_category.is_some() {
        cx.v2(path, "by_category")?;
    }
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
        .map(|m| rank_ref(m, &format!("{path}.min_rank"), cx.ranks))
        .transpose()?;
    Ok(match r.kind.as_str() {
        levels::NAME => RuleKind::Levels(Levels::compile(r, path, min_rank, cx)?),
        differential::NAME => RuleKind::Differential(Differential::compile(r, path, cx)?),
        peer::NAME => RuleKind::Peer(Peer::compile(r, path, min_rank, cx)?),
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
            RuleKind::Levels(r) => r.specs().flat_map(RateSpec::rates).collect(),
            RuleKind::Differential(r) => r.rates(),
            RuleKind::Peer(r) => r.specs().flat_map(RateSpec::rates).collect(),
            RuleKind::Pool(r) => vec![r.rate],
        }
    }

    /// Every fixed amount a line of the rule can pay (§12.2, §12.5).
    pub(crate) fn fixed_amounts(&self) -> Vec<Decimal> {
        match self {
            RuleKind::Levels(r) => r.specs().flat_map(RateSpec::fixed_amounts).collect(),
            RuleKind::Peer(r) => r.specs().flat_map(RateSpec::fixed_amounts).collect(),
            RuleKind::Differential(_) | RuleKind::Pool(_) => Vec::new(),
        }
    }

    /// Whether a line of the rule can pay a fixed amount (§12.2).
    pub(crate) fn pays_fixed(&self) -> bool {
        self.any_price(Price::is_fixed)
    }

    /// Whether a line of the rule can pay a fixed amount per unit (§12.5).
    pub(crate) fn pays_per_unit(&self) -> bool {
        self.any_price(Price::per_unit)
    }

    /// Whether any price the rule can pay (its own, its categories', its
    /// steps') is one `test` accepts.
    fn any_price(&self, test: impl Fn(Price) -> bool) -> bool {
        let any = |s: &RateSpec| match s {
            RateSpec::Price(p) => test(*p),
            RateSpec::Steps(t) => t.steps.iter().any(|(_, p)| test(*p)),
        };
        match self {
            RuleKind::Levels(r) => r.specs().any(any),
            RuleKind::Peer(r) => r.specs().any(any),
            RuleKind::Differential(_) | RuleKind::Pool(_) => false,
        }
    }

    /// The rate spec behind an order line of this rule (`levels`: its
    /// level's; `peer`: its rate), for orders of the line's category;
    /// `None` for `differential` (the ranks' rates) and pools.
    pub(crate) fn spec(&self, line: &Said) -> Option<&RateSpec> {
        match self {
            RuleKind::Levels(r) => r.rates_for(line.category).get(line.level as usize),
            RuleKind::Peer(r) => Some(r.rate_for(line.category)),
            RuleKind::Differential(_) | RuleKind::Pool(_) => None,
        }
    }

    /// The per-member metrics the rule reads: a pool's weight, the step
    /// tables' metrics.
    pub(crate) fn metrics(&self) -> Vec<&Metric> {
        match self {
            RuleKind::Pool(r) => r.weight().into_iter().collect(),
            RuleKind::Levels(r) => r.specs().filter_map(RateSpec::metric).collect(),
            RuleKind::Peer(r) => r.specs().filter_map(RateSpec::metric).collect(),
            RuleKind::Differential(_) => Vec::new(),
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

    /// What an order of category `category` (the policy's index, 0 for
    /// none) sold by `seller` pays under this rule, as `slot(beneficiary or
    /// NONE for breakage, level, price)` in line order. With ranks fixed it
    /// depends on the seller and the category only. A pool pays nothing per
    /// order.
    #[inline]
    pub(crate) fn schedule(
        &self,
        plan: &Plan,
        on: &On<'_>,
        seller: u32,
        slot: &mut impl FnMut(u32, u32, Price),
    ) -> Result<(), Missing> {
        match (self, plan) {
            (RuleKind::Levels(r), Plan::Levels(p)) => r.schedule(p, on, seller, slot),
            (RuleKind::Differential(r), Plan::Differential(p)) => r.schedule(p, on, seller, slot),
            (RuleKind::Peer(r), Plan::Peer(p)) => r.schedule(p, on, seller, slot),
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

/// What a schedule walks: the tree, the order's category, the members'
/// metric values.
#[derive(Clone, Copy)]
pub(crate) struct On<'a> {
    pub up: &'a Upline,
    /// The policy's index of the order's category (0: none, or one the
    /// policy does not name).
    pub category: u16,
    pub values: Values<'a>,
}

/// A rule prepared for a batch's tree (made by [`RuleKind::plan`]).
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Levels(levels::Plan),
    /// The rule's plan for the ranks' rates, then one per category override.
    Differential(Vec<differential::Plan>),
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
    /// The policy's index of the order's category (0: none it names).
    pub category: u16,
}

/// What a rule's explanation may ask of the members (`explain` answers).
pub(crate) trait Names {
    /// The member's id.
    fn id(&self, m: u32) -> &str;
    /// The member's id with its rank, and `inactive` if so: `m9 (group_owner)`.
    fn who(&self, m: u32) -> Result<String>;
    /// The member's rank id, its index and its rate.
    fn rank(&self, m: u32) -> Result<(String, crate::ids::RankIdx, Decimal)>;
    /// The member's value of a metric (a step table's).
    fn value(&self, m: u32, metric: &Metric) -> Result<Decimal>;
}
