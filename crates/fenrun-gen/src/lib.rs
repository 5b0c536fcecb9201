//! # fenrun-gen — seeded synthetic community-retail batches
//!
//! A generator of realistic batches for fenrun's benchmarks, the peer
//! comparison and large tests (`fenrun gen`), published so that the CLI that
//! offers it can be.
//!
//! Shape: a few roots; preferential-attachment fan-out (a member with many
//! referrals attracts more); now and then a chain thousands deep; ~10 % of
//! members own groups of lognormal size; orders of lognormal amount, most sold
//! by group owners to consumers, some by other members, some self-purchases;
//! ~3 % of orders partly refunded and ~1 % fully, a while after the order.
//! Amounts are drawn as whole cents: the distribution is sampled once and
//! turned into an integer, so no float ever is money.

use std::collections::BinaryHeap;
use std::io::{self, Write};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

/// A generated member: its sponsor (dense index) and input rank index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenMember {
    /// Sponsor index, if any.
    pub sponsor: Option<u32>,
    /// Input rank index on the reference ladder (0 = member).
    pub rank: u8,
}

/// A generated event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenEvent {
    /// An order: seller (None = self-purchase by `buyer`), buyer member (None = consumer), cents.
    Order {
        /// The seller, if not a self-purchase.
        seller: Option<u32>,
        /// The buyer when a member.
        buyer: Option<u32>,
        /// Amount in cents.
        cents: u64,
    },
    /// A refund of order number `order` (its index among orders).
    Refund {
        /// Index of the refunded order among orders.
        order: u32,
        /// Amount in cents.
        cents: u64,
    },
}

/// A generated batch.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Members, by dense index.
    pub members: Vec<GenMember>,
    /// Groups as (owner, size).
    pub groups: Vec<(u32, u32)>,
    /// Events in input order.
    pub events: Vec<GenEvent>,
    /// How many product categories orders carry (0: none, a version-1 batch).
    pub categories: usize,
    /// The seed the batch was made from (categories are drawn from it).
    pub seed: u64,
}

/// The product categories generated orders carry, the first
/// [`Generated::categories`] of them (more are named `cat-<k>`).
pub const CATEGORIES: [&str; 5] = ["fresh", "beauty", "household", "snacks", "gift"];

/// SplitMix64: a category per order from the seed and the order's number,
/// apart from the batch's random stream, so that adding categories changes
/// nothing else of the batch.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Generated {
    /// Give orders one of `k` product categories each (SPEC §12.1; for a
    /// version-2 policy), drawn uniformly; 0 takes them away.
    #[must_use]
    pub fn with_categories(mut self, k: usize) -> Generated {
        self.categories = k;
        self
    }

    /// The category of order number `order`, if orders carry categories.
    pub fn category(&self, order: u64) -> Option<std::borrow::Cow<'static, str>> {
        if self.categories == 0 {
            return None;
        }
        let k = usize::try_from(mix(self.seed ^ mix(order)) % self.categories as u64).ok()?;
        Some(match CATEGORIES.get(k) {
            Some(name) => std::borrow::Cow::Borrowed(*name),
            None => std::borrow::Cow::Owned(format!("cat-{k}")),
        })
    }
}

/// The rank ids of the reference ladder, lowest first.
pub const LADDER: [&str; 4] = ["member", "group_owner", "team_leader", "partner"];

/// Generate `members` members and `orders` orders (plus refunds) from `seed`.
pub fn generate(members: usize, orders: usize, seed: u64) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = members.max(1);
    let roots = 3 + n / 250_000;
    let mut out = Generated {
        members: Vec::with_capacity(n),
        seed,
        ..Generated::default()
    };
    // Preferential attachment: every member appears once, plus once per referral.
    let mut targets: Vec<u32> = Vec::with_capacity(2 * n);
    let mut chain_left = 0usize;
    for i in 0..n {
        let sponsor = if i < roots.min(n) {
            None
        } else if chain_left > 0 {
            chain_left -= 1;
            Some(i as u32 - 1)
        } else {
            if rng.random_range(0..40_000u32) == 0 {
                chain_left = rng.random_range(1_000..5_000usize);
            }
            targets
                .get(rng.random_range(0..targets.len().max(1)))
                .copied()
        };
        if let Some(s) = sponsor {
            targets.push(s);
        }
        targets.push(i as u32);
        let rank = match rng.random_range(0..1000u32) {
            0..=4 => 3,
            5..=19 => 2,
            20..=59 => 1,
            _ => 0,
        };
        out.members.push(GenMember { sponsor, rank });
    }
    // Groups: ~10 % of members own 1–4 groups of lognormal size (median ~60).
    let size = LogNormal::new(60f64.ln(), 0.8).unwrap_or_else(|_| unreachable_lognormal());
    for m in 0..n as u32 {
        if rng.random_range(0..10u32) == 0 {
            let k = 1 + rng.random_range(0..4u32).min(rng.random_range(0..4u32));
            for _ in 0..k {
                let s = size.sample(&mut rng).round().clamp(1.0, 2_000.0) as u32;
                out.groups.push((m, s));
            }
        }
    }
    // Orders: lognormal amounts (median ~80.00), most sold by group owners.
    let amount = LogNormal::new(8000f64.ln(), 1.0).unwrap_or_else(|_| unreachable_lognormal());
    let mut due: BinaryHeap<std::cmp::Reverse<(usize, u32, u64)>> = BinaryHeap::new();
    out.events.reserve(orders + orders / 20);
    for k in 0..orders {
        while let Some(std::cmp::Reverse((at, order, cents))) = due.peek().copied() {
            if at > k {
                break;
            }
            due.pop();
            out.events.push(GenEvent::Refund { order, cents });
        }
        let cents = (amount.sample(&mut rng).round() as u64).clamp(100, 5_000_000);
        let pick = rng.random_range(0..100u32);
        let event = if pick < 75 && !out.groups.is_empty() {
            let g = rng.random_range(0..out.groups.len());
            let owner = out.groups.get(g).map_or(0, |x| x.0);
            GenEvent::Order {
                seller: Some(owner),
                buyer: None,
                cents,
            }
        } else if pick < 90 {
            GenEvent::Order {
                seller: Some(rng.random_range(0..n as u32)),
                buyer: None,
                cents,
            }
        } else {
            GenEvent::Order {
                seller: None,
                buyer: Some(rng.random_range(0..n as u32)),
                cents,
            }
        };
        out.events.push(event);
        let later = k + rng.random_range(1..2_000usize);
        match rng.random_range(0..100u32) {
            0..=2 => due.push(std::cmp::Reverse((
                later,
                k as u32,
                (cents * 3 / 10).max(1),
            ))),
            3 => due.push(std::cmp::Reverse((later, k as u32, cents))),
            _ => {}
        }
    }
    while let Some(std::cmp::Reverse((_, order, cents))) = due.pop() {
        out.events.push(GenEvent::Refund { order, cents });
    }
    out
}

