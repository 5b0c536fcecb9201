//! The validated policy (§8): rounding, the ladder with its upgrade
//! conditions, activity, the rules in order and the order cap.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::check::{category_index, check_rate, Cx};
use crate::condition::{compile_condition, Condition, Metric};
use crate::doc::PolicyDoc;
use crate::error::{Error, Missing, Must, Result};
use crate::ids::{RankId, RankIdx};
use crate::limits;
use crate::money::{short_string, Rounding};
use crate::rule::{ByCategory, Rule};

/// The policy `version`s this fenrun reads.
pub(crate) const VERSIONS: &[i64] = &[1, 2];

/// One step of the ladder.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rank {
    /// The rank id (`"team_leader"`).
    pub id: RankId,
    /// Its rate for `differential` (级差).
    pub rate: Decimal,
    /// The condition that reaches it, if any.
    pub(crate) upgrade: Option<Condition>,
    /// The condition that keeps it (保级, §12.4), if any.
    pub(crate) retain: Option<Condition>,
}

/// A validated policy (§8). Build it with [`Policy::from_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) currency: Option<String>,
    pub(crate) rounding: Rounding,
    pub(crate) evaluate_ranks: bool,
    pub(crate) active_if: Option<Condition>,
    pub(crate) ranks: Vec<Rank>,
    pub(crate) rank_index: HashMap<RankId, RankIdx>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) order_cap: Option<Decimal>,
    pub(crate) version: i64,
    /// Every category the policy names, sorted (index `i + 1`).
    pub(crate) categories: Vec<String>,
    /// The order cap of each category (by index) that has its own.
    pub(crate) order_cap_by_category: ByCategory<Decimal>,
    pub(crate) member_cap: Option<Decimal>,
    /// The hold period of order lines (冻结期, §14.1), if any.
    pub(crate) hold: Option<crate::hold::Hold>,
    /// `"refunds": "whole"` (§12.5): an order's first refund reverses all of it.
    pub(crate) whole_refunds: bool,
    /// `rounding.per: "unit"` (§12.5): rate lines rounded per unit.
    pub(crate) round_per_unit: bool,
    /// `"rank_timing": "immediate"` (§13): ranks and metrics move with the events.
    pub(crate) immediate: bool,
    /// `sha256:` and the hex digest of the document's canonical JSON (see
    /// [`Policy::fingerprint`]).
    pub(crate) fingerprint: String,
}

impl Policy {
    /// Parse and validate a policy from JSON text.
    ///
    /// ```
    /// let p = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.1"}]}"#).unwrap();
    /// assert_eq!(p.ranks().len(), 2);
    /// ```
    pub fn from_json(text: &str) -> Result<Policy> {
        let policy = Policy::from_doc(crate::doc::from_str(text)?)?;
        // Valid as a policy, so valid JSON: parsed again, as a value, only
        // for its fingerprint (a policy is a few kilobytes at most).
        policy.with_fingerprint(&crate::doc::from_str(text)?)
    }

    /// Parse and validate a policy from JSON bytes (must be UTF-8).
    pub fn from_slice(bytes: &[u8]) -> Result<Policy> {
        let policy = Policy::from_doc(crate::doc::from_slice(bytes)?)?;
        policy.with_fingerprint(&crate::doc::from_slice(bytes)?)
    }

