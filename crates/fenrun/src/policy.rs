//! The validated policy: ladder, conditions, rules, rounding, cap (§4–§8).

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::doc::{ConditionDoc, PolicyDoc, RuleDoc, SplitDoc};
use crate::error::{Error, Result};
use crate::ids::{RankId, RuleId};
use crate::limits;
use crate::money::{short_string, Dec, Rounding};

/// Index of a rank on the ladder, 0 = lowest.
pub type RankIdx = u16;

/// One step of the ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Rank {
    /// The rank id (`"team_leader"`).
    pub id: RankId,
    /// Its rate for `differential` (级差).
    pub rate: Decimal,
    /// The condition that reaches it, if any.
    pub upgrade: Option<Condition>,
}

/// A metric of §3 with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    /// Net sales credited to the member.
    Sales,
    /// Net purchases made by the member.
    Purchases,
    /// Net sales of the member and every descendant.
    TeamSales,
    /// Children, with rank ≥ `min_rank` if given.
    DirectReferrals(Option<RankIdx>),
    /// Descendants (the member excluded), with rank ≥ `min_rank` if given.
    TeamSize(Option<RankIdx>),
    /// Children whose subtree holds a member of rank ≥ `min_rank`.
    Legs(RankIdx),
    /// Groups owned, with size ≥ `min_size` if given.
    Groups(Option<u64>),
    /// Total size of groups owned.
    GroupMembers,
    /// Size of the largest group owned.
    LargestGroup,
    /// A member attribute, 0 if absent.
    Attr(String),
}

impl Metric {
    /// The metric's name as written in a policy.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Sales => "sales",
            Metric::Purchases => "purchases",
            Metric::TeamSales => "team_sales",
            Metric::DirectReferrals(_) => "direct_referrals",
            Metric::TeamSize(_) => "team_size",
            Metric::Legs(_) => "legs",
            Metric::Groups(_) => "groups",
            Metric::GroupMembers => "group_members",
            Metric::LargestGroup => "largest_group",
            Metric::Attr(_) => "attr",
        }
    }
}

/// A comparison operator of a leaf condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// ≥
    Gte,
    /// >
    Gt,
    /// ≤
    Lte,
    /// <
    Lt,
    /// =
    Eq,
}

impl Op {
    /// The operator's name as written.
    pub fn name(self) -> &'static str {
        match self {
            Op::Gte => "gte",
            Op::Gt => "gt",
            Op::Lte => "lte",
            Op::Lt => "lt",
            Op::Eq => "eq",
        }
    }

    /// Does `value op threshold` hold?
    pub fn holds(self, value: Decimal, threshold: Decimal) -> bool {
        match self {
            Op::Gte => value >= threshold,
            Op::Gt => value > threshold,
            Op::Lte => value <= threshold,
            Op::Lt => value < threshold,
            Op::Eq => value == threshold,
        }
    }
}

/// A leaf condition: `metric op threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// The metric and its parameters.
    pub metric: Metric,
    /// The comparison.
    pub op: Op,
    /// The threshold.
    pub threshold: Decimal,
}

/// The condition algebra of §4.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every operand holds.
    All(Vec<Condition>),
    /// At least one operand holds.
    Any(Vec<Condition>),
    /// The operand does not hold.
    Not(Box<Condition>),
    /// A comparison.
    Leaf(Leaf),
}

/// How `peer` matches ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerMatch {
    /// Same rank as the seller.
    Same,
    /// Same rank or higher.
    SameOrHigher,
}

/// How a pool is split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// One share each.
    Equal,
    /// In proportion to a parameterless metric.
    WeightedBy(Metric),
}

/// A rule of the policy.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// 多级分销: multi-tier commission (§5.1).
    Levels {
        /// Rate per level, `rates[0]` = the seller.
        rates: Vec<Decimal>,
        /// Eligibility rank.
        min_rank: Option<RankIdx>,
        /// Skip ineligible uplines.
        compress: bool,
    },
    /// 级差: rank differential (§5.2).
    Differential,
    /// 平级奖: same-rank bonus (§5.3).
    Peer {
        /// Rate per generation paid.
        rate: Decimal,
        /// How many payments.
        generations: u32,
        /// Rank match.
        matching: PeerMatch,
        /// Seller's minimum rank.
        min_rank: Option<RankIdx>,
    },
    /// 分红池: dividend pool (§6.1).
    Pool {
        /// Share of net sales.
        rate: Decimal,
        /// Recipients' minimum rank.
        min_rank: Option<RankIdx>,
        /// How it is split.
        split: Split,
    },
}

