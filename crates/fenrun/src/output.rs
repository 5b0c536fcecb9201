//! Canonical JSON output (§9, §11): compact, fields in the order §9 lists,
//! optional fields omitted, money at the policy scale, other decimals in
//! shortest form, maps sorted by id. The same input gives the same bytes.
//!
//! Serialized straight from the settlement: no intermediate document, and
//! decimals are formatted into the writer without a `String` per value.

use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::lines::LineView;
use crate::money::{Money, Short};
use crate::rank::RankChange;
use crate::settle::Settlement;
use crate::stats::Stats;

struct LineOut<'a>(LineView<'a>, u32);

impl Serialize for LineOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (l, scale) = (&self.0, self.1);
        let fields = 4
            + usize::from(l.order.is_some())
            + usize::from(l.refund.is_some())
            + usize::from(l.rule.is_some())
            + usize::from(l.level.is_some())
            + usize::from(l.rate.is_some() || l.fixed.is_some() || l.weight.is_some())
            + usize::from(l.available_at.is_some());
        let mut st = s.serialize_struct("Line", fields)?;
        if let Some(order) = l.order {
            st.serialize_field("order", order)?;
        }
        if let Some(refund) = l.refund {
            st.serialize_field("refund", refund)?;
        }
        if let Some(rule) = l.rule {
            st.serialize_field("rule", rule)?;
        }
        st.serialize_field("kind", l.kind)?;
        st.serialize_field("beneficiary", l.beneficiary)?;
        if let Some(level) = l.level {
            st.serialize_field("level", &level)?;
        }
        st.serialize_field("base", &Money(l.base, scale))?;
        if let Some(rate) = l.rate {
            st.serialize_field("rate", &Short(rate))?;
        }
        if let Some(fixed) = l.fixed {
            st.serialize_field("fixed", &Money(fixed, scale))?;
        }
        if let Some(weight) = l.weight {
            st.serialize_field("weight", &Short(weight))?;
        }
        st.serialize_field("amount", &Money(l.amount, scale))?;
        if let Some(at) = &l.available_at {
            st.serialize_field("available_at", at)?;
        }
        st.end()
    }
}

/// One line's canonical JSON (§9), money at `scale`.
pub(crate) fn line_json(line: LineView<'_>, scale: u32) -> String {
    // Strings, integers and decimals always serialize.
    serde_json::to_string(&LineOut(line, scale)).unwrap_or_default()
}

struct Lines<'a>(&'a Settlement);

impl Serialize for Lines<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.line_count()))?;
        for l in self.0.lines() {
            seq.serialize_element(&LineOut(l, self.0.scale()))?;
        }
        seq.end()
    }
}

/// Totals are already sorted by member id.
struct Totals<'a>(&'a Settlement);

impl Serialize for Totals<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (x, scale) = (self.0, self.0.scale());
        let mut m = s.serialize_map(None)?;
        if x.as_of().is_some() {
            for (member, net, available, pending) in x.split_totals() {
                m.serialize_entry(member, &Split([net, available, pending], scale))?;
            }
        } else {
            for (member, t) in x.totals() {
                m.serialize_entry(member, &Money(t, scale))?;
            }
        }
        m.end()
    }
}

/// A total split at a settlement's `as_of` (§14.1): `{net, available, pending}`.
struct Split([rust_decimal::Decimal; 3], u32);

impl Serialize for Split {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Split([net, available, pending], scale) = *self;
        let mut st = s.serialize_struct("Total", 3)?;
        st.serialize_field("net", &Money(net, scale))?;
        st.serialize_field("available", &Money(available, scale))?;
        st.serialize_field("pending", &Money(pending, scale))?;
        st.end()
    }
}

/// Breakage keeps policy order.
struct Breakage<'a>(&'a Settlement);

impl Serialize for Breakage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (rule, b) in self.0.breakage() {
            m.serialize_entry(rule, &Money(b, self.0.scale()))?;
        }
        m.end()
    }
}

/// A settlement's §9 summary as its JSON object, with the measures of
/// `--stats` when asked.
pub(crate) struct SummaryOut<'a>(pub &'a Settlement, pub Option<&'a Stats>);

impl Serialize for SummaryOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        let scale = x.scale();
        let fields = 5
            + usize::from(x.pending_total().is_some())
            + usize::from(x.member_cap_cut().is_some())
            + usize::from(self.1.is_some());
        let mut st = s.serialize_struct("Summary", fields)?;
        st.serialize_field("net_sales", &Money(x.net_sales(), scale))?;
        st.serialize_field("total_paid", &Money(x.total_paid(), scale))?;
        st.serialize_field("payout_ratio", &x.payout_ratio().map(Short))?;
        st.serialize_field("breakage", &Breakage(x))?;
        st.serialize_field("cap_cut", &Money(x.cap_cut(), scale))?;
        if let Some(pending) = x.pending_total() {
            st.serialize_field("pending_total", &Money(pending, scale))?;
        }
        if let Some(cut) = x.member_cap_cut() {
            st.serialize_field("member_cap_cut", &Money(cut, scale))?;
        }
        if let Some(stats) = self.1 {
            st.serialize_field("stats", stats)?;
        }
        st.end()
    }
}

/// The §9 document, with the measures in its summary when asked.
struct Document<'a>(&'a Settlement, Option<&'a Stats>);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        let mut st = s.serialize_struct("Settlement", 4)?;
        st.serialize_field("lines", &Lines(x))?;
        st.serialize_field("totals", &Totals(x))?;
        st.serialize_field("rank_changes", x.rank_changes())?;
        st.serialize_field("summary", &SummaryOut(x, self.1))?;
        st.end()
    }
}

impl Serialize for Settlement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Document(self, None).serialize(s)
    }
}

/// The rank-changes document of `fenrun ranks`: `{"rank_changes": [...]}`.
#[derive(Serialize)]
struct RanksOut<'a> {
    rank_changes: &'a [RankChange],
}

fn to_string<T: Serialize>(v: &T) -> String {
    // Serializing into memory cannot fail: every value here is a string, integer or list of them.
    serde_json::to_string(v).unwrap_or_default()
}

pub(crate) fn summary_json(s: &Settlement) -> String {
    to_string(&SummaryOut(s, None))
}

pub(crate) fn settlement_json(s: &Settlement) -> String {
    settlement_json_with(s, None)
}

pub(crate) fn settlement_json_with(s: &Settlement, stats: Option<&Stats>) -> String {
    to_string(&Document(s, stats))
}

/// Write the settlement's canonical JSON to `w`.
pub(crate) fn write_settlement_json<W: std::io::Write>(
    s: &Settlement,
    w: W,
) -> std::io::Result<()> {
    write_settlement_json_with(s, None, w)
}

/// Write the settlement's canonical JSON, with `stats` in its summary, to `w`.
pub(crate) fn write_settlement_json_with<W: std::io::Write>(
    s: &Settlement,
    stats: Option<&Stats>,
    w: W,
) -> std::io::Result<()> {
    serde_json::to_writer(w, &Document(s, stats)).map_err(std::io::Error::other)
}

pub(crate) fn ranks_json(changes: &[RankChange]) -> String {
    to_string(&RanksOut {
        rank_changes: changes,
    })
}
