//! Settlement spread over machines (SPEC §10.6): the metric sums of parts
//! of a batch's orders, merged exactly; ranks evaluated once from the merged
//! sums; each part's order lines and totals; pools, member caps, totals and
//! summary from the merged parts. Sums and parts cross machines as bytes:
//! versioned text naming the policy and the member table they belong to.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::batch::Batch;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ids::idx32;
use crate::policy::{Needs, Policy};
use crate::settle::Part;

const SUMS_MAGIC: &str = "fenrun-sums";
const PART_MAGIC: &str = "fenrun-part";
/// The version of both byte forms.
const VERSION: u32 = 1;

/// The metrics some of a batch's orders and refunds give (SPEC §3): sales
/// and purchases per member (when the policy reads them) and net sales.
/// Sums of parts of the orders, each refund with its order, merge exactly
/// into the sums of the whole ([`Sums::merge`]); [`Engine::with_sums`]
/// evaluates ranks from them.
///
/// ```
/// let policy = fenrun::Policy::from_json(r#"{"version": 2, "evaluate_ranks": true,
///   "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.10",
///             "upgrade": {"metric": "sales", "gte": 100}}],
///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
/// let members = r#"[{"id": "m1"}, {"id": "m2", "sponsor": "m1"}]"#;
/// let part = |events: &str| fenrun::Batch::from_json(
///     &format!(r#"{{"members": {members}, "events": {events}}}"#), &policy);
/// // Two machines, each with some orders: neither alone sees m2 reach 100.
/// let a = part(r#"[{"id": "o1", "seller": "m2", "amount": "60.00"}]"#)?;
/// let b = part(r#"[{"id": "o2", "seller": "m2", "amount": "50.00"}]"#)?;
/// let sums = fenrun::Sums::of(&policy, &a)?.merge(fenrun::Sums::of(&policy, &b)?)?;
/// // The bytes travel; each machine settles its orders with the merged ranks.
/// let sums = fenrun::Sums::from_bytes(&sums.to_bytes())?;
/// let engine_a = fenrun::Engine::with_sums(&policy, a, &sums)?;
/// let engine_b = fenrun::Engine::with_sums(&policy, b, &sums)?;
/// let bytes = engine_b.part_bytes(&engine_b.settle_part(|_| true)?)?;
/// // One engine (any, or one of the members alone) merges and finishes.
/// let whole = engine_a.settle_part(|_| true)?.merge(engine_a.read_part(&bytes)?)?;
/// let settled = engine_a.finish(whole)?;
/// assert_eq!(settled.total_of("m2").unwrap().to_string(), "11.00");
/// assert_eq!(engine_a.rank_of("m2"), Some("owner"));
/// # Ok::<(), fenrun::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sums {
    policy: String,
    members: String,
    count: usize,
    /// By member index; empty when the policy reads no per-member sum.
    sales: Vec<Decimal>,
    purchases: Vec<Decimal>,
    net_sales: Decimal,
}

/// The first record of [`Sums::to_bytes`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SumsHeader {
    policy: String,
    members: String,
    count: usize,
    per_member: bool,
    net_sales: String,
    rows: usize,
}

/// The first record of [`Engine::part_bytes`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartHeader {
    policy: String,
    members: String,
    count: usize,
    breakage: Vec<String>,
    cap_cut: String,
    paid: String,
    rows: usize,
}

fn invalid(path: &str, detail: impl Into<String>) -> Error {
    Error::InvalidPart {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

/// `policy` settles in parts, or `not_splittable`.
fn splittable(policy: &Policy) -> Result<()> {
    if policy.is_immediate() {
        return Err(Error::NotSplittable {
            path: "policy.rank_timing".into(),
            detail: "an immediate policy is sequential (SPEC §13): each order reads the ranks the orders before it made, so it cannot be settled in parts; settle it on one machine (fenrun settle, or a ledger)".into(),
        });
    }
    Ok(())
}

/// The fingerprint of `batch`'s member table: its ids and sponsors in order,
/// which every part must share for member indices to agree.
fn members_fingerprint(batch: &Batch) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for (m, parent) in batch.forest.parent.iter().enumerate() {
        hasher.update(batch.id(idx32(m)).as_bytes());
        hasher.update(b"\t");
        hasher.update(parent.to_le_bytes());
        hasher.update(b"\n");
    }
    crate::doc::hex("sha256:", &hasher.finalize())
}

fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(|| Error::Overflow {
        path: "sums".into(),
        detail: what.to_owned(),
    })
}

fn decimal(text: &str, path: &str) -> Result<Decimal> {
    crate::input::parse_decimal(text, path).map_err(|e| invalid(path, e.to_string()))
}

/// The text of `bytes` after `magic`'s line, its header and the rest.
fn records<'a>(bytes: &'a [u8], magic: &str, path: &str) -> Result<(&'a str, &'a str)> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        invalid(
            path,
            format!("not UTF-8 text (at byte {})", e.valid_up_to()),
        )
    })?;
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let version = first
        .strip_prefix(magic)
        .and_then(|v| v.strip_prefix(' '))
        .ok_or_else(|| invalid(path, format!("it does not begin with \"{magic}\"")))?;
    if version != VERSION.to_string() {
        return Err(invalid(
            path,
            format!("version {version}; this fenrun reads version {VERSION}"),
        ));
    }
    Ok(rest.split_once('\n').unwrap_or((rest, "")))
}

