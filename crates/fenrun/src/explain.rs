//! Human explanations of one order's lines (`fenrun explain --order o17`).

use rust_decimal::Decimal;

use crate::batch::Batch;
use crate::batch::Event;
use crate::error::{Error, Must, Result};
use crate::graph::NONE;
use crate::money::{money_string, short_string};
use crate::policy::Policy;
use crate::rank::Ranking;
use crate::rule::{Names, Said};
use crate::state::State;

pub(crate) fn explain(engine: &State, order_id: &str) -> Result<Vec<String>> {
    let (policy, batch, ranking) = engine.parts();
    let scale = policy.rounding().scale;
    let not_found = || Error::OrderNotSettled {
        path: "order".into(),
        order: order_id.to_owned(),
    };
    let event = batch.event_ids.position(order_id).ok_or_else(not_found)?;
    let Some(Event::Order(order)) = batch.events.get(event) else {
        return Err(not_found());
    };
    let money = |d: Decimal| money_string(d, scale);
    let names = Members {
        policy,
        batch,
        ranking,
    };
    let mut out = vec![format!(
        "order {order_id}: seller {}, amount {}",
        names.who(order.seller)?,
        money(order.amount)
    )];
    let record = engine.order_record(event)?;
    let part = &record.part;
    let mut promised = record.promised.iter();
    // The member each rule paid on its line before, for "m4 over m9".
    let mut previous: Vec<Option<u32>> = vec![None; policy.rules().len()];
    for l in &part.lines {
        let Some(rule) = policy.rules().get(usize::from(l.rule)) else {
            continue;
        };
        let calc = format!(
            "{} × {} = {}",
            short_string(l.rate),
            money(l.base),
            money(l.amount.abs())
        );
        if l.refund != NONE {
            let refund = batch.event_ids.get(l.refund);
            out.push(format!(
                "refund {refund} of {} reverses {} of {}'s {} line ({}, level {})",
                money(l.base),
                money(l.amount),
                batch.id(l.beneficiary),
                rule.id,
                rule.kind.type_name(),
                l.level
            ));
            continue;
        }
        let promised = promised.next().copied().ok_or_else(|| Error::Internal {
            path: "order".into(),
            detail: format!("order {order_id} has more lines than the kernel paid"),
        })?;
        let said = Said {
            beneficiary: l.beneficiary,
            level: l.level,
            seller: order.seller,
            previous: previous.get(usize::from(l.rule)).copied().flatten(),
        };
        let Some(words) = rule.kind.describe(&said, &names)? else {
            continue;
        };
        if let Some(p) = previous.get_mut(usize::from(l.rule)) {
            *p = Some(l.beneficiary);
        }
        let mut text = format!("{} {}: {words}: {calc}", rule.id, rule.kind.type_name());
        if promised != l.amount {
            // Only the cap cuts a line: an order without one pays what it promised.
            let cap = record.cap.must("order", "order cap of a cut line")?;
            text.push_str(&format!(
                " (cut from {} by the order cap of {})",
                money(promised),
                money(cap)
            ));
        }
        out.push(text);
    }
    for (rule, b) in policy.rules().iter().zip(&part.breakage) {
        if !b.is_zero() {
            out.push(format!("{}: {} unpaid (breakage)", rule.id, money(*b)));
        }
    }
    if !part.cap_cut.is_zero() {
        out.push(format!("order cap: {} cut", money(part.cap_cut)));
    }
    Ok(out)
}

/// The members as explanations name them.
struct Members<'a> {
    policy: &'a Policy,
    batch: &'a Batch,
    ranking: &'a Ranking,
}

impl Names for Members<'_> {
    fn id(&self, m: u32) -> &str {
        self.batch.id(m)
    }

    fn who(&self, m: u32) -> Result<String> {
        let rank = self.policy.rank_id(self.ranking.rank(m)?)?;
        let inactive = if self.ranking.active(m)? {
            ""
        } else {
            ", inactive"
        };
        Ok(format!("{} ({rank}{inactive})", self.batch.id(m)))
    }

    fn rank(&self, m: u32) -> Result<(String, Decimal)> {
        let r = self.ranking.rank(m)?;
        Ok((
            self.policy.rank_id(r)?.to_owned(),
            self.policy.rank_rate(r)?,
        ))
    }
}
