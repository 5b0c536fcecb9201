//! Compliance lint: a policy, and with a batch its settlement, read against
//! the rules that govern multi-level selling in a jurisdiction (a profile):
//! rewards for recruiting, buying a position, pay on other members' sales,
//! chains paid too deep, payouts too large. Findings are warnings to review
//! with counsel, never legal advice.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::condition::{Condition, Metric};
use crate::error::{Error, Result};
use crate::money::{money_string, percent_string, short_string};
use crate::policy::Policy;
use crate::rule::{Price, RateSpec, RuleKind};
use crate::settle::Settlement;
use crate::state::State;
use crate::stats::{check_same, own_sales, totals_by_member};

/// The rules a policy is read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// China, social e-commerce distribution (分销): 《禁止传销条例》 and the
    /// 2013 opinion on organising 传销.
    CnDistribution,
    /// China, licensed direct selling: 《直销管理条例》 on top of the above.
    CnDirectSelling,
    /// United States: the FTC's business guidance on multi-level marketing.
    Ftc,
}

impl Profile {
    /// Every profile, in the order of the docs.
    pub const ALL: [Profile; 3] = [
        Profile::CnDistribution,
        Profile::CnDirectSelling,
        Profile::Ftc,
    ];

    /// The profile's name (`cn-distribution`, `cn-direct-selling`, `ftc`).
    pub fn name(self) -> &'static str {
        match self {
            Profile::CnDistribution => "cn-distribution",
            Profile::CnDirectSelling => "cn-direct-selling",
            Profile::Ftc => "ftc",
        }
    }

    /// The profile called `name`, or `invalid_value` at `profile`.
    ///
    /// ```
    /// assert_eq!(fenrun::Profile::from_name("ftc")?, fenrun::Profile::Ftc);
    /// assert_eq!(fenrun::Profile::from_name("eu").unwrap_err().code(), "invalid_value");
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Profile> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| Error::InvalidValue {
                path: "profile".into(),
                detail: format!(
                    "unknown profile \"{name}\"; expected cn-distribution, cn-direct-selling or ftc"
                ),
            })
    }

    /// The payout ratio of a batch above which `payout_ratio` warns.
    pub fn payout_ratio_limit(self) -> Decimal {
        match self {
            Profile::CnDistribution | Profile::CnDirectSelling => Decimal::new(30, 2),
            Profile::Ftc => Decimal::new(50, 2),
        }
    }
}

/// How serious a finding is. An error-level finding fails `fenrun lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A feature to review.
    Warning,
    /// A feature the profile's rules forbid as written.
    Error,
}

impl Severity {
    /// `warning` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a finding is about, with its stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// A rule can pay more than three levels of the chain, the seller counted.
    TooManyTiers,
    /// A rank, activity, step rate or pool weight depends on recruiting.
    RecruitmentCondition,
    /// A rank, activity, step rate or pool weight depends on the member's own
    /// purchases or an attribute.
    EntryFeeCondition,
    /// A rule pays a member on sales other than its own.
    TeamCompensation,
    /// A member earns more than 30 % of its own sales (with a batch).
    PayoutOver30Percent,
    /// The batch pays more of its net sales than the profile's limit.
    PayoutRatio,
}

impl Code {
    /// Every code, in the order of the docs.
    pub const ALL: [Code; 6] = [
        Code::TooManyTiers,
        Code::RecruitmentCondition,
        Code::EntryFeeCondition,
        Code::TeamCompensation,
        Code::PayoutOver30Percent,
        Code::PayoutRatio,
    ];

