//! Canonical JSON output (§9, §11): compact, fields in the order §9 lists,
//! optional fields omitted, money at the policy scale, other decimals in
//! shortest form, maps sorted by id. The same input gives the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::money::{money_string, short_string};
use crate::rank::RankChange;
use crate::settle::Settlement;

#[derive(Serialize)]
struct LineOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund: Option<&'a str>,
    rule: &'a str,
    kind: &'a str,
    beneficiary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<u32>,
    base: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<String>,
    amount: String,
}

#[derive(Serialize)]
struct SummaryOut<'a> {
    net_sales: String,
    total_paid: String,
    payout_ratio: Option<String>,
    breakage: Breakage<'a>,
    cap_cut: String,
}

/// Breakage keeps policy order, which a sorted map would lose.
struct Breakage<'a>(Vec<(&'a str, String)>);

impl Serialize for Breakage<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct SettlementOut<'a> {
    lines: Vec<LineOut<'a>>,
    totals: BTreeMap<&'a str, String>,
    rank_changes: &'a [RankChange],
    summary: SummaryOut<'a>,
}

/// The rank-changes document of `fenrun ranks`: `{"rank_changes": [...]}`.
#[derive(Serialize)]
struct RanksOut<'a> {
    rank_changes: &'a [RankChange],
}

fn to_string<T: Serialize>(v: &T) -> String {
    // Serializing plain structs of strings and integers cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

pub(crate) fn settlement_json(s: &Settlement) -> String {
    let scale = s.scale();
    let money = |d| money_string(d, scale);
    let doc = SettlementOut {
        lines: s
            .lines()
            .map(|l| LineOut {
                order: l.order,
                refund: l.refund,
                rule: l.rule,
                kind: l.kind,
                beneficiary: l.beneficiary,
                level: l.level,
                base: money(l.base),
                rate: l.rate.map(short_string),
                weight: l.weight.map(short_string),
                amount: money(l.amount),
            })
            .collect(),
        totals: s.totals().map(|(m, t)| (m, money(t))).collect(),
        rank_changes: s.rank_changes(),
        summary: SummaryOut {
            net_sales: money(s.net_sales()),
            total_paid: money(s.total_paid()),
            payout_ratio: s.payout_ratio().map(short_string),
            breakage: Breakage(s.breakage().map(|(r, b)| (r, money(b))).collect()),
            cap_cut: money(s.cap_cut()),
        },
    };
    to_string(&doc)
}

pub(crate) fn ranks_json(changes: &[RankChange]) -> String {
    to_string(&RanksOut {
        rank_changes: changes,
    })
}
