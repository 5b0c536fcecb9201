//! What an order rule pays a beneficiary (§5, §12.2): a rate of the order, a
//! fixed amount per order (per-item commission), or a step table (阶梯佣金)
//! whose rate follows a metric of the member paid. One home for the three,
//! as written, as validated and as resolved for a member.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::check::check_rate;
use crate::check::Cx;
use crate::condition::{compile_metric, Metric, MetricParams};
use crate::error::{Error, Missing, Result};
use crate::ids::RankId;
use crate::money::{parse_decimal, short_string, Dec, DECIMAL_MARK};

/// A rate as written: a decimal, or an object (`{"fixed": …}` or a step table).
#[derive(Debug, Clone)]
pub(crate) enum RateDoc {
    Plain(Dec),
    Object(Box<RateObjectDoc>),
}

/// The object form of a rate, its fields side by side, checked in [`RateSpec::compile`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateObjectDoc {
    #[serde(default)]
    fixed: Option<Dec>,
    #[serde(default)]
    per: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    metric: Option<String>,
    #[serde(default)]
    min_rank: Option<RankId>,
    #[serde(default)]
    min_size: Option<u64>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    steps: Option<Vec<(Dec, RateDoc)>>,
}

impl<'de> Deserialize<'de> for RateDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RateDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as \"0.10\", {\"fixed\": \"5.00\"} or a step table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<RateDoc, E> {
                parse_decimal(v)
                    .map(|d| RateDoc::Plain(Dec(d)))
                    .map_err(|m| E::custom(format!("{DECIMAL_MARK}{m}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<RateDoc, E> {
                Ok(RateDoc::Plain(Dec(Decimal::from(v))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<RateDoc, E> {
                Ok(RateDoc::Plain(Dec(Decimal::from(v))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<RateDoc, E> {
                Err(crate::money::float_error(v))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<RateDoc, A::Error> {
                RateObjectDoc::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|o| RateDoc::Object(Box::new(o)))
            }
        }
        d.deserialize_any(V)
    }
}

/// What one slot pays, resolved for its member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Price {
    /// `round(rate × amount)` (per unit under `rounding.per: "unit"`, §12.5).
    Rate(Decimal),
    /// This amount per order, or the order's amount when that is smaller (§12.2).
    Fixed(Decimal),
    /// A fixed amount per unit of the order, or not clamped to the order's
    /// amount (§12.5).
    FixedWith(Fixed),
}

/// A fixed amount with the options of §12.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fixed {
    /// The amount, per order or per unit.
    pub amount: Decimal,
    /// Paid × the order's quantity (`"per": "unit"`).
    pub per_unit: bool,
    /// Clamped to the order's amount (`"limit": "amount"`, the default).
    pub clamped: bool,
}

impl Price {
    /// Nothing at all.
    pub(crate) const ZERO: Price = Price::Rate(Decimal::ZERO);

    /// The rate or the fixed amount, whichever it is.
    pub fn value(self) -> Decimal {
        match self {
            Price::Rate(d) | Price::Fixed(d) => d,
            Price::FixedWith(f) => f.amount,
        }
    }

    /// Whether it is a fixed amount.
    pub fn is_fixed(self) -> bool {
        matches!(self, Price::Fixed(_) | Price::FixedWith(_))
    }

    /// Whether it is a fixed amount paid per unit.
    pub fn per_unit(self) -> bool {
        matches!(self, Price::FixedWith(Fixed { per_unit: true, .. }))
    }

    /// How an explanation writes it: `0.1` or `fixed 5.00`.
    pub(crate) fn words(self, scale: u32) -> String {
        match self {
            Price::Rate(r) => short_string(r),
            Price::Fixed(f) => format!("fixed {}", crate::money::money_string(f, scale)),
            Price::FixedWith(f) => format!(
                "fixed {}{}{}",
                crate::money::money_string(f.amount, scale),
                if f.per_unit { " per unit" } else { "" },
                if f.clamped { "" } else { " (no limit)" }
            ),
        }
    }
}

/// A rate as an order rule takes it for a beneficiary.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RateSpec {
    /// The same for every member.
    Price(Price),
    /// 阶梯佣金: by a metric of the member paid.
    Steps(Box<Steps>),
}

/// A step table (§12.2): the price of the last step whose `from` is at most
/// the member's value of `metric`; below the first step, nothing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Steps {
    /// The metric read for the member paid.
    pub metric: Metric,
    /// `(from, price)`, `from` strictly increasing.
    pub steps: Vec<(Decimal, Price)>,
}

/// The step a member's value took, for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// The member's value of the metric.
    pub value: Decimal,
    /// The index of the step taken, `None` below the first.
    pub index: Option<usize>,
    /// Its price.
    pub price: Price,
}