    /// The stable code (`too_many_tiers`).
    pub fn name(self) -> &'static str {
        match self {
            Code::TooManyTiers => "too_many_tiers",
            Code::RecruitmentCondition => "recruitment_condition",
            Code::EntryFeeCondition => "entry_fee_condition",
            Code::TeamCompensation => "team_compensation",
            Code::PayoutOver30Percent => "payout_over_30_percent",
            Code::PayoutRatio => "payout_ratio",
        }
    }

    /// The severity and legal basis of this code under `profile`, `None`
    /// where the profile does not check it.
    pub fn under(self, profile: Profile) -> Option<(Severity, &'static str)> {
        use Profile::{CnDirectSelling as Direct, CnDistribution as Dist, Ftc};
        use Severity::{Error as E, Warning as W};
        Some(match (self, profile) {
            (Code::TooManyTiers, Dist | Direct) => (E, BASIS_TIERS),
            (Code::TooManyTiers, Ftc) => return None,
            (Code::RecruitmentCondition, Dist | Direct) => (E, BASIS_RECRUITING),
            (Code::RecruitmentCondition, Ftc) => (W, BASIS_FTC),
            (Code::EntryFeeCondition, Dist | Direct) => (W, BASIS_ENTRY_FEE),
            (Code::EntryFeeCondition, Ftc) => (W, BASIS_FTC),
            (Code::TeamCompensation, Dist) => (W, BASIS_TEAM),
            (Code::TeamCompensation, Direct) => (E, BASIS_DIRECT_SELLING),
            (Code::TeamCompensation, Ftc) => (W, BASIS_FTC),
            (Code::PayoutOver30Percent, Direct) => (E, BASIS_DIRECT_SELLING),
            (Code::PayoutOver30Percent, Dist | Ftc) => return None,
            (Code::PayoutRatio, Dist | Direct) => (W, BASIS_DIRECT_SELLING),
            (Code::PayoutRatio, Ftc) => (W, BASIS_FTC),
        })
    }
}

const BASIS_TIERS: &str = "最高人民法院、最高人民检察院、公安部《关于办理组织领导传销活动刑事案件适用法律若干问题的意见》(2013) 第一条: 层级在三级以上";
const BASIS_RECRUITING: &str =
    "《禁止传销条例》(2005) 第七条第(一)项: 以发展人员的数量作为计酬或者返利依据 (拉人头)";
const BASIS_ENTRY_FEE: &str = "《禁止传销条例》(2005) 第七条第(二)项: 交纳费用或者以认购商品等方式变相交纳费用, 取得加入或者发展其他人员加入的资格 (入门费)";
const BASIS_TEAM: &str =
    "《禁止传销条例》(2005) 第七条第(三)项: 以下线的销售业绩为依据计算和给付上线报酬 (团队计酬)";
const BASIS_DIRECT_SELLING: &str = "《直销管理条例》(2005) 第二十四条: 报酬只能按照直销员本人直接向消费者销售产品的收入计算, 报酬总额不得超过其本人直接向消费者销售产品收入的30%";
const BASIS_FTC: &str = "FTC, Business Guidance Concerning Multi-Level Marketing (2018, revised 2024): compensation should come from sales to real customers, not from recruiting or participants' own purchases";

/// One finding: what to review, where in the policy (or the batch), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The code.
    pub code: Code,
    /// Its severity under the profile.
    pub severity: Severity,
    /// The JSON path of the policy value it is about (`rules[0].rates[3]`);
    /// `batch.members[k]` for a member of the batch, `$` for the whole batch.
    pub path: String,
    /// What was found, in words.
    pub message: String,
    /// The regulation and article it is read against.
    pub basis: &'static str,
}

/// The findings of a lint run, from [`lint`] or [`crate::Engine::lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lint {
    /// The profile read against.
    pub profile: Profile,
    /// The findings: the policy's (active_if, ranks, rules in order), then
    /// the batch's (members in input order, then the whole batch).
    pub findings: Vec<Finding>,
}

impl Lint {
    /// Findings of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The findings as their JSON document
    /// `{"profile", "errors", "warnings", "findings": [{code, severity, path, message, basis}]}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The findings for people: a line `severity[code] path: message` and a
    /// line with the basis for each, then the counts.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(
                out,
                "{}[{}] {}: {}\n    basis: {}",
                f.severity.name(),
                f.code.name(),
                f.path,
                f.message,
                f.basis
            );
        }
        let _ = writeln!(
            out,
            "{} error(s), {} warning(s) under profile {}. A finding marks a feature to review; it is not legal advice.",
            self.count(Severity::Error),
            self.count(Severity::Warning),
            self.profile.name()
        );
        out
    }
}