impl RuleKind {
    /// The rule's `type` as written (also the line `kind`).
    pub fn type_name(&self) -> &'static str {
        match self {
            RuleKind::Levels { .. } => "levels",
            RuleKind::Differential => "differential",
            RuleKind::Peer { .. } => "peer",
            RuleKind::Pool { .. } => "pool",
        }
    }
}

/// A rule with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule id.
    pub id: RuleId,
    /// What it computes.
    pub kind: RuleKind,
}

/// A validated policy (§8). Build it with [`Policy::from_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) currency: Option<String>,
    pub(crate) rounding: Rounding,
    pub(crate) evaluate_ranks: bool,
    pub(crate) active_if: Option<Condition>,
    pub(crate) ranks: Vec<Rank>,
    pub(crate) rank_index: HashMap<RankId, RankIdx>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) order_cap: Option<Decimal>,
}

impl Policy {
    /// Parse and validate a policy from JSON text.
    ///
    /// ```
    /// let p = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.1"}]}"#).unwrap();
    /// assert_eq!(p.ranks().len(), 2);
    /// ```
    pub fn from_json(text: &str) -> Result<Policy> {
        Policy::from_doc(crate::doc::from_str(text)?)
    }

    /// Parse and validate a policy from JSON bytes (must be UTF-8).
    pub fn from_slice(bytes: &[u8]) -> Result<Policy> {
        Policy::from_doc(crate::doc::from_slice(bytes)?)
    }

