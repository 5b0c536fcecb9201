//! Human explanations of one order's lines (`fenrun explain --order o17`).

use rust_decimal::Decimal;

use crate::batch::Batch;
use crate::batch::Event;
use crate::condition::Metric;
use crate::error::{Error, Must, Result};
use crate::graph::NONE;
use crate::ids::idx32;
use crate::money::{money_string, short_string};
use crate::policy::Policy;
use crate::rank::{Params, Ranking};
use crate::rule::{Names, RateSpec, Said};
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
    let category = match batch.events.category(event) {
        0 => String::new(),
        code => {
            let name = batch.categories.get(usize::from(code) - 1);
            let name = name.must("order", "category")?;
            let own = if engine.category_of(event)? == 0 {
                " (no rates of its own)"
            } else {
                ""
            };
            format!(", category {name}{own}")
        }
    };
    let units = match batch.events.quantity(event) {
        1 => String::new(),
        q => format!(", {q} units"),
    };
    let mut out = vec![format!(
        "order {order_id}: seller {}, amount {}{units}{category}",
        names.who(order.seller)?,
        money(order.amount)
    )];
    let times = batch.times.as_deref();
    if let Some(times) = times {
        out.push(times.words(idx32(event)));
    }
    let record = engine.order_record(event)?;
    let part = &record.part;
    let mut promised = record.promised.iter();
    // The member each rule paid on its line before, for "m4 over m9".
    let mut previous: Vec<Option<u32>> = vec![None; policy.rules().len()];
    for l in part.lines.iter() {
        let Some(rule) = policy.rules().get(usize::from(l.rule)) else {
            continue;
        };
        let (base, amount) = l.money(scale).must("order", "a line's amounts as money")?;
        let quantity = batch.events.quantity(event);
        let calc = if l.fixed {
            let (fixed, total) = if l.per_unit {
                let total = l
                    .rate
                    .checked_mul(Decimal::from(quantity))
                    .unwrap_or(l.rate);
                (format!("{} × {quantity}", money(l.rate)), total)
            } else {
                (money(l.rate), l.rate)
            };
            let clamped = if amount.abs() < total && total > base {
                format!(", at most the order's {}", money(base))
            } else {
                String::new()
            };
            format!("fixed {fixed}{clamped} = {}", money(amount.abs()))
        } else if policy.round_per_unit() && quantity > 1 {
            format!(
                "{} × {} rounded per unit of {quantity} = {}",
                short_string(l.rate),
                money(base),
                money(amount.abs())
            )
        } else {
            format!(
                "{} × {} = {}",
                short_string(l.rate),
                money(base),
                money(amount.abs())
            )
        };
        if l.refund != NONE {
            let refund = batch.event_ids.get(l.refund);
            let held = match times {
                Some(t) => format!(", {}", t.reversal(l.order, l.refund).words()),
                None => String::new(),
            };
            out.push(format!(
                "refund {refund} of {} reverses {} of {}'s {} line ({}, level {}){held}",
                money(base),
                money(amount),
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
            category: engine.category_of(event)?,
        };
        let Some(words) = rule.kind.describe(&said, &names)? else {
            continue;
        };
        if let Some(p) = previous.get_mut(usize::from(l.rule)) {
            *p = Some(l.beneficiary);
        }
        let mut text = format!("{} {}: {words}: {calc}", rule.id, rule.kind.type_name());
        if let Some(RateSpec::Steps(steps)) = rule.kind.spec(&said) {
            let value = names.value(l.beneficiary, &steps.metric)?;
            text.push_str(&format!(
                " (step rate: {} of {} {})",
                metric_words(policy, &steps.metric)?,
                batch.id(l.beneficiary),
                steps.at(value).words(steps, scale)
            ));
        }
        if promised != amount {
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
    // Refunds that wrote no line: after a whole-order refund, or a refund of
    // lines already available under a hold without clawback (§12.5).
    let reversed: Vec<u32> = part.lines.iter().map(|l| l.refund).collect();
    let mut first = true;
    for (j, e) in batch.events.iter().enumerate() {
        let Event::Refund(r) = e else { continue };
        if r.order_event as usize != event {
            continue;
        }
        let j = idx32(j);
        let why = if reversed.contains(&j) {
            None
        } else if policy.whole_refunds() && !first {
            Some("its order's first refund reversed all of it (refunds: whole)".to_owned())
        } else if let Some(t) = times.filter(|t| !t.hold.clawback) {
            match t.reversal(idx32(event), j) {
                crate::hold::Reversal::Clawback(at) => Some(format!(
                    "the lines were available by its time {at} (no clawback: they stay paid)"
                )),
                crate::hold::Reversal::Void(_) => None,
            }
        } else {
            None
        };
        first = false;
        if let Some(why) = why {
            out.push(format!(
                "refund {} of {} reverses nothing: {why}",
                batch.event_ids.get(j),
                money(r.amount)
            ));
        }
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

/// A metric with its parameters as a policy writes them:
/// `direct_referrals (min_rank group_owner)`.
fn metric_words(policy: &Policy, metric: &Metric) -> Result<String> {
    let p = Params::of(policy, metric)?;
    let param = match (p.min_rank, p.min_size, p.name) {
        (Some(r), _, _) => format!(" (min_rank {r})"),
        (_, Some(s), _) => format!(" (min_size {s})"),
        (_, _, Some(n)) => format!(" (name {n})"),
        _ => String::new(),
    };
    Ok(format!("{}{param}", metric.name()))
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

    fn rank(&self, m: u32) -> Result<(String, crate::ids::RankIdx, Decimal)> {
        let r = self.ranking.rank(m)?;
        Ok((
            self.policy.rank_id(r)?.to_owned(),
            r,
            self.policy.rank_rate(r)?,
        ))
    }

    fn value(&self, m: u32, metric: &Metric) -> Result<Decimal> {
        Ok(self.ranking.metrics.value(self.batch, m, metric)?)
    }
}