impl Serialize for Lint {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Lint", 4)?;
        st.serialize_field("profile", self.profile.name())?;
        st.serialize_field("errors", &self.count(Severity::Error))?;
        st.serialize_field("warnings", &self.count(Severity::Warning))?;
        st.serialize_field("findings", &self.findings)?;
        st.end()
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 5)?;
        st.serialize_field("code", self.code.name())?;
        st.serialize_field("severity", self.severity.name())?;
        st.serialize_field("path", &self.path)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("basis", self.basis)?;
        st.end()
    }
}

/// Collects findings for one profile.
struct Linter<'p> {
    policy: &'p Policy,
    profile: Profile,
    findings: Vec<Finding>,
}

impl Linter<'_> {
    fn report(&mut self, code: Code, path: String, message: String) {
        if let Some((severity, basis)) = code.under(self.profile) {
            self.findings.push(Finding {
                code,
                severity,
                path,
                message,
                basis,
            });
        }
    }

    /// A metric that `what` (in words) depends on, at `path`.
    fn metric(&mut self, metric: &Metric, path: &str, what: &str) {
        match metric {
            Metric::DirectReferrals(_) | Metric::TeamSize(_) | Metric::Legs(_) => self.report(
                Code::RecruitmentCondition,
                path.to_owned(),
                format!(
                    "{what} depends on {}, which counts members recruited below the member: rank or pay for recruiting (拉人头) is a mark of a pyramid scheme (传销)",
                    metric.name()
                ),
            ),
            Metric::Purchases => self.report(
                Code::EntryFeeCondition,
                path.to_owned(),
                format!(
                    "{what} depends on the member's own purchases: requiring members to buy in order to earn may be read as paying for a position (入门费) or as internal consumption"
                ),
            ),
            Metric::Attr(name) => self.report(
                Code::EntryFeeCondition,
                path.to_owned(),
                format!(
                    "{what} depends on the member attribute \"{name}\": if it records a fee or a purchase package, that may be read as paying for a position (入门费)"
                ),
            ),
            _ => {}
        }
    }

    /// Every leaf of `c` (at `path`).
    fn condition(&mut self, c: &Condition, path: &str, what: &str) {
        match c {
            Condition::All(items) | Condition::Any(items) => {
                let key = if matches!(c, Condition::All(_)) {
                    "all"
                } else {
                    "any"
                };
                for (i, x) in items.iter().enumerate() {
                    self.condition(x, &format!("{path}.{key}[{i}]"), what);
                }
            }
            Condition::Not(inner) => self.condition(inner, &format!("{path}.not"), what),
            Condition::Leaf(leaf) => self.metric(&leaf.metric, path, what),
        }
    }

    /// A rate's step metric, if it has one.
    fn rate(&mut self, spec: &RateSpec, path: &str, rule: &str) {
        if let RateSpec::Steps(steps) = spec {
            self.metric(
                &steps.metric,
                &format!("{path}.metric"),
                &format!("the step rate of rule \"{rule}\""),
            );
        }
    }

    fn category_path(&self, rule_path: &str, c: u16) -> String {
        let name = usize::from(c)
            .checked_sub(1)
            .and_then(|i| self.policy.categories().get(i))
            .map_or("", String::as_str);
        format!("{rule_path}.by_category.{name}")
    }

    fn rules(&mut self) {
        let policy = self.policy;
        let deep = self.profile == Profile::CnDistribution;
        for (j, rule) in policy.rules().iter().enumerate() {
            let at = format!("rules[{j}]");
            let id = rule.id.as_str();
            match &rule.kind {
                RuleKind::Levels(l) => {
                    let mut tables = vec![(format!("{at}.rates"), &l.rates)];
                    for (c, rates) in l.by_category.iter() {
                        tables.push((format!("{}.rates", self.category_path(&at, *c)), rates));
                    }
                    let mut team_reported = false;
                    let mut tiers_reported = false;
                    for (path, rates) in tables {
                        for (i, spec) in rates.iter().enumerate() {
                            self.rate(spec, &format!("{path}[{i}]"), id);
                            if i == 0 || !may_pay(spec) {
                                continue;
                            }
                            if !team_reported {
                                team_reported = true;
                                self.report(
                                    Code::TeamCompensation,
                                    format!("{path}[{i}]"),
                                    format!("rule \"{id}\" (levels) pays the member {i} level(s) above the seller on the seller's sale: pay on a downline's sales (团队计酬)"),
                                );
                            }
                            let unbounded = deep && l.compress();
                            if !tiers_reported && (i >= 3 || unbounded) {
                                tiers_reported = true;
                                let message = if i >= 3 {
                                    format!("rule \"{id}\" (levels) pays level {i} above the seller, the {} member of the chain counting the seller: more than three levels (层级) are paid", ordinal(i + 1))
                                } else {
                                    format!("rule \"{id}\" (levels) compresses: it skips members it does not pay, so level {i} can be any number of members above the seller and the levels it reaches are not bounded by three")
                                };
                                self.report(Code::TooManyTiers, format!("{path}[{i}]"), message);
                            }
                        }
                    }
                }
                RuleKind::Differential(d) => {
                    let base: Vec<Decimal> = policy.ranks().iter().map(|r| r.rate).collect();
                    let ladders =
                        std::iter::once(&base).chain(d.by_category.iter().map(|(_, v)| v));
                    let most = ladders.map(|v| distinct_positive(v)).max().unwrap_or(0);
                    if most > 0 {
                        self.report(
                            Code::TeamCompensation,
                            at.clone(),
                            format!("rule \"{id}\" (differential, 级差) pays members above the seller the spread between their rate and the rate paid below them: pay on a downline's sales (团队计酬)"),
                        );
                    }
                    if deep && most > 0 {
                        self.report(
                            Code::TooManyTiers,
                            at.clone(),
                            format!("rule \"{id}\" (differential) walks up the chain until the top rate is paid, passing over members it does not pay, so the levels it reaches are not bounded by three"),
                        );
                    } else if most > 3 {
                        self.report(
                            Code::TooManyTiers,
                            at.clone(),
                            format!("rule \"{id}\" (differential) can pay {most} members of one chain, one for each distinct rate of the ladder: more than three levels (层级) are paid"),
                        );
                    }
                }
                RuleKind::Peer(p) => {
                    let mut pays = may_pay(&p.rate);
                    self.rate(&p.rate, &format!("{at}.rate"), id);
                    for (c, spec) in p.by_category.iter() {
                        let path = format!("{}.rate", self.category_path(&at, *c));
                        self.rate(spec, &path, id);
                        pays |= may_pay(spec);
                    }
                    if !pays {
                        continue;
                    }
                    self.report(
                        Code::TeamCompensation,
                        at.clone(),
                        format!("rule \"{id}\" (peer, 平级奖) pays members above the seller on the seller's sale: pay on a downline's sales (团队计酬)"),
                    );
                    if deep {
                        self.report(
                            Code::TooManyTiers,
                            at.clone(),
                            format!("rule \"{id}\" (peer) passes over members of another rank, so the members it pays can be any number of levels above the seller"),
                        );
                    } else if p.generations >= 3 {
                        self.report(
                            Code::TooManyTiers,
                            format!("{at}.generations"),
                            format!("rule \"{id}\" (peer) pays {} generations above the seller: with the seller, more than three levels (层级) of one chain are paid", p.generations),
                        );
                    }
                }
                RuleKind::Pool(p) => {
                    if let crate::rule::Split::WeightedBy(metric) = &p.split {
                        let path = format!("{at}.split.weighted_by");
                        if matches!(metric, Metric::TeamSales) {
                            self.report(
                                Code::TeamCompensation,
                                path.clone(),
                                format!("rule \"{id}\" (pool) shares the pool by team_sales, the sales of the member's whole downline: pay on a downline's sales (团队计酬)"),
                            );
                        }
                        self.metric(metric, &path, &format!("the pool share of rule \"{id}\""));
                    }
                }
            }
        }
    }
}

