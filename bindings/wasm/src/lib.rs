//! The WebAssembly binding of fenrun (npm package `fenrun`).
//!
//! JSON text in, JSON text out: the JavaScript wrapper (`bindings/wasm/js`)
//! turns objects into JSON text and errors into `FenrunError`s. A refusal is
//! thrown as the core's error report, `{"code","family","path","message"}`,
//! as a JSON string. Every rule, default, rounding and message is the core's.
#![deny(missing_docs)]

use fenrun::Engine;
use wasm_bindgen::prelude::*;

fn thrown(e: &fenrun::Error) -> JsValue {
    JsValue::from_str(&fenrun::error_json(e))
}

/// Validate a policy given as JSON text; throws the error report.
#[wasm_bindgen(js_name = checkPolicy)]
pub fn check_policy(policy: &str) -> Result<(), JsValue> {
    fenrun::check_policy_json(policy)
        .map(|_| ())
        .map_err(|e| thrown(&e))
}

/// A ratio (the summary's `payout_ratio`) as people read it, "22.00 %", as
/// the CLI's summary shows it; `undefined` for text that is not a decimal.
#[wasm_bindgen]
pub fn percent(ratio: &str) -> Option<String> {
    fenrun::percent_text(ratio)
}

/// The library's version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Every error code of the core, as a JSON array.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> String {
    serde_json::to_string(fenrun::Error::CODES).unwrap_or_default()
}

/// The core's report of a trap (a panic of the core) whose detail is
/// `what`, as JSON: the wrapper reads it at start-up and fills it in when a
/// call traps, since a trapped module is not called again.
#[wasm_bindgen(js_name = panicReport)]
pub fn panic_report(what: &str) -> String {
    fenrun::error_json(&fenrun::Error::panic(what))
}

/// Compare policy A and policy B on one batch (JSON text): the comparison
/// document as canonical JSON, what `fenrun diff` prints. With
/// `strings_only` (the batch came from a JS object), money given as a
/// number is refused (`number_money`).
#[wasm_bindgen(js_name = compareJson)]
pub fn compare_json(
    policy_a: &str,
    policy_b: &str,
    batch: &str,
    strings_only: bool,
) -> Result<String, JsValue> {
    let run = || -> fenrun::Result<String> {
        let out = fenrun::compare_json(policy_a, policy_b, batch)?;
        if strings_only {
            // Both policies are valid here: this refuses money given as a number.
            fenrun::check_object_batch_json(batch, &fenrun::check_policy_json(policy_a)?)?;
        }
        Ok(out)
    };
    run().map_err(|e| thrown(&e))
}

/// The compliance lint of a policy alone under `profile`, as JSON, what
/// `fenrun lint --format json` prints without a batch.
#[wasm_bindgen(js_name = lintJson)]
pub fn lint_json(policy: &str, profile: &str) -> Result<String, JsValue> {
    fenrun::lint_json(policy, profile, None).map_err(|e| thrown(&e))
}

/// The options of a settlement asked from JavaScript: lines kept or not,
/// and an `asOf` time (RFC 3339 text, read by the core).
fn settle_options(lines: bool, as_of: Option<&str>) -> fenrun::Result<fenrun::SettleOptions> {
    let options = fenrun::SettleOptions::default().lines(fenrun::Lines::kept(lines));
    Ok(match as_of {
        Some(t) => options.as_of(fenrun::Timestamp::parse_as_of(t)?),
        None => options,
    })
}

/// A policy and a batch, validated, with ranks evaluated and rules prepared:
/// settle, explain and show progress without evaluating twice.
#[wasm_bindgen]
pub struct Session {
    prepared: Engine,
    /// Its totals-only settlement, made once for the measures, the lint
    /// and the Lorenz curve.
    totals: std::cell::OnceCell<fenrun::Settlement>,
}