/// Rows of `index\tvalue…` after the header: `rows` of them, each index
/// below `count`, each with `fields` values.
fn rows<'a>(
    body: &'a str,
    rows: usize,
    count: usize,
    fields: usize,
    path: &'a str,
) -> impl Iterator<Item = Result<(usize, Vec<&'a str>)>> + 'a {
    let mut lines = body.split_terminator('\n');
    let mut k = 0;
    std::iter::from_fn(move || {
        if k == rows {
            return lines
                .next()
                .map(|_| Err(invalid(path, format!("more than its {rows} rows"))));
        }
        k += 1;
        let here = format!("{path} row {k}");
        let Some(line) = lines.next() else {
            return Some(Err(invalid(
                path,
                format!("truncated: {} of {rows} rows", k - 1),
            )));
        };
        let mut cells = line.split('\t');
        let index = cells.next().and_then(|c| c.parse::<usize>().ok());
        let values: Vec<&str> = cells.collect();
        Some(match index {
            Some(m) if m < count && values.len() == fields => Ok((m, values)),
            _ => Err(invalid(
                &here,
                "not a member index below the count and its values",
            )),
        })
    })
}

impl Sums {
    /// The sums of `batch`'s orders and refunds under `policy` (the one the
    /// batch was validated against). `not_splittable` for an `immediate` policy.
    pub fn of(policy: &Policy, batch: &Batch) -> Result<Sums> {
        splittable(policy)?;
        let (sales, purchases, net_sales) = crate::rank::sums_of(batch, Needs::of(policy))?;
        Ok(Sums {
            policy: policy.fingerprint().to_owned(),
            members: members_fingerprint(batch),
            count: batch.ids.len(),
            sales,
            purchases,
            net_sales,
        })
    }

    /// The sums of both parts. Parts of other policies or member tables are `invalid_part`.
    pub fn merge(mut self, other: Sums) -> Result<Sums> {
        if self.policy != other.policy || self.members != other.members {
            return Err(invalid(
                "sums",
                "the parts were made with different policies or member tables",
            ));
        }
        for (mine, theirs) in [
            (&mut self.sales, other.sales),
            (&mut self.purchases, other.purchases),
        ] {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a = add(*a, b, "a member's merged sums")?;
            }
        }
        self.net_sales = add(self.net_sales, other.net_sales, "merged net sales")?;
        Ok(self)
    }

    /// The sums of every part merged, in any order; no part at all is
    /// `invalid_part` (there is no member table to name).
    pub fn merge_all(parts: impl IntoIterator<Item = Sums>) -> Result<Sums> {
        let mut parts = parts.into_iter();
        let first = parts
            .next()
            .ok_or_else(|| invalid("sums", "no sums to merge"))?;
        parts.try_fold(first, Sums::merge)
    }

    /// Net sales of the orders and refunds summed.
    pub fn net_sales(&self) -> Decimal {
        self.net_sales
    }

    /// The sums as bytes for another process: UTF-8 text, `fenrun-sums 1`,
    /// a JSON header (policy and member-table fingerprints, member count, net
    /// sales, rows), then one row per member with a sale or purchase:
    /// `index<TAB>sales<TAB>purchases`. Decimals keep their scale.
    pub fn to_bytes(&self) -> Vec<u8> {
        use std::fmt::Write;
        let rows: Vec<usize> = (0..self.sales.len())
            .filter(|&m| {
                !self.sales.get(m).is_none_or(Decimal::is_zero)
                    || !self.purchases.get(m).is_none_or(Decimal::is_zero)
            })
            .collect();
        let header = SumsHeader {
            policy: self.policy.clone(),
            members: self.members.clone(),
            count: self.count,
            per_member: !self.sales.is_empty(),
            net_sales: self.net_sales.to_string(),
            rows: rows.len(),
        };
        let mut out = format!("{SUMS_MAGIC} {VERSION}\n{}\n", json(&header));
        for m in rows {
            let at = |v: &[Decimal]| v.get(m).copied().unwrap_or_default();
            let (sales, purchases) = (at(&self.sales), at(&self.purchases));
            let _ = writeln!(out, "{m}\t{sales}\t{purchases}");
        }
        out.into_bytes()
    }

    /// Sums from [`Sums::to_bytes`]; anything else is `invalid_part`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Sums> {
        let (header, body) = records(bytes, SUMS_MAGIC, "sums")?;
        let h: SumsHeader =
            serde_json::from_str(header).map_err(|e| invalid("sums line 2", e.to_string()))?;
        let n = if h.per_member { h.count } else { 0 };
        if n > bytes.len() {
            return Err(invalid("sums", "a member count larger than the bytes"));
        }
        let mut sums = Sums {
            policy: h.policy,
            members: h.members,
            count: h.count,
            sales: vec![Decimal::ZERO; n],
            purchases: vec![Decimal::ZERO; n],
            net_sales: decimal(&h.net_sales, "sums line 2")?,
        };
        for row in rows(body, h.rows, n, 2, "sums") {
            let (m, values) = row?;
            for (column, text) in [&mut sums.sales, &mut sums.purchases]
                .into_iter()
                .zip(values)
            {
                if let Some(slot) = column.get_mut(m) {
                    *slot = decimal(text, "sums")?;
                }
            }
        }
        Ok(sums)
    }
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Engine {
    /// An engine for `batch` (its members and groups, and any part of the
    /// orders) whose ranks and activity are evaluated from `sums`, the merged
    /// sums of the whole period's orders: what each machine of a settlement
    /// spread over many does (§10.6). [`Engine::settle_part`] then settles
    /// the batch's own orders; [`Engine::finish`] on the merged parts adds
    /// pools and member caps from the merged sums. Sums of another policy or
    /// member table are `invalid_part`; an `immediate` policy is `not_splittable`.
    pub fn with_sums(policy: &Policy, batch: Batch, sums: &Sums) -> Result<Engine> {
        splittable(policy)?;
        if sums.policy != policy.fingerprint() {
            return Err(invalid("sums", "they were made with another policy"));
        }
        if sums.count != batch.ids.len() || sums.members != members_fingerprint(&batch) {
            return Err(invalid(
                "sums",
                "they were made with another member table (ids and sponsors, in order)",
            ));
        }
        let metrics = crate::rank::Metrics::of_sums(
            &batch,
            policy.ranks().len(),
            Needs::of(policy),
            (sums.sales.clone(), sums.purchases.clone(), sums.net_sales),
        )?;
        let ranking = crate::rank::evaluate_on(policy, &batch, metrics)?;
        Ok(Engine {
            state: crate::state::State::with_ranking(policy, batch, ranking)?,
        })
    }

    /// Every order of the batch with its refunds settled without lines:
    /// the part [`Engine::part_bytes`] sends for the totals, the fastest way.
    pub fn settle_totals_part(&self) -> Result<Part> {
        self.state.totals_part()
    }

    /// A part's totals, breakage and cap cut as bytes for another process
    /// (its lines stay here): UTF-8 text, `fenrun-part 1`, a JSON header
    /// (policy and member-table fingerprints, member count, breakage per
    /// rule, cap cut, paid, rows), then `index<TAB>net` for every member
    /// with a line.
    pub fn part_bytes(&self, part: &Part) -> Result<Vec<u8>> {
        use std::fmt::Write;
        let rows: Vec<usize> = (0..part.has_line.len())
            .filter(|&m| part.has_line.get(m).copied().unwrap_or(false))
            .collect();
        let header = PartHeader {
            policy: self.state.policy.fingerprint().to_owned(),
            members: members_fingerprint(&self.state.batch),
            count: self.state.batch.ids.len(),
            breakage: part.breakage.iter().map(Decimal::to_string).collect(),
            cap_cut: part.cap_cut.to_string(),
            paid: part.paid()?.to_string(),
            rows: rows.len(),
        };
        let mut out = format!("{PART_MAGIC} {VERSION}\n{}\n", json(&header));
        for m in rows {
            let _ = writeln!(out, "{m}\t{}", part.total(m)?);
        }
        Ok(out.into_bytes())
    }

    /// A part from [`Engine::part_bytes`] of an engine of the same policy and
    /// member table (without its lines), to [`Part::merge`] and
    /// [`Engine::finish`] here; anything else is `invalid_part`.
    pub fn read_part(&self, bytes: &[u8]) -> Result<Part> {
        let (header, body) = records(bytes, PART_MAGIC, "part")?;
        let h: PartHeader =
            serde_json::from_str(header).map_err(|e| invalid("part line 2", e.to_string()))?;
        let n = self.state.batch.ids.len();
        if h.policy != self.state.policy.fingerprint() {
            return Err(invalid("part", "it was made with another policy"));
        }
        if h.count != n || h.members != members_fingerprint(&self.state.batch) {
            return Err(invalid("part", "it was made with another member table"));
        }
        if h.breakage.len() != self.state.policy.rules().len() {
            return Err(invalid("part line 2", "not one breakage per rule"));
        }
        let mut part = Part::new(n, h.breakage.len(), self.state.policy.rounding().scale);
        for (slot, text) in part.breakage.iter_mut().zip(&h.breakage) {
            *slot = decimal(text, "part line 2")?;
        }
        part.cap_cut = decimal(&h.cap_cut, "part line 2")?;
        part.set_paid(decimal(&h.paid, "part line 2")?)?;
        for row in rows(body, h.rows, n, 1, "part") {
            let (m, values) = row?;
            let net = values
                .first()
                .map_or(Ok(Decimal::ZERO), |t| decimal(t, "part"))?;
            part.set_total(m, net)?;
        }
        Ok(part)
    }
}