    /// Validate a policy given as a parsed JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Policy> {
        let policy = Policy::from_doc(crate::doc::from_value(value.clone())?)?;
        policy.with_fingerprint(&value)
    }

    fn with_fingerprint(mut self, value: &serde_json::Value) -> Result<Policy> {
        self.fingerprint = crate::doc::fingerprint(value);
        Ok(self)
    }

    /// The policy's fingerprint: `sha256:` and the hex SHA-256 of the
    /// document's canonical JSON (object keys sorted, no whitespace, values
    /// as written). The same policy written with other spacing or key order
    /// has the same fingerprint; any other value changes it. A ledger's
    /// snapshot names its policy by it.
    ///
    /// ```
    /// let a = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}]}"#)?;
    /// let b = fenrun::Policy::from_json(r#"{ "ranks":[{"id":"member"}],"version":1 }"#)?;
    /// assert_eq!(a.fingerprint(), b.fingerprint());
    /// assert!(a.fingerprint().starts_with("sha256:"));
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The ladder, lowest first.
    pub fn ranks(&self) -> &[Rank] {
        &self.ranks
    }

    /// The rules in policy order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rounding.
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// The currency code, if given.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// Whether ranks are evaluated from upgrade conditions.
    pub fn evaluate_ranks(&self) -> bool {
        self.evaluate_ranks
    }

    /// Whether ranks and metrics move with each event (`"rank_timing":
    /// "immediate"`, §13) rather than being those of the whole period.
    pub fn is_immediate(&self) -> bool {
        self.immediate
    }

    /// The cap on order-rule lines per order, as a rate of the order amount.
    pub fn order_cap(&self) -> Option<Decimal> {
        self.order_cap
    }

    /// The policy's `version`.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The cap on an order of category index `c` (0: none the policy names):
    /// its category's own, else the policy's (§12.1).
    pub(crate) fn order_cap_for(&self, c: u16) -> Option<Decimal> {
        self.order_cap_by_category
            .get(c)
            .copied()
            .or(self.order_cap)
    }

    /// The cap on a member's net earnings from order rules over a batch (§12.3).
    pub fn member_cap(&self) -> Option<Decimal> {
        self.member_cap
    }

    /// The hold period of order lines (冻结期, §14.1), if the policy has one.
    pub fn hold(&self) -> Option<crate::hold::Hold> {
        self.hold
    }

    /// Whether rate lines are rounded per unit of the order's quantity
    /// (`rounding.per: "unit"`, §12.5) rather than per line.
    pub fn round_per_unit(&self) -> bool {
        self.round_per_unit
    }

    /// Whether quantities change what the policy pays: rates rounded per
    /// unit, or a fixed amount paid per unit (§12.5).
    pub(crate) fn reads_quantity(&self) -> bool {
        self.round_per_unit || self.rules().iter().any(|r| r.kind.pays_per_unit())
    }

    /// Whether an order's first refund reverses all of its lines
    /// (`"refunds": "whole"`, §12.5) rather than its share (§6.2).
    pub fn whole_refunds(&self) -> bool {
        self.whole_refunds
    }

    /// The categories the policy names (in `by_category` and
    /// `order_cap_by_category`), sorted.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The policy's index of category `name` (0 when it names none such).
    pub(crate) fn category_index(&self, name: &str) -> u16 {
        category_index(&self.categories, name).unwrap_or(0)
    }

    /// The largest number of decimals (counted by value) of any rate a line can
    /// carry: rank rates (and so their differences), `levels`, `peer` and `pool`
    /// rates, their categories' and steps'. A columnar writer stores line
    /// rates at this scale without loss.
    ///
    /// ```
    /// let p = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "a", "rate": "0.125"}],
    ///   "rules": [{"id": "l", "type": "levels", "rates": ["0.10", "0.05"]}]}"#).unwrap();
    /// assert_eq!(p.rate_scale(), 3);
    /// ```
    pub fn rate_scale(&self) -> u32 {
        let rules = self.rules.iter().flat_map(|r| r.kind.rates());
        self.ranks
            .iter()
            .map(|r| r.rate)
            .chain(rules)
            .map(|d| d.normalize().scale())
            .max()
            .unwrap_or(0)
    }

    /// Whether a line of this policy can pay a fixed amount in place of a
    /// rate (§12.2): a columnar writer then adds a `fixed` column.
    ///
    /// ```
    /// let p = fenrun::Policy::from_json(r#"{"version": 2, "ranks": [{"id": "a"}],
    ///   "rules": [{"id": "l", "type": "levels", "rates": [{"fixed": "5.00"}]}]}"#).unwrap();
    /// assert!(p.pays_fixed());
    /// ```
    pub fn pays_fixed(&self) -> bool {
        self.rules.iter().any(|r| r.kind.pays_fixed())
    }

    /// The largest fixed amount a line of this policy can pay (§12.2), per
    /// order or per unit; zero when it pays none.
    pub(crate) fn max_fixed(&self) -> Decimal {
        self.rules
            .iter()
            .flat_map(|r| r.kind.fixed_amounts())
            .max()
            .unwrap_or(Decimal::ZERO)
    }

    /// Every condition of the policy: the ranks' upgrades and retentions,
    /// and `active_if`.
    pub(crate) fn conditions(&self) -> impl Iterator<Item = &Condition> {
        let ranks = self.ranks().iter();
        ranks
            .flat_map(|r| r.upgrade.iter().chain(r.retain.iter()))
            .chain(self.active_if())
    }

    /// The activity condition.
    pub(crate) fn active_if(&self) -> Option<&Condition> {
        self.active_if.as_ref()
    }

    /// Index of a rank id.
    pub(crate) fn rank_index(&self, id: &str) -> Option<RankIdx> {
        self.rank_index.get(id).copied()
    }

    /// The id of rank `r` of the ladder.
    pub(crate) fn rank_id(&self, r: RankIdx) -> Result<&str, Missing> {
        self.ranks
            .get(usize::from(r))
            .map(|k| k.id.as_str())
            .must("ranks", "rank")
    }

    /// The rate of rank `r` of the ladder.
    pub(crate) fn rank_rate(&self, r: RankIdx) -> Result<Decimal, Missing> {
        self.ranks
            .get(usize::from(r))
            .map(|k| k.rate)
            .must("ranks", "rank")
    }

    fn from_doc(doc: PolicyDoc) -> Result<Policy> {
        if !VERSIONS.contains(&doc.version) {
            return Err(Error::UnsupportedVersion {
                path: "version".into(),
                version: doc.version,
            });
        }
        let rounding = match &doc.rounding {
            None => Rounding::default(),
            Some(r) => {
                let scale = r.scale.unwrap_or(2);
                if scale > 8 {
                    return Err(Error::InvalidScale {
                        path: "rounding.scale".into(),
                        scale,
                    });
                }
                Rounding {
                    scale: u32::try_from(scale).unwrap_or(2),
                    mode: r.mode,
                }
            }
        };
        let version = doc.version;
        if doc.ranks.is_empty() {
            return Err(Error::NoRanks {
                path: "ranks".into(),
            });
        }
        limits::check_count("ranks", doc.ranks.len(), limits::MAX_RANKS, "ranks")?;
        limits::check_count("rules", doc.rules.len(), limits::MAX_RULES, "rules")?;

        // Ranks: ids first (conditions may name any rank of the ladder).
        let mut rank_index = HashMap::new();
        for (i, r) in doc.ranks.iter().enumerate() {
            if r.id.is_empty() {
                return Err(Error::EmptyId {
                    path: format!("ranks[{i}].id"),
                });
            }
            let idx = RankIdx::try_from(i).unwrap_or(RankIdx::MAX);
            if rank_index.insert(r.id.clone(), idx).is_some() {
                return Err(Error::DuplicateRank {
                    path: format!("ranks[{i}].id"),
                    rank: r.id.to_string(),
                });
            }
        }
        let ladder: Vec<RankId> = doc.ranks.iter().map(|r| r.id.clone()).collect();
        let categories = categories_named(&doc);
        let cx = Cx {
            ranks: &rank_index,
            ladder: &ladder,
            version,
            scale: rounding.scale,
            categories: &categories,
        };
        limits::check_count(
            "categories",
            categories.len(),
            limits::MAX_CATEGORIES,
            "categories",
        )?;
        let mut ranks = Vec::with_capacity(doc.ranks.len());
        let mut below: Option<Decimal> = None;
        for (i, r) in doc.ranks.iter().enumerate() {
            let rate = match r.rate {
                Some(d) => check_rate(d, &format!("ranks[{i}].rate"))?,
                None => Decimal::ZERO,
            };
            if let Some(b) = below {
                if rate < b {
                    return Err(Error::DecreasingRate {
                        path: format!("ranks[{i}].rate"),
                        rank: r.id.to_string(),
                        rate: short_string(rate),
                        below_rate: short_string(b),
                    });
                }
            }
            below = Some(rate);
            let upgrade = match &r.upgrade {
                None => None,
                Some(_) if i == 0 => {
                    return Err(Error::LowestRankUpgrade {
                        path: format!("ranks[{i}].upgrade"),
                        rank: r.id.to_string(),
                    })
                }
                Some(c) => Some(compile_condition(
                    c,
                    &format!("ranks[{i}].upgrade"),
                    &rank_index,
                    0,
                )?),
            };
            let retain = match &r.retain {
                None => None,
                Some(c) => {
                    let path = format!("ranks[{i}].retain");
                    cx.v2(&path, "retain")?;
                    if i == 0 {
                        return Err(Error::LowestRankRetain {
                            path,
                            rank: r.id.to_string(),
                        });
                    }
                    Some(compile_condition(c, &path, &rank_index, 0)?)
                }
            };
            ranks.push(Rank {
                id: r.id.clone(),
                rate,
                upgrade,
                retain,
            });
        }
        let active_if = doc
            .active_if
            .as_ref()
            .map(|c| compile_condition(c, "active_if", &rank_index, 0))
            .transpose()?;
        let order_cap = doc
            .order_cap
            .map(|d| check_rate(d, "order_cap"))
            .transpose()?;

        let mut rules: Vec<Rule> = Vec::with_capacity(doc.rules.len());
        for (i, r) in doc.rules.iter().enumerate() {
            let path = format!("rules[{i}]");
            if r.id.is_empty() {
                return Err(Error::EmptyId {
                    path: format!("{path}.id"),
                });
            }
            if rules.iter().any(|x| x.id == r.id) {
                return Err(Error::DuplicateRule {
                    path: format!("{path}.id"),
                    rule: r.id.to_string(),
                });
            }
            let kind = crate::rule::compile(r, &path, &cx)?;
            rules.push(Rule {
                id: r.id.clone(),
                kind,
            });
        }
        let order_cap_by_category = match &doc.order_cap_by_category {
            None => ByCategory::default(),
            Some(map) => {
                const PATH: &str = "order_cap_by_category";
                cx.v2(PATH, PATH)?;
                ByCategory::from_map(map, PATH, &cx, |d, path| check_rate(*d, path))?
            }
        };
        let member_cap = match &doc.member_cap {
            None => None,
            Some(m) => {
                cx.v2("member_cap", "member_cap")?;
                Some(cx.money(m.amount, "member_cap.amount")?)
            }
        };
        let immediate = match doc.rank_timing {
            None => false,
            Some(timing) => {
                cx.v2("rank_timing", "rank_timing")?;
                timing == crate::doc::RankTiming::Immediate
            }
        };
        let hold = match &doc.hold {
            None => None,
            Some(h) => {
                cx.v2("hold", "hold")?;
                Some(crate::hold::Hold::of(
                    h.days,
                    h.from,
                    h.clawback.unwrap_or(true),
                )?)
            }
        };
        let round_per_unit = match doc.rounding.as_ref().and_then(|r| r.per) {
            None => false,
            Some(per) => {
                cx.v2("rounding.per", "rounding.per")?;
                per == crate::doc::RoundingPer::Unit
            }
        };
        let whole_refunds = match doc.refunds {
            None => false,
            Some(r) => {
                cx.v2("refunds", "refunds")?;
                r == crate::doc::RefundsDoc::Whole
            }
        };
        Ok(Policy {
            currency: doc.currency,
            rounding,
            evaluate_ranks: doc.evaluate_ranks,
            active_if,
            ranks,
            rank_index,
            rules,
            order_cap,
            version,
            categories,
            order_cap_by_category,
            member_cap,
            hold,
            whole_refunds,
            round_per_unit,
            immediate,
            fingerprint: String::new(),
        })
    }
}