impl Session {
    /// The totals-only settlement the analyses read, settled on first use.
    fn totals(&self) -> fenrun::Result<&fenrun::Settlement> {
        if let Some(s) = self.totals.get() {
            return Ok(s);
        }
        let options = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly);
        let settled = self.prepared.settle_with(options)?;
        Ok(self.totals.get_or_init(|| settled))
    }
}

#[wasm_bindgen]
impl Session {
    /// Validate `policy` and `batch` (JSON text). With `strings_only` (the
    /// batch came from a JS object), money given as a number is refused
    /// (`number_money`).
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &str, batch: &str, strings_only: bool) -> Result<Session, JsValue> {
        let open = || -> fenrun::Result<Engine> {
            let policy = fenrun::check_policy_json(policy)?;
            let batch = if strings_only {
                fenrun::check_object_batch_json(batch, &policy)?
            } else {
                fenrun::check_batch_json(batch, &policy)?
            };
            Engine::new(&policy, batch)
        };
        open()
            .map(|prepared| Session {
                prepared,
                totals: std::cell::OnceCell::new(),
            })
            .map_err(|e| thrown(&e))
    }

    /// The settlement as canonical JSON (SPEC §9), what `fenrun settle` prints;
    /// without `lines`, what `fenrun settle --no-lines` prints (`"lines": []`);
    /// with `as_of`, the totals split at that time (`--as-of`).
    #[wasm_bindgen(js_name = settleJson)]
    pub fn settle_json(&self, lines: bool, as_of: Option<String>) -> Result<String, JsValue> {
        settle_options(lines, as_of.as_deref())
            .and_then(|options| self.prepared.settle_with(options))
            .map(|s| s.to_json())
            .map_err(|e| thrown(&e))
    }

    /// The distribution measures of the settlement as JSON (the `stats` of
    /// `fenrun settle --stats`).
    #[wasm_bindgen(js_name = statsJson)]
    pub fn stats_json(&self) -> Result<String, JsValue> {
        let run = || -> fenrun::Result<String> {
            let settled = self.totals()?;
            Ok(self.prepared.stats(settled)?.to_json())
        };
        run().map_err(|e| thrown(&e))
    }

    /// The compliance lint of the policy and the settlement under `profile`,
    /// as JSON, what `fenrun lint --format json` prints with a batch.
    #[wasm_bindgen(js_name = lintJson)]
    pub fn lint_json(&self, profile: &str) -> Result<String, JsValue> {
        let run = || -> fenrun::Result<String> {
            let profile = fenrun::Profile::from_name(profile)?;
            let settled = self.totals()?;
            Ok(self.prepared.lint(settled, profile)?.to_json())
        };
        run().map_err(|e| thrown(&e))
    }

    /// The Lorenz curve of the members' totals at `points` + 1 points, as a
    /// JSON array of `[share of members, share of the total paid]` decimal
    /// strings (empty when nothing is paid).
    #[wasm_bindgen(js_name = lorenzJson)]
    pub fn lorenz_json(&self, points: usize) -> Result<String, JsValue> {
        let run = || -> fenrun::Result<String> {
            let settled = self.totals()?;
            let curve = self.prepared.earnings(settled)?.lorenz(points)?;
            let pairs: Vec<[String; 2]> = curve
                .into_iter()
                .map(|(x, y)| [x.to_string(), y.to_string()])
                .collect();
            Ok(serde_json::to_string(&pairs).unwrap_or_default())
        };
        run().map_err(|e| thrown(&e))
    }

    /// `{"rank_changes": [...]}` as canonical JSON, what `fenrun ranks` prints.
    #[wasm_bindgen(js_name = ranksJson)]
    pub fn ranks_json(&self) -> String {
        self.prepared.rank_changes_json()
    }

    /// One order's lines in words, as a JSON array of strings.
    pub fn explain(&self, order: &str) -> Result<String, JsValue> {
        let lines = self.prepared.explain(order).map_err(|e| thrown(&e))?;
        Ok(serde_json::to_string(&lines).unwrap_or_default())
    }

    /// A member's evaluated rank and its progress towards the next rank, as
    /// JSON; `undefined` for an unknown member.
    pub fn progress(&self, member: &str) -> Result<Option<String>, JsValue> {
        let p = self.prepared.progress(member).map_err(|e| thrown(&e))?;
        Ok(p.and_then(|p| serde_json::to_string(&p).ok()))
    }
}

