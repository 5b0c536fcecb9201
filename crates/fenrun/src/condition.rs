//! Conditions (§4): the metrics of §3 compared with thresholds and combined
//! with `all`, `any` and `not`, as written and as validated.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::check::rank_ref;
use crate::error::{Error, Result};
use crate::ids::{RankId, RankIdx};
use crate::limits;
use crate::money::Dec;

/// A condition as written: combinators and leaf fields side by side, checked in `policy.rs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionDoc {
    #[serde(default)]
    pub all: Option<Vec<ConditionDoc>>,
    #[serde(default)]
    pub any: Option<Vec<ConditionDoc>>,
    #[serde(default)]
    pub not: Option<Box<ConditionDoc>>,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub min_rank: Option<RankId>,
    #[serde(default)]
    pub min_size: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub gte: Option<Dec>,
    #[serde(default)]
    pub gt: Option<Dec>,
    #[serde(default)]
    pub lte: Option<Dec>,
    #[serde(default)]
    pub lt: Option<Dec>,
    #[serde(default)]
    pub eq: Option<Dec>,
}

/// Whether a metric takes a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// Refused if given.
    No,
    /// Taken if given.
    Optional,
    /// Needed.
    Required,
}

/// A metric of §3 as a policy names it, with the parameters it takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MetricSpec {
    pub name: &'static str,
    pub min_rank: Param,
    pub min_size: Param,
    /// `name` (an attribute's).
    pub name_param: Param,
}

const fn spec(
    name: &'static str,
    min_rank: Param,
    min_size: Param,
    name_param: Param,
) -> MetricSpec {
    MetricSpec {
        name,
        min_rank,
        min_size,
        name_param,
    }
}

/// Every metric (§3), in the order of the docs: the one list that
/// conditions, pool weights and the schema read.
pub(crate) const METRICS: &[MetricSpec] = &[
    spec("sales", Param::No, Param::No, Param::No),
    spec("purchases", Param::No, Param::No, Param::No),
    spec("team_sales", Param::No, Param::No, Param::No),
    spec("direct_referrals", Param::Optional, Param::No, Param::No),
    spec("team_size", Param::Optional, Param::No, Param::No),
    spec("legs", Param::Required, Param::No, Param::No),
    spec("groups", Param::No, Param::Optional, Param::No),
    spec("group_members", Param::No, Param::No, Param::No),
    spec("largest_group", Param::No, Param::No, Param::No),
    spec("attr", Param::No, Param::No, Param::Required),
];

impl MetricSpec {
    /// The metric called `name`.
    pub fn named(name: &str) -> Option<&'static MetricSpec> {
        METRICS.iter().find(|m| m.name == name)
    }

    /// Whether it can be used without any parameter (a pool's weight).
    pub fn parameterless(&self) -> bool {
        [self.min_rank, self.min_size, self.name_param]
            .iter()
            .all(|p| *p != Param::Required)
    }

    /// The metric with these parameters, or the name of a required one missing.
    pub fn build(
        &self,
        min_rank: Option<RankIdx>,
        min_size: Option<u64>,
        name: Option<&str>,
    ) -> std::result::Result<Metric, &'static str> {
        Ok(match self.name {
            "sales" => Metric::Sales,
            "purchases" => Metric::Purchases,
            "team_sales" => Metric::TeamSales,
            "direct_referrals" => Metric::DirectReferrals(min_rank),
            "team_size" => Metric::TeamSize(min_rank),
            "legs" => Metric::Legs(min_rank.ok_or("min_rank")?),
            "groups" => Metric::Groups(min_size),
            "group_members" => Metric::GroupMembers,
            "largest_group" => Metric::LargestGroup,
            _ => Metric::Attr(name.ok_or("name")?.to_owned()),
        })
    }
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
    /// Every operator, in the order of the docs.
    pub(crate) const ALL: [Op; 5] = [Op::Gte, Op::Gt, Op::Lte, Op::Lt, Op::Eq];

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
    #[inline]
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

impl Condition {
    /// Every comparison of the condition, each once, in no set order.
    pub(crate) fn leaves(&self) -> Vec<&Leaf> {
        let (mut stack, mut leaves) = (vec![self], Vec::new());
        while let Some(c) = stack.pop() {
            match c {
                Condition::All(items) | Condition::Any(items) => stack.extend(items),
                Condition::Not(x) => stack.push(x),
                Condition::Leaf(l) => leaves.push(l),
            }
        }
        leaves
    }
}

pub(crate) fn compile_condition(
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
    let metric = compile_metric(
        name,
        MetricParams {
            min_rank: c.min_rank.as_ref(),
            min_size: c.min_size,
            name: c.name.as_deref(),
        },
        path,
        ranks,
    )?;
    Ok(Condition::Leaf(Leaf {
        metric,
        op,
        threshold,
    }))
}

/// A metric's parameters as written beside it (a leaf's, a step table's).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MetricParams<'a> {
    pub min_rank: Option<&'a RankId>,
    pub min_size: Option<u64>,
    pub name: Option<&'a str>,
}

/// The metric `name` with its parameters, as a condition leaf (at `path`)
/// or a step table (§12.2) names it: an unknown metric, a parameter it does
/// not take or a required one missing is `invalid_condition`, an unknown
/// `min_rank` is `unknown_rank`.
pub(crate) fn compile_metric(
    name: &str,
    given: MetricParams<'_>,
    path: &str,
    ranks: &HashMap<RankId, RankIdx>,
) -> Result<Metric> {
    let invalid = |detail: String| Error::InvalidCondition {
        path: path.to_owned(),
        detail,
    };
    let min_rank = given
        .min_rank
        .map(|m| rank_ref(m, &format!("{path}.min_rank"), ranks))
        .transpose()?;
    let Some(spec) = MetricSpec::named(name) else {
        return Err(Error::InvalidCondition {
            path: format!("{path}.metric"),
            detail: format!("unknown metric \"{name}\""),
        });
    };
    for (param, present, takes) in [
        ("min_rank", given.min_rank.is_some(), spec.min_rank),
        ("min_size", given.min_size.is_some(), spec.min_size),
        ("name", given.name.is_some(), spec.name_param),
    ] {
        if present && takes == Param::No {
            return Err(Error::InvalidCondition {
                path: format!("{path}.{param}"),
                detail: format!("metric \"{name}\" takes no parameter `{param}`"),
            });
        }
    }
    spec.build(min_rank, given.min_size, given.name)
        .map_err(|param| invalid(format!("metric \"{name}\" needs `{param}`")))
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
