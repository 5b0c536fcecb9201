//! `peer` (平级奖, same-rank bonus, §5.3): the nearest active ancestors of
//! the seller's rank (or at least it) earn a rate of the order, for a number
//! of generations, when the seller holds at least `min_rank`.

use crate::check::Cx;
use crate::error::{Error, MemberAt, Missing, Must, Result};
use crate::graph::NONE;
use crate::ids::RankIdx;
use crate::limits;
use crate::rule::{ByCategory, Field, Names, On, Price, RateSpec, RuleDoc, Said, Value};
use crate::upline::{at_least, rank_bit, Links};

/// The rule's `type`.
pub(crate) const NAME: &str = "peer";
/// Its fields besides `id` and `type`.
pub(crate) const FIELDS: &[Field] = &[
    Field::required("rate", Value::OrderRate),
    Field::optional("generations", Value::Count),
    Field::optional("match", Value::Choice(PeerMatch::NAMES)),
    Field::optional("min_rank", Value::Rank),
    Field::optional(
        "by_category",
        Value::ByCategory(&Field::required("rate", Value::OrderRate)),
    ),
];

/// How `peer` matches ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerMatch {
    /// Same rank as the seller.
    Same,
    /// Same rank or higher.
    SameOrHigher,
}

impl PeerMatch {
    /// Every `match` as written, the default first.
    pub(crate) const NAMES: &'static [&'static str] = &["same", "same_or_higher"];
    const ALL: [PeerMatch; 2] = [PeerMatch::Same, PeerMatch::SameOrHigher];

    /// The match as written.
    pub fn name(self) -> &'static str {
        match self {
            PeerMatch::Same => "same",
            PeerMatch::SameOrHigher => "same_or_higher",
        }
    }
}

/// 平级奖: same-rank bonus (§5.3).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Peer {
    /// Rate per generation paid.
    pub rate: RateSpec,
    /// How many payments.
    pub generations: u32,
    /// Rank match.
    pub matching: PeerMatch,
    /// Seller's minimum rank.
    pub(crate) min_rank: Option<RankIdx>,
    /// The rate for orders of a category (§12.1).
    pub by_category: ByCategory<RateSpec>,
}

/// `peer` prepared for a tree.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// `next[R]`: the [`Upline`] link to the nearest active proper ancestor
    /// matching rank R (`None` when R is below `min_rank`).
    next: Vec<Option<usize>>,
}

impl Peer {
    pub(crate) fn compile(
        r: &RuleDoc,
        path: &str,
        min_rank: Option<RankIdx>,
        cx: &Cx<'_>,
    ) -> Result<Peer> {
        let generations = r.generations.unwrap_or(1);
        if generations == 0 {
            return Err(Error::InvalidRule {
                path: format!("{path}.generations"),
                detail: "generations must be at least 1".into(),
            });
        }
        let within = |g: u32| usize::try_from(g).is_ok_and(|g| g <= limits::MAX_GENERATIONS);
        let generations = match u32::try_from(generations) {
            Ok(g) if within(g) => g,
            _ => {
                return Err(Error::LimitExceeded {
                    path: format!("{path}.generations"),
                    detail: format!(
                        "generations {generations} is above the limit of {}",
                        limits::MAX_GENERATIONS
                    ),
                })
            }
        };
        let matching = match r.match_.as_deref() {
            None => PeerMatch::Same,
            Some(m) => match PeerMatch::ALL.into_iter().find(|p| p.name() == m) {
                Some(p) => p,
                None => {
                    return Err(Error::InvalidValue {
                        path: format!("{path}.match"),
                        detail: format!(
                            "unknown match \"{m}\"; expected {}",
                            PeerMatch::NAMES.join(" or ")
                        ),
                    })
                }
            },
        };
        let rate = RateSpec::compile(r.required_rate(path)?, &format!("{path}.rate"), cx)?;
        let by_category = ByCategory::compile(r, path, cx, |doc, at| {
            doc.only("rate", at)?;
            match &doc.rate {
                Some(d) => RateSpec::compile(d, &format!("{at}.rate"), cx),
                None => Err(Error::missing(at, "rate")),
            }
        })?;
        Ok(Peer {
            rate,
            generations,
            matching,
            min_rank,
            by_category,
        })
    }

    /// Every rate spec of the rule, its own and its categories'.
    pub(crate) fn specs(&self) -> impl Iterator<Item = &RateSpec> {
        std::iter::once(&self.rate).chain(self.by_category.iter().map(|(_, r)| r))
    }

    /// The rate that applies to an order of category `c`.
    pub(crate) fn rate_for(&self, c: u16) -> &RateSpec {
        self.by_category.get(c).unwrap_or(&self.rate)
    }

    pub(crate) fn plan(&self, ranks: usize, links: &mut Links) -> Plan {
        // Without `min_rank` a seller of any rank has peers: at least the lowest.
        let min = usize::from(self.min_rank.unwrap_or(0));
        let next = (0..ranks)
            .map(|r| {
                (r >= min).then(|| {
                    links.column(match self.matching {
                        PeerMatch::Same => rank_bit(r),
                        PeerMatch::SameOrHigher => {
                            at_least(RankIdx::try_from(r).unwrap_or(RankIdx::MAX), ranks)
                        }
                    })
                })
            })
            .collect();
        Plan { next }
    }

    /// Up to `generations` slots: each nearest matching ancestor of the
    /// last one paid, at its distance from the seller.
    #[inline]
    pub(crate) fn schedule(
        &self,
        plan: &Plan,
        on: &On<'_>,
        seller: u32,
        slot: &mut impl FnMut(u32, u32, Price),
    ) -> Result<(), Missing> {
        let up = on.up;
        let rate = self.rate_for(on.category);
        let link = plan.next.get(usize::from(up.rank(seller)));
        // A seller below `min_rank` has no peer to match.
        let Some(c) = *link.must(MemberAt(seller), "peer link")? else {
            return Ok(());
        };
        let depth0 = up.depth(seller);
        let mut cur = seller;
        for _ in 0..self.generations {
            let a = up.link(cur, c);
            if a == NONE {
                break;
            }
            let level = depth0.saturating_sub(up.depth(a));
            slot(a, level, rate.price(Some(a), on.values)?);
            cur = a;
        }
        Ok(())
    }

    pub(crate) fn describe(&self, line: &Said, names: &dyn Names) -> Result<String> {
        Ok(format!(
            "{}, {} levels above seller {}, matching rank",
            names.who(line.beneficiary)?,
            line.level,
            names.who(line.seller)?
        ))
    }
}
