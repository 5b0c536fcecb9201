//! Two policies settled on one batch, side by side (what-if analysis): each
//! member's rank and total under policy A and policy B with the change, and
//! each side's summary and distribution measures.

use std::cmp::Ordering;

use rust_decimal::Decimal;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::error::{Error, Result};
use crate::ids::{MemberId, RankId};
use crate::money::Money;
use crate::settle::Settlement;
use crate::state::State;
use crate::stats::{check_same, stats, totals_by_member, Stats};

/// Policy A and policy B on one batch, from [`crate::compare`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Comparison {
    /// Every member of the batch, the largest change first: by |delta|
    /// descending, then by member id.
    pub members: Vec<MemberDelta>,
    /// Policy A's side.
    pub a: Side,
    /// Policy B's side.
    pub b: Side,
}

/// One member under both policies.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MemberDelta {
    /// The member.
    pub member: MemberId,
    /// Its rank after evaluation under policy A.
    pub rank_a: RankId,
    /// Its rank after evaluation under policy B.
    pub rank_b: RankId,
    /// Its total under policy A (zero without a line).
    pub total_a: Decimal,
    /// Its total under policy B.
    pub total_b: Decimal,
    /// `total_b − total_a`.
    pub delta: Decimal,
}

/// One policy's settlement of the batch, its lines left out, and its measures.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Side {
    /// The settlement: totals, rank changes and summary (no lines).
    pub settlement: Settlement,
    /// Its distribution measures.
    pub stats: Stats,
}

/// Compare two settlements of one batch, each with the state that made it.
pub(crate) fn compare(a: (&State, &Settlement), b: (&State, &Settlement)) -> Result<Comparison> {
    check_same(a.0, a.1)?;
    check_same(b.0, b.1)?;
    let (ids_a, ids_b) = (&a.0.batch.ids, &b.0.batch.ids);
    let n = ids_a.len();
    let different = |detail: String| Error::InvalidValue {
        path: "batch".into(),
        detail,
    };
    if ids_b.len() != n {
        return Err(different(format!(
            "the two settlements are of different batches ({n} and {} members); compare two policies on one batch",
            ids_b.len()
        )));
    }
    let total_a = totals_by_member(a.0, a.1);
    let total_b = totals_by_member(b.0, b.1);
    let mut members = Vec::with_capacity(n);
    for m in 0..n {
        let i = crate::ids::idx32(m);
        let (id, other) = (ids_a.get(i), ids_b.get(i));
        if id != other {
            return Err(different(format!(
                "the two settlements are of different batches (member {m} is \"{id}\" in one and \"{other}\" in the other); compare two policies on one batch"
            )));
        }
        let ta = total_a.get(m).copied().unwrap_or_default();
        let tb = total_b.get(m).copied().unwrap_or_default();
        let delta = tb.checked_sub(ta).ok_or_else(|| Error::Overflow {
            path: format!("members[{m}]"),
            detail: "delta".into(),
        })?;
        members.push(MemberDelta {
            member: MemberId::from(id),
            rank_a: RankId::from(a.0.rank_id(m)),
            rank_b: RankId::from(b.0.rank_id(m)),
            total_a: ta,
            total_b: tb,
            delta,
        });
    }
    members.sort_by(row_order);
    let side = |(state, s): (&State, &Settlement)| -> Result<Side> {
        Ok(Side {
            stats: stats(state, s)?,
            settlement: s.without_lines(),
        })
    };
    Ok(Comparison {
        members,
        a: side(a)?,
        b: side(b)?,
    })
}

impl Comparison {
    /// The comparison as its canonical JSON document:
    /// `{"members": [...], "a": {"summary", "stats"}, "b": {...}}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The money scales of A and B.
    fn scales(&self) -> (u32, u32) {
        (self.a.settlement.scale(), self.b.settlement.scale())
    }
}

impl Serialize for Comparison {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (sa, sb) = self.scales();
        let rows: Vec<RowOut<'_>> = self.members.iter().map(|m| RowOut(m, sa, sb)).collect();
        let mut st = s.serialize_struct("Comparison", 3)?;
        st.serialize_field("members", &rows)?;
        st.serialize_field("a", &SideOut(&self.a))?;
        st.serialize_field("b", &SideOut(&self.b))?;
        st.end()
    }
}

struct RowOut<'a>(&'a MemberDelta, u32, u32);

impl Serialize for RowOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let RowOut(m, sa, sb) = *self;
        let mut st = s.serialize_struct("MemberDelta", 6)?;
        st.serialize_field("member", &m.member)?;
        st.serialize_field("rank_a", &m.rank_a)?;
        st.serialize_field("rank_b", &m.rank_b)?;
        st.serialize_field("total_a", &Money(m.total_a, sa))?;
        st.serialize_field("total_b", &Money(m.total_b, sb))?;
        st.serialize_field("delta", &Money(m.delta, sa.max(sb)))?;
        st.end()
    }
}

struct SideOut<'a>(&'a Side);

impl Serialize for SideOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Side", 2)?;
        st.serialize_field(
            "summary",
            &crate::output::SummaryOut(&self.0.settlement, None),
        )?;
        st.serialize_field("stats", &self.0.stats)?;
        st.end()
    }
}

impl Side {
    /// The side as JSON: `{"summary": {...}, "stats": {...}}`, as in the
    /// comparison document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&SideOut(self)).unwrap_or_default()
    }
}

/// Order of member rows: the largest change first, then by id.
fn row_order(x: &MemberDelta, y: &MemberDelta) -> Ordering {
    y.delta
        .abs()
        .cmp(&x.delta.abs())
        .then_with(|| x.member.as_str().cmp(y.member.as_str()))
}
