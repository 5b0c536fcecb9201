//! The policy grammar as data (§8): rule kinds with their fields, metrics
//! with their parameters, operators, rounding modes and error families, for
//! bindings to generate their types from instead of copying them.

use serde::Serialize;

use crate::condition::{Op, Param, METRICS};
use crate::error::ErrorFamily;
use crate::money::RoundingMode;
use crate::policy::VERSIONS;
use crate::rule::{Field, Value, KINDS};

/// The policy grammar of this version of fenrun.
///
/// ```
/// let schema = fenrun::schema();
/// let kinds: Vec<_> = schema.rule_kinds.iter().map(|k| k.kind).collect();
/// assert_eq!(kinds, ["levels", "differential", "peer", "pool"]);
/// assert!(schema.to_json().starts_with(r#"{"versions":[1,2],"rule_kinds":[{"type":"levels""#));
/// ```
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Schema {
    /// The policy `version`s accepted.
    pub versions: Vec<i64>,
    /// Every rule kind.
    pub rule_kinds: Vec<RuleKindSchema>,
    /// Every metric a condition or a pool weight names.
    pub metrics: Vec<MetricSchema>,
    /// The comparison operators of a condition leaf.
    pub ops: Vec<&'static str>,
    /// The rounding modes.
    pub rounding_modes: Vec<&'static str>,
    /// The error families (`ErrorFamily::name`).
    pub error_families: Vec<&'static str>,
}

/// A rule kind: its `type` and its other fields.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RuleKindSchema {
    /// The `type` as written.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its fields besides `id` and `type`.
    pub fields: &'static [Field],
}

/// A metric and the parameters it takes.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MetricSchema {
    /// The name as written.
    pub name: &'static str,
    /// The parameters it may be given (`min_rank`, `min_size`, `name`),
    /// each required or not.
    pub params: Vec<Field>,
    /// Whether it can weight a pool (it needs no parameter).
    pub weights_pools: bool,
}

impl Schema {
    /// The schema as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The policy grammar of this version of fenrun.
pub fn schema() -> Schema {
    let metrics = METRICS
        .iter()
        .map(|m| {
            let params = [
                ("min_rank", m.min_rank, Value::Rank),
                ("min_size", m.min_size, Value::Count),
                ("name", m.name_param, Value::Text),
            ];
            MetricSchema {
                name: m.name,
                params: params
                    .into_iter()
                    .filter_map(|(name, p, value)| match p {
                        Param::No => None,
                        Param::Optional => Some(Field::optional(name, value)),
                        Param::Required => Some(Field::required(name, value)),
                    })
                    .collect(),
                weights_pools: m.parameterless(),
            }
        })
        .collect();
    Schema {
        versions: VERSIONS.to_vec(),
        rule_kinds: KINDS
            .iter()
            .map(|&(kind, fields)| RuleKindSchema { kind, fields })
            .collect(),
        metrics,
        ops: Op::ALL.iter().map(|o| o.name()).collect(),
        rounding_modes: RoundingMode::ALL.iter().map(|m| m.name()).collect(),
        error_families: ErrorFamily::ALL.iter().map(|f| f.name()).collect(),
    }
}
