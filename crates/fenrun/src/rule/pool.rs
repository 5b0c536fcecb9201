//! `pool` (分红池, dividend pool, §6.1): a rate of the period's net sales,
//! shared by the active members of at least `min_rank`, equally or weighted
//! by a metric, to the unit by largest remainder; with nobody to share it,
//! the whole pool breaks.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::condition::{Metric, MetricSpec, METRICS};
use crate::error::{Error, Missing, Result};
use crate::ids::RankIdx;
use crate::money::Rounding;
use crate::rule::{Field, RuleDoc, Value};

/// The rule's `type`.
pub(crate) const NAME: &str = "pool";
/// Its fields besides `id` and `type`.
pub(crate) const FIELDS: &[Field] = &[
    Field::required("rate", Value::Rate),
    Field::optional("min_rank", Value::Rank),
    Field::optional("split", Value::Split),
];

/// `"equal"` or `{"weighted_by": "team_sales"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum SplitDoc {
    Name(String),
    Weighted(WeightedDoc),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WeightedDoc {
    pub weighted_by: String,
}

/// How a pool is split.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Split {
    /// One share each.
    Equal,
    /// In proportion to a parameterless metric.
    WeightedBy(Metric),
}

/// 分红池: dividend pool (§6.1).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Pool {
    /// Share of net sales.
    pub rate: Decimal,
    /// Recipients' minimum rank.
    pub(crate) min_rank: Option<RankIdx>,
    /// How it is split.
    pub split: Split,
}

impl Pool {
    pub(crate) fn compile(r: &RuleDoc, path: &str, min_rank: Option<RankIdx>) -> Result<Pool> {
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
                let spec = MetricSpec::named(&w.weighted_by).filter(|m| m.parameterless());
                let Some(metric) = spec.and_then(|m| m.build(None, None, None).ok()) else {
                    let weights: Vec<&str> = METRICS
                        .iter()
                        .filter(|m| m.parameterless())
                        .map(|m| m.name)
                        .collect();
                    return Err(Error::InvalidRule {
                        path: format!("{path}.split.weighted_by"),
                        detail: format!(
                            "\"{}\" cannot weight a pool; expected a metric whose parameters are all optional ({})",
                            w.weighted_by,
                            weights.join(", ")
                        ),
                    });
                };
                Split::WeightedBy(metric)
            }
        };
        Ok(Pool {
            rate: r.plain_rate(path)?,
            min_rank,
            split,
        })
    }

    /// The metric that weights the shares, if any.
    pub(crate) fn weight(&self) -> Option<&Metric> {
        match &self.split {
            Split::Equal => None,
            Split::WeightedBy(m) => Some(m),
        }
    }

    /// The pool of a period's `net_sales`, rounded (`what` names it in an
    /// overflow error).
    pub(crate) fn amount(
        &self,
        net_sales: Decimal,
        rounding: Rounding,
        what: &str,
    ) -> Result<Decimal> {
        self.rate
            .checked_mul(net_sales)
            .map(|x| rounding.round(x))
            .ok_or_else(|| Error::Overflow {
                path: what.to_owned(),
                detail: "pool amount".to_owned(),
            })
    }

    /// Whether a member of rank `rank` shares the pool.
    pub(crate) fn takes(&self, rank: RankIdx, active: bool) -> bool {
        // Without `min_rank` every rank takes a share: at least the lowest.
        active && rank >= self.min_rank.unwrap_or(0)
    }

    /// A recipient's weight, given its `metric` value when the split reads one.
    pub(crate) fn weight_of(
        &self,
        metric: impl FnOnce(&Metric) -> Result<Decimal, Missing>,
    ) -> Result<Decimal, Missing> {
        match &self.split {
            Split::Equal => Ok(Decimal::ONE),
            Split::WeightedBy(m) => metric(m),
        }
    }
}

/// Largest-remainder allocation of `pool` over weighted recipients (§6.1), in
/// whole units of the rounding scale, ties to the earlier recipient (sorted by id).
/// `None` when there is nobody to pay (no recipient or zero total weight).
pub(crate) fn allocate(
    pool: Decimal,
    rounding: Rounding,
    recipients: &[(u32, Decimal)],
) -> std::result::Result<Option<Vec<Decimal>>, &'static str> {
    const TOO_BIG: &str = "pool allocation exceeds exact integer range";
    let weight_scale = recipients.iter().map(|(_, w)| w.scale()).max().unwrap_or(0);
    let as_int = |w: Decimal| -> Option<i128> {
        let mut w = w;
        w.rescale(weight_scale);
        (w.scale() == weight_scale).then(|| w.mantissa())
    };
    let weights: Vec<i128> = recipients
        .iter()
        .map(|(_, w)| as_int(*w))
        .collect::<Option<_>>()
        .ok_or(TOO_BIG)?;
    let total: i128 = weights
        .iter()
        .try_fold(0i128, |a, w| a.checked_add(*w))
        .ok_or(TOO_BIG)?;
    if recipients.is_empty() || total <= 0 {
        return Ok(None);
    }
    let mut p = pool;
    p.rescale(rounding.scale);
    let units = p.mantissa();
    let mut floors = Vec::with_capacity(weights.len());
    let mut rems = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let prod = units.checked_mul(*w).ok_or(TOO_BIG)?;
        floors.push(prod / total);
        rems.push((prod % total, i));
    }
    let given: i128 = floors.iter().sum();
    // Each floor is at most its exact share, so 0 <= left < recipients.
    let left = usize::try_from(units - given).map_err(|_| "a pool remainder below zero")?;
    // Largest remainder first; equal remainders in recipient (id) order.
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems.into_iter().take(left) {
        *floors
            .get_mut(i)
            .ok_or("a pool share without its recipient")? += 1;
    }
    Ok(Some(
        floors
            .into_iter()
            .map(|u| Decimal::from_i128_with_scale(u, rounding.scale))
            .collect(),
    ))
}