    /// Validate a policy given as a parsed JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Policy> {
        Policy::from_doc(crate::doc::from_value(value)?)
    }

    /// The ladder, lowest first.
    pub fn ranks(&self) -> &[Rank] {
        &self.ranks
    }

    /// The rules in policy order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rounding.
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// The currency code, if given.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// Whether ranks are evaluated from upgrade conditions.
    pub fn evaluate_ranks(&self) -> bool {
        self.evaluate_ranks
    }

    /// The cap on order-rule lines per order, as a rate of the order amount.
    pub fn order_cap(&self) -> Option<Decimal> {
        self.order_cap
    }

    /// The largest number of decimals (counted by value) of any rate a line can
    /// carry: rank rates (and so their differences), `levels`, `peer` and `pool`
    /// rates. A columnar writer stores line rates at this scale without loss.
    ///
    /// ```
    /// let p = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "a", "rate": "0.125"}],
    ///   "rules": [{"id": "l", "type": "levels", "rates": ["0.10", "0.05"]}]}"#).unwrap();
    /// assert_eq!(p.rate_scale(), 3);
    /// ```
    pub fn rate_scale(&self) -> u32 {
        let rules = self.rules.iter().flat_map(|r| match &r.kind {
            RuleKind::Levels { rates, .. } => rates.clone(),
            RuleKind::Differential => Vec::new(),
            RuleKind::Peer { rate, .. } | RuleKind::Pool { rate, .. } => vec![*rate],
        });
        self.ranks
            .iter()
            .map(|r| r.rate)
            .chain(rules)
            .map(|d| d.normalize().scale())
            .max()
            .unwrap_or(0)
    }

    /// The activity condition.
    pub fn active_if(&self) -> Option<&Condition> {
        self.active_if.as_ref()
    }

    /// Index of a rank id.
    pub fn rank_index(&self, id: &str) -> Option<RankIdx> {
        self.rank_index.get(id).copied()
    }

    pub(crate) fn rank_id(&self, r: RankIdx) -> &str {
        self.ranks
            .get(usize::from(r))
            .map(|k| k.id.as_str())
            .unwrap_or_default()
    }

    pub(crate) fn rank_rate(&self, r: RankIdx) -> Decimal {
        self.ranks
            .get(usize::from(r))
            .map(|k| k.rate)
            .unwrap_or_default()
    }

    fn from_doc(doc: PolicyDoc) -> Result<Policy> {
        if doc.version != 1 {
            return Err(Error::UnsupportedVersion {
                path: "version".into(),
                version: doc.version,
            });
        }
        let rounding = match &doc.rounding {
            None => Rounding::default(),
            Some(r) => {
                let scale = r.scale.unwrap_or(2);
                if scale > 8 {
                    return Err(Error::InvalidScale {
                        path: "rounding.scale".into(),
                        scale,
                    });
                }
                Rounding {
                    scale: u32::try_from(scale).unwrap_or(2),
                    mode: r.mode,
                }
            }
        };
        if doc.ranks.is_empty() {
            return Err(Error::NoRanks {
                path: "ranks".into(),
            });
        }
        limits::check_count("ranks", doc.ranks.len(), limits::MAX_RANKS, "ranks")?;
        limits::check_count("rules", doc.rules.len(), limits::MAX_RULES, "rules")?;

        // Ranks: ids first (conditions may name any rank of the ladder).
        let mut rank_index = HashMap::new();
        for (i, r) in doc.ranks.iter().enumerate() {
            if r.id.is_empty() {
                return Err(Error::EmptyId {
                    path: format!("ranks[{i}].id"),
                });
            }
            let idx = RankIdx::try_from(i).unwrap_or(RankIdx::MAX);
            if rank_index.insert(r.id.clone(), idx).is_some() {
                return Err(Error::DuplicateRank {
                    path: format!("ranks[{i}].id"),
                    rank: r.id.to_string(),
                });
            }
        }
        let mut ranks = Vec::with_capacity(doc.ranks.len());
        let mut below: Option<Decimal> = None;
        for (i, r) in doc.ranks.iter().enumerate() {
            let rate = match r.rate {
                Some(d) => check_rate(d, &format!("ranks[{i}].rate"))?,
                None => Decimal::ZERO,
            };
            if let Some(b) = below {
                if rate < b {
                    return Err(Error::DecreasingRate {
                        path: format!("ranks[{i}].rate"),
                        rank: r.id.to_string(),
                        rate: short_string(rate),
                        below_rate: short_string(b),
                    });
                }
            }
            below = Some(rate);
            let upgrade = match &r.upgrade {
                None => None,
                Some(_) if i == 0 => {
                    return Err(Error::LowestRankUpgrade {
                        path: format!("ranks[{i}].upgrade"),
                        rank: r.id.to_string(),
                    })
                }
                Some(c) => Some(compile_condition(
                    c,
                    &format!("ranks[{i}].upgrade"),
                    &rank_index,
                    0,
                )?),
            };
            ranks.push(Rank {
                id: r.id.clone(),
                rate,
                upgrade,
            });
        }
        let active_if = doc
            .active_if
            .as_ref()
            .map(|c| compile_condition(c, "active_if", &rank_index, 0))
            .transpose()?;
        let order_cap = doc
            .order_cap
            .map(|d| check_rate(d, "order_cap"))
            .transpose()?;

        let mut rules: Vec<Rule> = Vec::with_capacity(doc.rules.len());
        for (i, r) in doc.rules.iter().enumerate() {
            let path = format!("rules[{i}]");
            if r.id.is_empty() {
                return Err(Error::EmptyId {
                    path: format!("{path}.id"),
                });
            }
            if rules.iter().any(|x| x.id == r.id) {
                return Err(Error::DuplicateRule {
                    path: format!("{path}.id"),
                    rule: r.id.to_string(),
                });
            }
            let kind = compile_rule(r, &path, &rank_index)?;
            rules.push(Rule {
                id: r.id.clone(),
                kind,
            });
        }
        Ok(Policy {
            currency: doc.currency,
            rounding,
            evaluate_ranks: doc.evaluate_ranks,
            active_if,
            ranks,
            rank_index,
            rules,
            order_cap,
        })
    }
}

fn check_rate(d: Dec, path: &str) -> Result<Decimal> {
    let v = d.value();
    if v < Decimal::ZERO || v > Decimal::ONE {
        return Err(Error::RateOutOfRange {
            path: path.to_owned(),
            rate: short_string(v),
        });
    }
    Ok(v)
}

fn rank_ref(id: &RankId, path: &str, index: &HashMap<RankId, RankIdx>) -> Result<RankIdx> {
    index.get(id).copied().ok_or_else(|| Error::UnknownRank {
        path: path.to_owned(),
        rank: id.to_string(),
    })
}