fn unreachable_lognormal() -> LogNormal<f64> {
    // The parameters above are finite and sigma is positive; this is never reached.
    LogNormal::from_mean_cv(1.0, 1.0).unwrap_or_else(|_| unreachable_lognormal())
}

/// Cents as a decimal string with 2 decimals.
pub fn cents(c: u64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

impl Generated {
    /// Write the batch as a SPEC §2.4 JSON document, streaming (no tree in memory).
    pub fn write_json(&self, mut w: impl Write) -> io::Result<()> {
        w.write_all(b"{\"members\":[")?;
        for (i, m) in self.members.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write!(w, "{{\"id\":\"m{i}\"")?;
            if let Some(s) = m.sponsor {
                write!(w, ",\"sponsor\":\"m{s}\"")?;
            }
            if m.rank > 0 {
                let rank = LADDER.get(usize::from(m.rank)).copied().unwrap_or("member");
                write!(w, ",\"rank\":\"{rank}\"")?;
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"],\"groups\":[")?;
        for (g, (owner, size)) in self.groups.iter().enumerate() {
            if g > 0 {
                w.write_all(b",")?;
            }
            write!(
                w,
                "{{\"id\":\"g{g}\",\"owner\":\"m{owner}\",\"size\":{size}}}"
            )?;
        }
        w.write_all(b"],\"events\":[")?;
        let mut order_no = 0u32;
        let mut refund_no = 0u32;
        for (e, ev) in self.events.iter().enumerate() {
            if e > 0 {
                w.write_all(b",")?;
            }
            match ev {
                GenEvent::Order {
                    seller,
                    buyer,
                    cents: c,
                } => {
                    write!(w, "{{\"id\":\"o{order_no}\"")?;
                    if let Some(s) = seller {
                        write!(w, ",\"seller\":\"m{s}\",\"buyer\":\"c{order_no}\"")?;
                    }
                    if let Some(b) = buyer {
                        write!(w, ",\"buyer\":\"m{b}\"")?;
                    }
                    write!(w, ",\"amount\":\"{}\"", cents(*c))?;
                    if let Some(category) = self.category(u64::from(order_no)) {
                        write!(w, ",\"category\":\"{category}\"")?;
                    }
                    w.write_all(b"}")?;
                    order_no += 1;
                }
                GenEvent::Refund { order, cents: c } => {
                    write!(
                        w,
                        "{{\"id\":\"r{refund_no}\",\"refund_of\":\"o{order}\",\"amount\":\"{}\"}}",
                        cents(*c)
                    )?;
                    refund_no += 1;
                }
            }
        }
        w.write_all(b"]}")?;
        Ok(())
    }

    /// The batch as one JSON string (small batches).
    pub fn to_json(&self) -> String {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_json(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_batch() {
        let a = generate(2_000, 10_000, 7);
        assert_eq!(a.to_json(), generate(2_000, 10_000, 7).to_json());
        assert_ne!(a.to_json(), generate(2_000, 10_000, 8).to_json());
        assert_eq!(a.members.len(), 2_000);
        let orders = a
            .events
            .iter()
            .filter(|e| matches!(e, GenEvent::Order { .. }))
            .count();
        assert_eq!(orders, 10_000);
        assert!(a.events.len() > orders, "some refunds");
    }

    #[test]
    fn categories_change_nothing_else() {
        let plain = generate(500, 2_000, 7);
        let with = plain.clone().with_categories(5);
        let strip = |s: String| {
            let mut out = String::new();
            for (i, part) in s.split(",\"category\":\"").enumerate() {
                out.push_str(if i == 0 {
                    part
                } else {
                    part.split_once('"').map_or("", |x| x.1)
                });
            }
            out
        };
        let json = with.to_json();
        assert_eq!(json.matches("\"category\"").count(), 2_000);
        for name in CATEGORIES {
            assert!(json.contains(&format!("\"category\":\"{name}\"")), "{name}");
        }
        assert_eq!(strip(json), plain.to_json());
    }
}