/// One open period of a policy taking events as they arrive (SPEC §14):
/// the core's `Ledger`, events and documents as JSON text.
#[wasm_bindgen]
pub struct Ledger {
    ledger: fenrun::Ledger,
}

#[wasm_bindgen]
impl Ledger {
    /// Open a period of `policy` with the batch document `start` (members,
    /// groups, and events applied in order). With `strings_only` (it came
    /// from a JS object), money given as a number is refused.
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &str, start: &str, strings_only: bool) -> Result<Ledger, JsValue> {
        let open = || -> fenrun::Result<fenrun::Ledger> {
            let policy = fenrun::check_policy_json(policy)?;
            let value = fenrun::input::value_from_json(start)?;
            if strings_only {
                fenrun::input::require_string_money(&value)?;
            }
            fenrun::Ledger::open_value(&policy, value)
        };
        open()
            .map(|ledger| Ledger { ledger })
            .map_err(|e| thrown(&e))
    }

    /// A period from a snapshot's bytes, for the same policy.
    pub fn restore(policy: &str, snapshot: &[u8]) -> Result<Ledger, JsValue> {
        let open = || -> fenrun::Result<fenrun::Ledger> {
            fenrun::Ledger::restore(&fenrun::check_policy_json(policy)?, snapshot)
        };
        open()
            .map(|ledger| Ledger { ledger })
            .map_err(|e| thrown(&e))
    }

    /// Apply one event (JSON text): `{"position","duplicate","lines"?}` as JSON.
    #[wasm_bindgen(js_name = applyJson)]
    pub fn apply_json(&mut self, event: &str, strings_only: bool) -> Result<String, JsValue> {
        if strings_only {
            self.ledger.apply_object_json(event)
        } else {
            self.ledger.apply_json(event)
        }
        .map(|a| a.to_json())
        .map_err(|e| thrown(&e))
    }

    /// Apply the events of JSON Lines text (with `strings_only`, made from
    /// JavaScript objects: money as strings): `{"applied","duplicates"}` as JSON.
    #[wasm_bindgen(js_name = applyLines)]
    pub fn apply_lines(&mut self, lines: &str, strings_only: bool) -> Result<String, JsValue> {
        if strings_only {
            self.ledger.apply_object_json_lines(lines)
        } else {
            self.ledger.apply_json_lines(lines)
        }
        .map(|t| t.to_json())
        .map_err(|e| thrown(&e))
    }

    /// The settlement of the events so far as canonical JSON (what
    /// `fenrun ledger settle` prints); without `lines`, `"lines": []`; with
    /// `as_of`, the totals split at that time.
    #[wasm_bindgen(js_name = settleJson)]
    pub fn settle_json(&self, lines: bool, as_of: Option<String>) -> Result<String, JsValue> {
        settle_options(lines, as_of.as_deref())
            .and_then(|options| self.ledger.settlement_with(options))
            .map(|s| s.to_json())
            .map_err(|e| thrown(&e))
    }

    /// The period's rank changes so far as `{"rank_changes": [...]}` JSON.
    #[wasm_bindgen(js_name = rankChangesJson)]
    pub fn rank_changes_json(&self) -> Result<String, JsValue> {
        self.ledger.rank_changes_json().map_err(|e| thrown(&e))
    }

    /// The period as snapshot bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        self.ledger.snapshot()
    }

    /// Events applied so far.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.ledger.len()
    }

    /// The policy's fingerprint, which the snapshot names.
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.ledger.policy().fingerprint().to_owned()
    }
}