/// Fields of a rule doc other than `id` and `type`, by name and presence.
fn present_fields(r: &RuleDoc) -> [(&'static str, bool); 7] {
    [
        ("rates", r.rates.is_some()),
        ("rate", r.rate.is_some()),
        ("min_rank", r.min_rank.is_some()),
        ("compress", r.compress.is_some()),
        ("generations", r.generations.is_some()),
        ("match", r.match_.is_some()),
        ("split", r.split.is_some()),
    ]
}

fn compile_rule(r: &RuleDoc, path: &str, ranks: &HashMap<RankId, RankIdx>) -> Result<RuleKind> {
    let allowed: &[&str] = match r.kind.as_str() {
        "levels" => &["rates", "min_rank", "compress"],
        "differential" => &[],
        "peer" => &["rate", "generations", "match", "min_rank"],
        "pool" => &["rate", "min_rank", "split"],
        other => {
            return Err(Error::InvalidValue {
                path: format!("{path}.type"),
                detail: format!(
                    "unknown rule type \"{other}\"; expected levels, differential, peer or pool"
                ),
            })
        }
    };
    for (name, present) in present_fields(r) {
        if present && !allowed.contains(&name) {
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
    let rate = |what: &str| -> Result<Decimal> {
        match r.rate {
            Some(d) => check_rate(d, &format!("{path}.rate")),
            None => Err(Error::MissingField {
                path: path.to_owned(),
                field: what.to_owned(),
            }),
        }
    };
    Ok(match r.kind.as_str() {
        "levels" => {
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
            RuleKind::Levels {
                rates,
                min_rank,
                compress: r.compress.unwrap_or(false),
            }
        }
        "differential" => RuleKind::Differential,
        "peer" => {
            let generations = r.generations.unwrap_or(1);
            if generations == 0 {
                return Err(Error::InvalidRule {
                    path: format!("{path}.generations"),
                    detail: "generations must be at least 1".into(),
                });
            }
            if generations > limits::MAX_GENERATIONS as u64 {
                return Err(Error::LimitExceeded {
                    path: format!("{path}.generations"),
                    detail: format!(
                        "generations {generations} is above the limit of {}",
                        limits::MAX_GENERATIONS
                    ),
                });
            }
            let matching = match r.match_.as_deref() {
                None | Some("same") => PeerMatch::Same,
                Some("same_or_higher") => PeerMatch::SameOrHigher,
                Some(other) => {
                    return Err(Error::InvalidValue {
                        path: format!("{path}.match"),
                        detail: format!(
                            "unknown match \"{other}\"; expected same or same_or_higher"
                        ),
                    })
                }
            };
            RuleKind::Peer {
                rate: rate("rate")?,
                generations: u32::try_from(generations).unwrap_or(1),
                matching,
                min_rank,
            }
        }
        _ => {
            let split = match &r.split {
                None => Split::Equal,
                Some(SplitDoc::Name(n)) if n == "equal" => Split::Equal,
                Some(SplitDoc::Name(n)) => {
                    return Err(Error::InvalidValue {
                        path: format!("{path}.split"),
                        detail: format!(
                        "unknown split \"{n}\"; expected \"equal\" or {{\"weighted_by\": metric}}"
                    ),
                    })
                }
                Some(SplitDoc::Weighted(w)) => {
                    let metric = match w.weighted_by.as_str() {
                        "sales" => Metric::Sales,
                        "purchases" => Metric::Purchases,
                        "team_sales" => Metric::TeamSales,
                        "direct_referrals" => Metric::DirectReferrals(None),
                        "team_size" => Metric::TeamSize(None),
                        "groups" => Metric::Groups(None),
                        "group_members" => Metric::GroupMembers,
                        "largest_group" => Metric::LargestGroup,
                        other => {
                            return Err(Error::InvalidRule {
                                path: format!("{path}.split.weighted_by"),
                                detail: format!("\"{other}\" cannot weight a pool; expected a metric whose parameters are all optional (sales, purchases, team_sales, direct_referrals, team_size, groups, group_members, largest_group)"),
                            })
                        }
                    };
                    Split::WeightedBy(metric)
                }
            };
            RuleKind::Pool {
                rate: rate("rate")?,
                min_rank,
                split,
            }
        }
    })
}

fn compile_condition(
    c: &ConditionDoc,
    path: &str,
    ranks: &HashMap<RankId, RankIdx>,
    depth: usize,
) -> Result<Condition> {
    if depth > limits::MAX_CONDITION_DEPTH {
        return Err(Error::LimitExceeded {
            path: path.to_owned(),
            detail: format!(
                "conditions nest deeper than {}",
                limits::MAX_CONDITION_DEPTH
            ),
        });
    }
    let invalid = |detail: String| Error::InvalidCondition {
        path: path.to_owned(),
        detail,
    };
    let leaf_fields = [
        c.metric.is_some(),
        c.min_rank.is_some(),
        c.min_size.is_some(),
        c.name.is_some(),
    ]
    .into_iter()
    .chain(ops(c).iter().map(|(_, v)| v.is_some()))
    .any(|b| b);
    let combinators = [c.all.is_some(), c.any.is_some(), c.not.is_some()]
        .into_iter()
        .filter(|b| *b)
        .count();
    if combinators > 1 || (combinators == 1 && leaf_fields) {
        return Err(invalid(
            "a condition is exactly one of all, any, not or a metric comparison".into(),
        ));
    }
    let list = |items: &Vec<ConditionDoc>, key: &str| -> Result<Vec<Condition>> {
        if items.is_empty() {
            return Err(Error::InvalidCondition {
                path: format!("{path}.{key}"),
                detail: format!("empty `{key}` list"),
            });
        }
        items
            .iter()
            .enumerate()
            .map(|(i, x)| compile_condition(x, &format!("{path}.{key}[{i}]"), ranks, depth + 1))
            .collect()
    };
    if let Some(items) = &c.all {
        return Ok(Condition::All(list(items, "all")?));
    }
    if let Some(items) = &c.any {
        return Ok(Condition::Any(list(items, "any")?));
    }
    if let Some(inner) = &c.not {
        return Ok(Condition::Not(Box::new(compile_condition(
            inner,
            &format!("{path}.not"),
            ranks,
            depth + 1,
        )?)));
    }
    let Some(name) = &c.metric else {
        return Err(invalid(
            "a condition needs all, any, not or a metric".into(),
        ));
    };
    let given: Vec<(Op, Decimal)> = ops(c)
        .iter()
        .filter_map(|(op, v)| v.map(|d| (*op, d.value())))
        .collect();
    let (op, threshold) = match given.as_slice() {
        [one] => *one,
        [] => {
            return Err(invalid(format!(
                "metric \"{name}\" needs one of gte, gt, lte, lt, eq"
            )))
        }
        _ => {
            return Err(invalid(format!(
                "metric \"{name}\" has more than one of gte, gt, lte, lt, eq"
            )))
        }
    };
    let min_rank = c
        .min_rank
        .as_ref()
        .map(|m| rank_ref(m, &format!("{path}.min_rank"), ranks))
        .transpose()?;
    // Which parameters each metric takes.
    let (takes_rank, takes_size, takes_name) = match name.as_str() {
        "direct_referrals" | "team_size" | "legs" => (true, false, false),
        "groups" => (false, true, false),
        "attr" => (false, false, true),
        "sales" | "purchases" | "team_sales" | "group_members" | "largest_group" => {
            (false, false, false)
        }
        other => {
            return Err(Error::InvalidCondition {
                path: format!("{path}.metric"),
                detail: format!("unknown metric \"{other}\""),
            })
        }
    };
    for (param, given, takes) in [
        ("min_rank", c.min_rank.is_some(), takes_rank),
        ("min_size", c.min_size.is_some(), takes_size),
        ("name", c.name.is_some(), takes_name),
    ] {
        if given && !takes {
            return Err(Error::InvalidCondition {
                path: format!("{path}.{param}"),
                detail: format!("metric \"{name}\" takes no parameter `{param}`"),
            });
        }
    }
    let metric = match name.as_str() {
        "sales" => Metric::Sales,
        "purchases" => Metric::Purchases,
        "team_sales" => Metric::TeamSales,
        "direct_referrals" => Metric::DirectReferrals(min_rank),
        "team_size" => Metric::TeamSize(min_rank),
        "legs" => match min_rank {
            Some(r) => Metric::Legs(r),
            None => return Err(invalid("metric \"legs\" needs `min_rank`".into())),
        },
        "groups" => Metric::Groups(c.min_size),
        "group_members" => Metric::GroupMembers,
        "largest_group" => Metric::LargestGroup,
        _ => match &c.name {
            Some(n) => Metric::Attr(n.clone()),
            None => return Err(invalid("metric \"attr\" needs `name`".into())),
        },
    };
    Ok(Condition::Leaf(Leaf {
        metric,
        op,
        threshold,
    }))
}

fn ops(c: &ConditionDoc) -> [(Op, Option<Dec>); 5] {
    [
        (Op::Gte, c.gte),
        (Op::Gt, c.gt),
        (Op::Lte, c.lte),
        (Op::Lt, c.lt),
        (Op::Eq, c.eq),
    ]
}