impl Step {
    /// How an explanation writes it, after the metric's name and the member:
    /// `is 120: step from 100 pays 0.1`.
    pub(crate) fn words(&self, steps: &Steps, scale: u32) -> String {
        let value = short_string(self.value);
        match self.index.and_then(|i| steps.steps.get(i)) {
            Some((from, _)) => format!(
                "is {value}: step from {} pays {}",
                short_string(*from),
                self.price.words(scale)
            ),
            None => {
                let first = steps.steps.first().map_or(Decimal::ZERO, |(f, _)| *f);
                format!(
                    "is {value}: below the first step (from {}), pays 0",
                    short_string(first)
                )
            }
        }
    }
}

impl Steps {
    /// The step for `value`.
    pub(crate) fn at(&self, value: Decimal) -> Step {
        let index = self.steps.iter().rposition(|(from, _)| *from <= value);
        let price = index
            .and_then(|i| self.steps.get(i))
            .map_or(Price::ZERO, |(_, p)| *p);
        Step {
            value,
            index,
            price,
        }
    }
}

impl RateSpec {
    /// A plain rate.
    pub(crate) fn rate(r: Decimal) -> RateSpec {
        RateSpec::Price(Price::Rate(r))
    }

    /// Validate rate `doc` at `path`: a plain rate in [0, 1], or in a
    /// version-2 policy a fixed amount or a step table.
    pub(crate) fn compile(doc: &RateDoc, path: &str, cx: &Cx<'_>) -> Result<RateSpec> {
        RateSpec::compile_in(doc, path, cx, true)
    }

