//! Human explanations of one order's lines (`fenrun explain --order o17`).

use rust_decimal::Decimal;

use crate::batch::Event;
use crate::error::{Error, Result};
use crate::graph::NONE;
use crate::money::{money_string, short_string};
use crate::policy::RuleKind;
use crate::settle::Engine;

pub(crate) fn explain(engine: &Engine<'_>, order_id: &str) -> Result<Vec<String>> {
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
    let rank_of = |m: u32| {
        let r = ranking.rank.get(m as usize).copied().unwrap_or(0);
        (policy.rank_id(r).to_owned(), policy.rank_rate(r))
    };
    let who = |m: u32| {
        let (rank, _) = rank_of(m);
        let inactive = if ranking.active.get(m as usize).copied().unwrap_or(false) {
            ""
        } else {
            ", inactive"
        };
        format!("{} ({rank}{inactive})", batch.id(m))
    };
    let mut out = vec![format!(
        "order {order_id}: seller {}, amount {}",
        who(order.seller),
        money(order.amount)
    )];
    let part = engine.order_lines(event)?;
    let cap = policy
        .order_cap()
        .and_then(|c| c.checked_mul(order.amount))
        .map(|x| policy.rounding().round(x));
    // The member paid before each differential line, per rule, for "m4 over m9".
    let mut prev_diff: Vec<Option<u32>> = vec![None; policy.rules().len()];
    for l in &part.lines {
        let Some(rule) = policy.rules().get(usize::from(l.rule)) else {
            continue;
        };
        let promised = l
            .rate
            .checked_mul(l.base)
            .map_or(l.amount, |x| policy.rounding().round(x));
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
        let mut text = match &rule.kind {
            RuleKind::Levels { .. } if l.level == 0 => format!(
                "{} {}: level 0, the seller {}: {calc}",
                rule.id,
                rule.kind.type_name(),
                who(l.beneficiary)
            ),
            RuleKind::Levels { .. } => format!(
                "{} {}: level {}, {} above seller {}: {calc}",
                rule.id,
                rule.kind.type_name(),
                l.level,
                who(l.beneficiary),
                batch.id(order.seller)
            ),
            RuleKind::Differential => {
                let (rank, rate) = rank_of(l.beneficiary);
                let slot = prev_diff.get_mut(usize::from(l.rule));
                let below = slot.as_ref().and_then(|p| **p);
                let over = match below {
                    Some(p) => {
                        let (prank, prate) = rank_of(p);
                        format!(" over {} ({prank}, {})", batch.id(p), short_string(prate))
                    }
                    None => ", first paid in the chain".to_owned(),
                };
                if let Some(s) = slot {
                    *s = Some(l.beneficiary);
                }
                format!(
                    "{} {}: {} ({rank}, rate {}){over}: {calc}",
                    rule.id,
                    rule.kind.type_name(),
                    batch.id(l.beneficiary),
                    short_string(rate)
                )
            }
            RuleKind::Peer { .. } => format!(
                "{} {}: {}, {} levels above seller {}, matching rank: {calc}",
                rule.id,
                rule.kind.type_name(),
                who(l.beneficiary),
                l.level,
                who(order.seller)
            ),
            RuleKind::Pool { .. } => continue,
        };
        if promised != l.amount {
            text.push_str(&format!(
                " (cut from {} by the order cap of {})",
                money(promised),
                cap.map(money).unwrap_or_default()
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
