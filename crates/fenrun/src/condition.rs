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