/// Every category a policy document names, sorted and distinct.
fn categories_named(doc: &PolicyDoc) -> Vec<String> {
    let mut names: Vec<String> = doc
        .rules
        .iter()
        .filter_map(|r| r.by_category.as_ref())
        .flat_map(|m| m.keys().cloned())
        .chain(
            doc.order_cap_by_category
                .iter()
                .flat_map(|m| m.keys().cloned()),
        )
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Which per-member metrics a policy reads (in its conditions and pool
/// weights): the others are not computed. Net sales are always.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    /// Sales and purchases per member (the per-event sums).
    pub sums: bool,
    /// A member's own sales, read as such (not only folded into team sales).
    pub sales: bool,
    /// Purchases among them: the batch then resolves each order's buyer to a
    /// member (see the batch's `buyers`).
    pub purchases: bool,
    /// Team sales (sums folded up the tree).
    pub team_sales: bool,
    /// Referral and team counts (folded up the tree, per rank).
    pub counts: bool,
}

impl Needs {
    /// What `policy` reads.
    pub fn of(policy: &Policy) -> Needs {
        let mut needs = Needs::default();
        for leaf in policy.conditions().flat_map(Condition::leaves) {
            needs.add(&leaf.metric);
        }
        for m in policy.rules().iter().flat_map(|r| r.kind.metrics()) {
            needs.add(m);
        }
        needs
    }

    fn add(&mut self, metric: &Metric) {
        match metric {
            Metric::Sales => {
                self.sums = true;
                self.sales = true;
            }
            Metric::Purchases => {
                self.sums = true;
                self.purchases = true;
            }
            Metric::TeamSales => {
                self.sums = true;
                self.team_sales = true;
            }
            Metric::DirectReferrals(_) | Metric::TeamSize(_) | Metric::Legs(_) => {
                self.counts = true;
            }
            Metric::Groups(_) | Metric::GroupMembers | Metric::LargestGroup | Metric::Attr(_) => {}
        }
    }

    /// Whether `metric` is computed.
    pub fn covers(self, metric: &Metric) -> bool {
        let mut one = Needs::default();
        one.add(metric);
        (!one.sums || self.sums)
            && (!one.sales || self.sales)
            && (!one.purchases || self.purchases)
            && (!one.team_sales || self.team_sales)
            && (!one.counts || self.counts)
    }
}