    fn compile_in(doc: &RateDoc, path: &str, cx: &Cx<'_>, steps_allowed: bool) -> Result<RateSpec> {
        let o = match doc {
            RateDoc::Plain(d) => return Ok(RateSpec::rate(check_rate(*d, path)?)),
            RateDoc::Object(o) => o,
        };
        let invalid = |detail: &str| Error::InvalidRule {
            path: path.to_owned(),
            detail: detail.to_owned(),
        };
        if let Some(fixed) = o.fixed {
            cx.v2(path, "fixed")?;
            let others = o.metric.is_some()
                || o.steps.is_some()
                || o.min_rank.is_some()
                || o.min_size.is_some()
                || o.name.is_some();
            if others {
                return Err(invalid(
                    "a fixed amount is {\"fixed\": amount} with at most \"per\" and \"limit\"",
                ));
            }
            let amount = cx.money(fixed, &format!("{path}.fixed"))?;
            let choice =
                |field: &str, value: &Option<String>, words: [&str; 2]| match value.as_deref() {
                    None => Ok(false),
                    Some(w) if w == words[0] => Ok(false),
                    Some(w) if w == words[1] => Ok(true),
                    Some(w) => Err(Error::InvalidValue {
                        path: format!("{path}.{field}"),
                        detail: format!(
                            "unknown {field} \"{w}\"; expected {} or {}",
                            words[0], words[1]
                        ),
                    }),
                };
            let per_unit = choice("per", &o.per, ["order", "unit"])?;
            let unclamped = choice("limit", &o.limit, ["amount", "none"])?;
            return Ok(RateSpec::Price(if per_unit || unclamped {
                Price::FixedWith(Fixed {
                    amount,
                    per_unit,
                    clamped: !unclamped,
                })
            } else {
                Price::Fixed(amount)
            }));
        }
        if o.per.is_some() || o.limit.is_some() {
            return Err(invalid("\"per\" and \"limit\" go with a fixed amount"));
        }
        let Some(list) = &o.steps else {
            if o.metric.is_some() {
                cx.v2(path, "metric")?;
                return Err(Error::MissingField {
                    path: path.to_owned(),
                    field: "steps".into(),
                });
            }
            return Err(invalid(
                "a rate is a decimal, {\"fixed\": amount} or {\"metric\": …, \"steps\": [[from, rate], …]}",
            ));
        };
        cx.v2(path, "steps")?;
        if !steps_allowed {
            return Err(invalid(
                "a step's rate is a rate or a fixed amount, not another step table",
            ));
        }
        let Some(name) = &o.metric else {
            return Err(Error::MissingField {
                path: path.to_owned(),
                field: "metric".into(),
            });
        };
        let metric = compile_metric(
            name,
            MetricParams {
                min_rank: o.min_rank.as_ref(),
                min_size: o.min_size,
                name: o.name.as_deref(),
            },
            path,
            cx.ranks,
        )?;
        if list.is_empty() {
            return Err(Error::InvalidRule {
                path: format!("{path}.steps"),
                detail: "a step table needs at least one step".into(),
            });
        }
        crate::limits::check_count(
            &format!("{path}.steps"),
            list.len(),
            crate::limits::MAX_STEPS,
            "steps",
        )?;
        let mut steps: Vec<(Decimal, Price)> = Vec::with_capacity(list.len());
        for (j, (from, rate)) in list.iter().enumerate() {
            let from = from.value();
            if let Some((before, _)) = steps.last() {
                if from <= *before {
                    return Err(Error::InvalidRule {
                        path: format!("{path}.steps[{j}][0]"),
                        detail: format!(
                            "step from {} is not above the step before it ({})",
                            short_string(from),
                            short_string(*before)
                        ),
                    });
                }
            }
            let price =
                match RateSpec::compile_in(rate, &format!("{path}.steps[{j}][1]"), cx, false)? {
                    RateSpec::Price(p) => p,
                    RateSpec::Steps(_) => return Err(invalid("a step table inside a step table")),
                };
            steps.push((from, price));
        }
        Ok(RateSpec::Steps(Box::new(Steps { metric, steps })))
    }

    /// The price for member `m` (`None`: a share that breaks with no member,
    /// priced at metric value 0), `value` giving a member's metric.
    #[inline]
    pub(crate) fn price(
        &self,
        m: Option<u32>,
        value: &dyn Fn(u32, &Metric) -> std::result::Result<Decimal, Missing>,
    ) -> std::result::Result<Price, Missing> {
        Ok(match self {
            RateSpec::Price(p) => *p,
            RateSpec::Steps(s) => {
                let v = match m {
                    Some(m) => value(m, &s.metric)?,
                    None => Decimal::ZERO,
                };
                s.at(v).price
            }
        })
    }

    /// Every price it can pay: its own, or each step's.
    fn prices(&self) -> Vec<Price> {
        match self {
            RateSpec::Price(p) => vec![*p],
            RateSpec::Steps(s) => s.steps.iter().map(|(_, p)| *p).collect(),
        }
    }

    /// Every plain rate it can pay (for the columnar writer's rate scale).
    pub(crate) fn rates(&self) -> impl Iterator<Item = Decimal> + '_ {
        self.prices().into_iter().filter_map(|p| match p {
            Price::Rate(r) => Some(r),
            Price::Fixed(_) | Price::FixedWith(_) => None,
        })
    }

    /// Every fixed amount it can pay (per order or per unit).
    pub(crate) fn fixed_amounts(&self) -> impl Iterator<Item = Decimal> + '_ {
        self.prices()
            .into_iter()
            .filter(|p| p.is_fixed())
            .map(Price::value)
    }

    /// The metric a step table reads.
    pub(crate) fn metric(&self) -> Option<&Metric> {
        match self {
            RateSpec::Price(_) => None,
            RateSpec::Steps(s) => Some(&s.metric),
        }
    }
}
