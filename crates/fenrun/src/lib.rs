//! # fenrun — exact, explainable profit splits (分润) for community retail
//!
//! fenrun evaluates a declared referral and profit-split policy over one
//! period's batch of members, groups, orders and refunds: who holds which
//! rank (会员 member → 群主 group owner → 团长 team leader → 合伙人 partner),
//! and how much each member earns from each sale, to the cent, with every
//! payout line explained. Money is [`rust_decimal::Decimal`] end to end.
//!
//! The contract is SPEC.md (policy semantics version 1); `docs/` in the
//! repository explains the concepts, the policy format and every error code.
//!
//! ```
//! let policy = fenrun::Policy::from_json(r#"{
//!   "version": 1,
//!   "ranks": [{"id": "member"},
//!             {"id": "group_owner", "rate": "0.10"},
//!             {"id": "team_leader", "rate": "0.15"}],
//!   "rules": [{"id": "spread", "type": "differential"}]
//! }"#)?;
//! let batch = fenrun::Batch::from_json(r#"{
//!   "members": [{"id": "m4", "rank": "team_leader"},
//!               {"id": "m9", "sponsor": "m4", "rank": "group_owner"}],
//!   "events": [{"id": "o17", "seller": "m9", "buyer": "c1", "amount": "120.00"}]
//! }"#, &policy)?;
//! let settlement = fenrun::settle(&policy, batch)?;
//! // m9 earns its 10 points, m4 the 5-point differential above it (级差).
//! assert_eq!(settlement.total_of("m9").unwrap().to_string(), "12.00");
//! assert_eq!(settlement.total_of("m4").unwrap().to_string(), "6.00");
//! # Ok::<(), fenrun::Error>(())
//! ```
//!
//! ## The API in one screen
//! - [`Policy`]: a validated policy, its ladder of [`Rank`]s and its [`Rule`]s
//!   (each a [`RuleKind`]; an order rule pays by [`RateSpec`]: a [`Price`]
//!   or [`Steps`], per category in a [`ByCategory`]). [`Batch`]: a
//!   validated batch of members, groups
//!   and events; [`BatchBuilder`] and [`input`] take columnar records.
//! - [`Engine`]: owns a policy and a batch with ranks evaluated and rules
//!   prepared. [`Engine::settle`], [`Engine::settle_with`] with
//!   [`SettleOptions`] ([`Lines`] kept, streamed or totals only; threads;
//!   a [`SettleProgress`] another thread reads for a progress bar),
//!   [`Engine::settle_to`] for a line sink, [`Engine::explain`],
//!   [`Engine::progress`], [`Engine::rank_changes`]; [`Engine::settle_part`],
//!   [`Part::merge`] and [`Engine::finish`] settle a batch in parts (§10.6);
//!   across machines, [`Sums`] of each machine's orders merge, and
//!   [`Engine::with_sums`], [`Engine::part_bytes`] and [`Engine::read_part`]
//!   carry the ranks and parts between them.
//! - [`Settlement`]: its lines ([`LineView`]), totals, [`RankChange`]s with
//!   their [`Because`], summary, and canonical JSON.
//! - [`Error`]: every failure, with a stable code, its [`ErrorFamily`] and
//!   the JSON path of the record and field; [`ErrorReport`] is its JSON form.
//! - JSON text in, JSON text out: [`settle_json`], [`explain_json`],
//!   [`evaluate_ranks_json`], [`check_policy_json`], [`check_batch_json`]
//!   ([`check_object_batch_json`] for a binding's object),
//!   [`error_json`]; a JSON syntax error names its document ([`Error::in_document`]).
//! - Money: [`Rounding`], [`RoundingMode`], [`money_string`], [`percent_string`]; the
//!   [`limits`].
//! - [`schema`]: the policy grammar as data ([`Schema`]), which the
//!   bindings' type declarations are generated from.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Every narrowing or sign-changing cast is written out with its reason.
#![warn(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod api;
mod batch;
mod blocks;
mod check;
mod compare;
mod condition;
mod doc;
mod engine;
mod error;
mod event_ids;
mod events;
mod explain;
mod graph;
mod heavy;
mod hold;
mod ids;
mod index;
pub mod input;
mod kernel;
mod ledger;
pub mod limits;
mod lines;
mod lint;
mod live;
mod money;
mod output;
mod paths;
mod policy;
mod progress;
mod rank;
mod rule;
mod running;
mod schema;
mod settle;
mod spread;
mod state;
mod stats;
mod upline;

// docs/ledger.md's Rust example, compiled and run with the doctests so the guide stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/ledger.md")]
pub struct LedgerGuide;

pub use api::{
    check_batch_json, check_object_batch_json, check_policy_json, compare, compare_json,
    error_json, evaluate_ranks_json, explain_json, lint_json, settle, settle_json, stats_json,
};
pub use batch::{Batch, BatchBuilder, Finished, RowBuilder};
pub use compare::{Comparison, MemberDelta, Side};
pub use engine::{Engine, Lines, SettleOptions};
pub use error::{Error, ErrorFamily, ErrorReport, Result};
pub use hold::{Hold, HoldFrom, Timestamp};
pub use ids::{EventId, GroupId, MemberId, RankId, RuleId};
pub use ledger::{Applied, Ledger, Tally};
pub use lines::{LineNames, LineTable, LineView};
pub use lint::{lint, Code as LintCode, Finding, Lint, Profile, Severity};
pub use live::EventLines;
pub use money::{
    money_string, percent_string, percent_text, short_string, units_at, Rounding, RoundingMode,
    RATIO_PLACES,
};
pub use policy::{Policy, Rank};
pub use progress::SettleProgress;
pub use rank::{Because, LeafProgress, Params, Progress, RankChange};
pub use rule::{
    ByCategory, Differential, Field, Ineligible, Levels, Peer, PeerMatch, Pool, Price, RateSpec,
    Rule, RuleKind, Split, Steps, Value,
};
pub use schema::{schema, MetricSchema, RuleKindSchema, Schema};
pub use settle::{Part, Settlement};
pub use spread::Sums;
pub use stats::{Earnings, MemberEarnings, RankStats, Sources, Stats};