/// Whether a slot can pay anything.
fn may_pay(spec: &RateSpec) -> bool {
    match spec {
        RateSpec::Price(p) => pays(*p),
        RateSpec::Steps(s) => s.steps.iter().any(|(_, p)| pays(*p)),
    }
}

fn pays(p: Price) -> bool {
    p.value() > Decimal::ZERO
}

/// Distinct rates above zero of a ladder: the most members a differential
/// pays on one order.
fn distinct_positive(rates: &[Decimal]) -> usize {
    let mut seen: Vec<Decimal> = rates
        .iter()
        .copied()
        .filter(|r| *r > Decimal::ZERO)
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Lint `policy` under `profile`: the policy's own findings (no batch).
///
/// ```
/// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}],
///   "rules": [{"id": "dist", "type": "levels", "rates": ["0.10", "0.05", "0.03", "0.02"]}]}"#)?;
/// let lint = fenrun::lint(&policy, fenrun::Profile::CnDistribution);
/// let found: Vec<_> = lint.findings.iter().map(|f| (f.code.name(), f.path.as_str())).collect();
/// assert_eq!(found, [("team_compensation", "rules[0].rates[1]"), ("too_many_tiers", "rules[0].rates[3]")]);
/// # Ok::<(), fenrun::Error>(())
/// ```
pub fn lint(policy: &Policy, profile: Profile) -> Lint {
    let mut l = Linter {
        policy,
        profile,
        findings: Vec::new(),
    };
    if let Some(c) = &policy.active_if {
        l.condition(c, "active_if", "activity (active_if)");
    }
    for (i, rank) in policy.ranks().iter().enumerate() {
        let id = rank.id.as_str();
        if let Some(c) = &rank.upgrade {
            l.condition(
                c,
                &format!("ranks[{i}].upgrade"),
                &format!("the upgrade to rank \"{id}\""),
            );
        }
        if let Some(c) = &rank.retain {
            l.condition(
                c,
                &format!("ranks[{i}].retain"),
                &format!("keeping rank \"{id}\" (retain)"),
            );
        }
    }
    l.rules();
    Lint {
        profile,
        findings: l.findings,
    }
}

/// [`lint`] of `state`'s policy, then the findings of settlement `s`.
pub(crate) fn lint_settled(state: &State, s: &Settlement, profile: Profile) -> Result<Lint> {
    check_same(state, s)?;
    let mut out = lint(&state.policy, profile);
    let mut l = Linter {
        policy: &state.policy,
        profile,
        findings: Vec::new(),
    };
    let scale = s.scale();
    if Code::PayoutOver30Percent.under(profile).is_some() {
        let limit = Decimal::new(30, 2);
        let sales = own_sales(state)?;
        for (m, total) in totals_by_member(state, s).into_iter().enumerate() {
            let own = sales.get(m).copied().unwrap_or_default();
            if total <= Decimal::ZERO || own.checked_mul(limit).is_some_and(|x| total <= x) {
                continue;
            }
            let id = state.batch.ids.get(crate::ids::idx32(m));
            let earns = money_string(total, scale);
            let message = match total.checked_div(own).filter(|_| own > Decimal::ZERO) {
                Some(r) => format!(
                    "member \"{id}\" earns {earns}, {} of its own net sales of {}: above 30 %",
                    percent_string(r),
                    money_string(own, scale)
                ),
                None => format!(
                    "member \"{id}\" earns {earns} with no net sales of its own: above 30 % of its own sales"
                ),
            };
            l.report(
                Code::PayoutOver30Percent,
                format!("batch.members[{m}]"),
                message,
            );
        }
    }
    let limit = profile.payout_ratio_limit();
    if let Some(r) = s.payout_ratio().filter(|r| *r > limit) {
        l.report(
            Code::PayoutRatio,
            "$".into(),
            format!(
                "the batch pays {} of its net sales ({} of {}): above the {} % this profile warns at",
                percent_string(r),
                money_string(s.total_paid(), scale),
                money_string(s.net_sales(), scale),
                short_string(limit * Decimal::ONE_HUNDRED)
            ),
        );
    }
    out.findings.append(&mut l.findings);
    Ok(out)
}
