//! The JSON documents as written (serde shapes), and their loading with
//! path-aware error classification. A condition's and a rule's shapes are
//! their own modules', and the batch's are the public records of `input.rs`;
//! validation of meaning lives in `policy.rs` and `batch.rs`.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ids::RankId;
use crate::money::{Dec, RoundingMode, DECIMAL_MARK, FLOAT_MARK};

/// The policy document as written (§8).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyDoc {
    pub version: i64,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub rounding: Option<RoundingDoc>,
    #[serde(default)]
    pub evaluate_ranks: bool,
    #[serde(default)]
    pub active_if: Option<crate::condition::ConditionDoc>,
    pub ranks: Vec<RankDoc>,
    #[serde(default)]
    pub rules: Vec<crate::rule::RuleDoc>,
    #[serde(default)]
    pub order_cap: Option<Dec>,
    #[serde(default)]
    pub order_cap_by_category: Option<std::collections::BTreeMap<String, Dec>>,
    #[serde(default)]
    pub member_cap: Option<MemberCapDoc>,
    #[serde(default)]
    pub hold: Option<HoldDoc>,
    #[serde(default)]
    pub rank_timing: Option<RankTiming>,
    #[serde(default)]
    pub refunds: Option<RefundsDoc>,
}

/// `refunds` as written (§12.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RefundsDoc {
    Proportional,
    Whole,
}

/// `rank_timing` as written (§13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RankTiming {
    PeriodEnd,
    Immediate,
}

/// `hold` as written (§14.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoldDoc {
    pub days: i64,
    pub from: crate::hold::HoldFrom,
    #[serde(default)]
    pub clawback: Option<bool>,
}

/// `member_cap` as written (§12.3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberCapDoc {
    pub amount: Dec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoundingDoc {
    #[serde(default)]
    pub scale: Option<u64>,
    #[serde(default)]
    pub mode: RoundingMode,
    #[serde(default)]
    pub per: Option<RoundingPer>,
}

/// `rounding.per` as written (§12.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RoundingPer {
    Line,
    Unit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RankDoc {
    pub id: RankId,
    #[serde(default)]
    pub rate: Option<Dec>,
    #[serde(default)]
    pub upgrade: Option<crate::condition::ConditionDoc>,
    #[serde(default)]
    pub retain: Option<crate::condition::ConditionDoc>,
}

/// Parse `text` as a `T`, mapping serde's errors to fenrun's with the JSON path.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T> {
    // Fast path without path tracking; only a failing document is parsed again
    // with serde_path_to_error to name the offending value.
    if let Ok(value) = serde_json::from_str::<T>(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T =
        serde_path_to_error::deserialize(&mut de).map_err(|e| classify(e, Origin::Text))?;
    de.end().map_err(|e| Error::InvalidJson {
        path: location(&e),
        detail: strip_location(&e.to_string()),
    })?;
    Ok(value)
}

/// Parse raw bytes (which must be UTF-8) as a `T`.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::InvalidJson {
        path: format!("byte {}", e.valid_up_to()),
        detail: "input is not UTF-8".to_owned(),
    })?;
    from_str(text)
}

/// `sha256:` and the hex SHA-256 of `value`'s canonical JSON: object keys in
/// byte order, no whitespace, strings, numbers and literals as serde_json
/// writes them (see [`crate::Policy::fingerprint`]).
pub(crate) fn fingerprint(value: &serde_json::Value) -> String {
    use sha2::Digest;
    let mut text = String::new();
    canonical(value, &mut text);
    hex("sha256:", &sha2::Sha256::digest(text.as_bytes()))
}

/// `prefix` and `bytes` in lower-case hex.
pub(crate) fn hex(prefix: &str, bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(prefix.len() + 2 * bytes.len());
    out.push_str(prefix);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Write `value` canonically: objects with their keys sorted whatever map
/// type serde_json was built with. (Recursion over a document's nesting, a
/// policy's few levels, not over members.)
fn canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    let scalar = |v: &Value, out: &mut String| out.push_str(&v.to_string());
    match value {
        Value::Array(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (k, key) in keys.into_iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                scalar(&Value::String(key.clone()), out);
                out.push(':');
                if let Some(v) = map.get(key) {
                    canonical(v, out);
                }
            }
            out.push('}');
        }
        other => scalar(other, out),
    }
}

/// Convert an already parsed JSON value (a binding's dict) into a `T`.
pub(crate) fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| classify(e, Origin::Value))
}

/// Where a document came from, for the wording of a float: JSON text has
/// numbers, a binding's value (a Python dict, a JavaScript object) has floats.
#[derive(Clone, Copy)]
enum Origin {
    Text,
    Value,
}

fn location(e: &serde_json::Error) -> String {
    format!("line {} column {}", e.line(), e.column())
}

fn strip_location(msg: &str) -> String {
    match msg.rsplit_once(" at line ") {
        Some((head, _)) => head.to_owned(),
        None => msg.to_owned(),
    }
}

fn classify(err: serde_path_to_error::Error<serde_json::Error>, origin: Origin) -> Error {
    let path = display_path(err.path());
    let inner = err.into_inner();
    let msg = strip_location(&inner.to_string());
    if !matches!(inner.classify(), serde_json::error::Category::Data) {
        return Error::InvalidJson {
            path: if inner.line() > 0 {
                location(&inner)
            } else {
                path
            },
            detail: msg,
        };
    }
    if let Some(rest) = msg.strip_prefix(FLOAT_MARK) {
        let (shown, float) = rest.split_once(FLOAT_MARK).unwrap_or((rest, rest));
        let detail = match origin {
            Origin::Text => format!("the JSON number {shown}"),
            Origin::Value => format!("a float ({float})"),
        };
        return Error::FloatNumber { path, detail };
    }
    if let Some(rest) = msg.strip_prefix(DECIMAL_MARK) {
        return Error::InvalidDecimal {
            path,
            detail: rest.to_owned(),
        };
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default().to_owned();
        // serde_path_to_error's path ends at the unknown key; report the record.
        let record = match path.strip_suffix(&field) {
            Some(p) if !p.trim_end_matches('.').is_empty() => p.trim_end_matches('.').to_owned(),
            Some(_) => "$".to_owned(),
            None => path,
        };
        return Error::UnknownField {
            path: record,
            field,
        };
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default().to_owned();
        return Error::MissingField { path, field };
    }
    if msg.starts_with("invalid type") {
        return Error::InvalidType { path, detail: msg };
    }
    if msg.starts_with("data did not match any variant") {
        return Error::InvalidValue {
            path,
            detail: "expected \"equal\" or {\"weighted_by\": metric}".to_owned(),
        };
    }
    Error::InvalidValue { path, detail: msg }
}

fn display_path(path: &serde_path_to_error::Path) -> String {
    let p = path.to_string();
    if p == "." {
        "$".to_owned()
    } else {
        p
    }
}
