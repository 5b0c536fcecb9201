//! Test helpers for fenrun: the golden-vector loader and runner shared by the
//! Rust test suite (and mirrored by the Python and JavaScript suites).
//!
//! A vector is one JSON file under `tests/vectors/`; its format is described in
//! `tests/vectors/README.md`.

pub mod fuzz;
pub use fenrun_gen as gen;
pub mod world;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// One golden vector.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// What the vector checks, in one line.
    pub name: String,
    /// The hand arithmetic behind the expected values.
    pub why: String,
    /// The policy document, kept byte for byte as written.
    #[serde(default)]
    pub policy: Option<Box<RawValue>>,
    /// The policy as raw text (for inputs that are not valid JSON).
    #[serde(default)]
    pub policy_text: Option<String>,
    /// The batch document; absent for policy-only vectors.
    #[serde(default)]
    pub batch: Option<Box<RawValue>>,
    /// The batch as raw text (for inputs that are not valid JSON).
    #[serde(default)]
    pub batch_text: Option<String>,
    /// Expected parts of the settlement document (each key compared whole).
    #[serde(default)]
    pub expect: Option<serde_json::Map<String, Value>>,
    /// Expected explanation of one order: `{"order": id, "text": [lines]}`.
    #[serde(default)]
    pub expect_explain: Option<ExpectExplain>,
    /// Expected error.
    #[serde(default)]
    pub expect_error: Option<ExpectError>,
    /// Expected distribution measures of the settlement (`stats`, whole).
    #[serde(default)]
    pub expect_stats: Option<Value>,
    /// Policy B of a comparison, kept byte for byte as written.
    #[serde(default)]
    pub policy_b: Option<Box<RawValue>>,
    /// Expected parts of the comparison of `policy` (A) with `policy_b` on
    /// the batch (each key compared whole).
    #[serde(default)]
    pub expect_compare: Option<serde_json::Map<String, Value>>,
    /// The compliance profile `expect_lint` is read under.
    #[serde(default)]
    pub lint_profile: Option<String>,
    /// Expected lint document: `profile`, `errors` and `warnings` exactly,
    /// and `findings` one for one, each on the keys it gives.
    #[serde(default)]
    pub expect_lint: Option<Value>,
    /// A ledger's starting members and groups and the events applied to
    /// it one by one (SPEC §14), instead of a batch.
    #[serde(default)]
    pub ledger: Option<LedgerInput>,
    /// The ids of the events a ledger answered as duplicates, in order.
    #[serde(default)]
    pub expect_duplicates: Option<Vec<String>>,
    /// A ledger's answer to each event it applied (`Applied` as JSON:
    /// position, duplicate, and in `immediate` timing the event's lines),
    /// in order, each compared whole.
    #[serde(default)]
    pub expect_answers: Option<Vec<Value>>,
    /// The records of the ledger's snapshot after its last event: the lines
    /// between the header and the checksum, each compared as JSON.
    #[serde(default)]
    pub expect_snapshot: Option<Vec<Value>>,
    /// Settlements asked `as_of` a time (SPEC §14.1): each entry's `as_of`,
    /// and keys of that settlement's document compared whole.
    #[serde(default)]
    pub expect_as_of: Option<Vec<serde_json::Map<String, Value>>>,
}

/// Whether a batch document has an event that is a member, group or
/// `received` event (SPEC §14). Tables carry orders and refunds only, so
/// such a document has no table form (one that only repeats an order or a
/// refund has, §14.2).
pub fn is_stream_document(doc: &Value) -> bool {
    let events = doc
        .get("events")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    events.iter().any(|e| {
        ["member", "group", "received"]
            .iter()
            .any(|k| e.get(k).is_some())
    })
}

/// Check the settlements `as_of` each entry's time of `expect_as_of`
/// against the entry's keys; `settle` settles with the options it is given.
pub fn check_as_of(
    want: &[serde_json::Map<String, Value>],
    settle: impl Fn(fenrun::SettleOptions) -> Result<String, fenrun::Error>,
) -> Result<(), String> {
    for entry in want {
        let at = entry
            .get("as_of")
            .and_then(Value::as_str)
            .ok_or("an expect_as_of entry without `as_of`")?;
        let at = fenrun::Timestamp::parse_as_of(at).map_err(|e| e.to_string())?;
        let out = settle(fenrun::SettleOptions::default().as_of(at)).map_err(|e| e.to_string())?;
        let doc: Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
        for (key, want) in entry.iter().filter(|(k, _)| *k != "as_of") {
            let got = doc.get(key).unwrap_or(&Value::Null);
            if got != want {
                return Err(format!(
                    "as of {at}: `{key}` differs\n  expected: {want}\n  actual:   {got}"
                ));
            }
        }
    }
    Ok(())
}

/// A ledger vector's input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerInput {
    /// The starting members.
    #[serde(default)]
    pub members: Vec<Value>,
    /// The starting groups.
    #[serde(default)]
    pub groups: Vec<Value>,
    /// The events, applied in order; the first refused one ends the run.
    pub events: Vec<Value>,
    /// Snapshot the ledger after this many events and go on with the
    /// restored one.
    #[serde(default)]
    pub restore_after: Option<usize>,
    /// A snapshot's text the ledger is restored from, instead of being
    /// opened with `members` and `groups`.
    #[serde(default)]
    pub restore: Option<String>,
}

/// What a ledger vector's run gave: the ledger, the ids answered as
/// duplicates, and the error that ended it, if any.
pub struct LedgerRun {
    /// The ledger after the run (`None` when it could not be opened).
    pub ledger: Option<fenrun::Ledger>,
    /// Ids of the events answered as duplicates, in order.
    pub duplicates: Vec<String>,
    /// The answer to each event applied, as JSON.
    pub answers: Vec<String>,
    /// The error that ended the run.
    pub error: Option<fenrun::Error>,
}

/// Open (or restore) a vector's ledger and apply its events up to the first
/// refused one.
pub fn run_ledger_events(policy: &fenrun::Policy, input: &LedgerInput) -> LedgerRun {
    let mut run = LedgerRun {
        ledger: None,
        duplicates: Vec::new(),
        answers: Vec::new(),
        error: None,
    };
    let opened = match &input.restore {
        Some(text) => fenrun::Ledger::restore(policy, text.as_bytes()),
        None => fenrun::Ledger::open_value(
            policy,
            serde_json::json!({"members": input.members, "groups": input.groups}),
        ),
    };
    let mut ledger = match opened {
        Ok(l) => l,
        Err(e) => {
            run.error = Some(e);
            return run;
        }
    };
    for (k, event) in input.events.iter().enumerate() {
        if input.restore_after == Some(k) {
            match fenrun::Ledger::restore(policy, &ledger.snapshot()) {
                Ok(l) => ledger = l,
                Err(e) => {
                    run.error = Some(e);
                    break;
                }
            }
        }
        match ledger.apply_value(event.clone()) {
            Ok(applied) => {
                run.answers.push(applied.to_json());
                if applied.duplicate {
                    run.duplicates.push(
                        event
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    );
                }
            }
            Err(e) => {
                run.error = Some(e);
                break;
            }
        }
    }
    run.ledger = Some(ledger);
    run
}

/// The error a vector raises, if any: its ledger's, its batch's
/// settlement's, or its policy's check.
pub fn raised_error(v: &Vector) -> Option<fenrun::Error> {
    let policy = v.policy_text();
    if let Some(input) = &v.ledger {
        return match fenrun::Policy::from_json(&policy) {
            Ok(p) => run_ledger_events(&p, input).error,
            Err(e) => Some(e),
        };
    }
    match v.batch_text() {
        None => fenrun::check_policy_json(&policy).err(),
        Some(batch) => fenrun::settle_json(&policy, &batch).err(),
    }
}

/// An expected error: its code and JSON path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectError {
    /// The stable code.
    pub code: String,
    /// The JSON path of the offending value.
    pub path: String,
    /// Text the message must contain, if given.
    #[serde(default)]
    pub message_contains: Option<String>,
}

impl ExpectError {
    /// The error raised against the expectation: code, path, and the
    /// message's text if given.
    pub fn check(&self, got: &fenrun::Error) -> Result<(), String> {
        if got.code() != self.code || got.path() != self.path {
            return Err(format!(
                "expected error {} at {}, got {} at {}: {got}",
                self.code,
                self.path,
                got.code(),
                got.path()
            ));
        }
        match &self.message_contains {
            Some(part) if !got.to_string().contains(part.as_str()) => {
                Err(format!("message {got:?} lacks {part:?}"))
            }
            _ => Ok(()),
        }
    }
}

/// An expected explanation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectExplain {
    /// The order explained.
    pub order: String,
    /// The lines of text, exactly.
    pub text: Vec<String>,
}

impl Vector {
    /// The policy text handed to the library.
    pub fn policy_text(&self) -> String {
        match (&self.policy_text, &self.policy) {
            (Some(t), _) => t.clone(),
            (None, Some(raw)) => raw.get().to_owned(),
            (None, None) => String::new(),
        }
    }

    /// The batch text handed to the library, if the vector has a batch.
    pub fn batch_text(&self) -> Option<String> {
        match (&self.batch_text, &self.batch) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(raw)) => Some(raw.get().to_owned()),
            (None, None) => None,
        }
    }
}

/// The folder of golden vectors in this repository.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Every `*.json` vector below `dir`, sorted by path, with its path.
pub fn load_vectors(dir: &Path) -> Result<Vec<(PathBuf, Vector)>, String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let v: Vector =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok((p, v))
        })
        .collect()
}

/// Run one vector through the Rust library; `Err` says what differed.
pub fn run_vector(v: &Vector) -> Result<(), String> {
    if let Some(ledger) = &v.ledger {
        return run_ledger(v, ledger);
    }
    let policy = v.policy_text();
    let outcome: Result<Option<String>, fenrun::Error> = match v.batch_text() {
        None => fenrun::check_policy_json(&policy).map(|_| None),
        Some(batch) => fenrun::settle_json(&policy, &batch).map(Some),
    };
    match (&v.expect_error, outcome) {
        (Some(want), Err(got)) => want.check(&got),
        (Some(want), Ok(_)) => Err(format!("expected error {}, got success", want.code)),
        (None, Err(got)) => Err(format!("unexpected error {}: {got}", got.code())),
        (None, Ok(out)) => {
            if let (Some(expect), Some(out)) = (&v.expect, &out) {
                let doc: Value = serde_json::from_str(out).map_err(|e| e.to_string())?;
                for (key, want) in expect {
                    let got = doc.get(key).unwrap_or(&Value::Null);
                    if got != want {
                        return Err(format!(
                            "`{key}` differs\n  expected: {want}\n  actual:   {got}"
                        ));
                    }
                }
                // Determinism: a second run gives the same bytes.
                let again = fenrun::settle_json(&policy, &v.batch_text().unwrap_or_default())
                    .map_err(|e| e.to_string())?;
                if &again != out {
                    return Err("two runs gave different bytes".into());
                }
            }
            if let (Some(want), Some(batch)) = (&v.expect_explain, v.batch_text()) {
                let got = fenrun::explain_json(&policy, &batch, &want.order)
                    .map_err(|e| e.to_string())?;
                if got != want.text {
                    return Err(format!(
                        "explanation differs\n  expected: {:#?}\n  actual:   {got:#?}",
                        want.text
                    ));
                }
            }
            if let (Some(want), Some(batch)) = (&v.expect_as_of, v.batch_text()) {
                let p = fenrun::check_policy_json(&policy).map_err(|e| e.to_string())?;
                let engine = fenrun::check_batch_json(&batch, &p)
                    .and_then(|b| fenrun::Engine::new(&p, b))
                    .map_err(|e| e.to_string())?;
                check_as_of(want, |o| engine.settle_with(o).map(|s| s.to_json()))?;
            }
            run_analysis(v, &policy)?;
            if v.expect.is_none() && v.expect_explain.is_none() && out.is_some() {
                return Err("vector has a batch but no expectation".into());
            }
            Ok(())
        }
    }
}

/// A ledger vector: open, apply each event (snapshot and restore on the
/// way if asked), then the error, the duplicates, the settlement and the
/// snapshot against their expectations. With `expect_error`, the events
/// after the refused one are not applied, and `expect` (if given) is the
/// settlement with the refused event left out.
fn run_ledger(v: &Vector, input: &LedgerInput) -> Result<(), String> {
    let policy = fenrun::Policy::from_json(&v.policy_text()).map_err(|e| e.to_string())?;
    let run = run_ledger_events(&policy, input);
    let (duplicates, refused) = (run.duplicates, run.error);
    if let Some(want) = &v.expect_answers {
        let got = run
            .answers
            .iter()
            .map(|a| serde_json::from_str(a).map_err(|e| e.to_string()))
            .collect::<Result<Vec<Value>, _>>()?;
        if *want != got {
            return Err(format!(
                "answers differ\n  expected: {}\n  actual:   {}",
                Value::from(want.clone()),
                Value::from(got)
            ));
        }
    }
    match (&v.expect_error, &refused) {
        (Some(want), Some(got)) => want.check(got)?,
        (Some(want), None) => return Err(format!("expected error {}, got success", want.code)),
        (None, Some(got)) => return Err(format!("unexpected error {}: {got}", got.code())),
        (None, None) => {}
    }
    if let Some(want) = &v.expect_duplicates {
        if *want != duplicates {
            return Err(format!(
                "duplicates differ: expected {want:?}, got {duplicates:?}"
            ));
        }
    }
    let ledger = match run.ledger {
        Some(ledger) => ledger,
        None if v.expect.is_none() && v.expect_snapshot.is_none() => return Ok(()),
        None => return Err("the ledger did not open".into()),
    };
    if let Some(expect) = &v.expect {
        let out = ledger.settlement().map_err(|e| e.to_string())?.to_json();
        let doc: Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
        for (key, want) in expect {
            let got = doc.get(key).unwrap_or(&Value::Null);
            if got != want {
                return Err(format!(
                    "`{key}` differs\n  expected: {want}\n  actual:   {got}"
                ));
            }
        }
    }
    if let Some(want) = &v.expect_as_of {
        check_as_of(want, |o| ledger.settlement_with(o).map(|s| s.to_json()))?;
    }
    if let Some(want) = &v.expect_snapshot {
        check_snapshot(&ledger.snapshot(), want, &fingerprint(&v.policy_text())?)?;
    }
    if v.expect.is_none() && v.expect_snapshot.is_none() && v.expect_error.is_none() {
        return Err("ledger vector without an expectation".into());
    }
    Ok(())
}

/// A policy's fingerprint as docs/ledger.md defines it, worked out here
/// apart from the library: `sha256:` and the hex SHA-256 of the document
/// with its keys sorted and no whitespace (serde_json's `Value` keeps keys
/// sorted).
pub fn fingerprint(policy: &str) -> Result<String, String> {
    use sha2::Digest;
    let value: Value = serde_json::from_str(policy).map_err(|e| e.to_string())?;
    let digest = sha2::Sha256::digest(value.to_string().as_bytes());
    Ok(format!(
        "sha256:{}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

/// A snapshot against docs/ledger.md: the first line, the header (the
/// policy's fingerprint and the counts), the records (`want`, compared as
/// JSON), and the last line the SHA-256 of every byte before it.
pub fn check_snapshot(bytes: &[u8], want: &[Value], fingerprint: &str) -> Result<(), String> {
    use sha2::Digest;
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let body = text.strip_suffix('\n').ok_or("no final newline")?;
    let (content, last) = body.rsplit_once('\n').ok_or("one line")?;
    let digest = sha2::Sha256::digest(format!("{content}\n").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if last != format!("sha256:{hex}") {
        return Err(format!("checksum line {last:?}, expected sha256:{hex}"));
    }
    let mut lines = content.split('\n');
    if lines.next() != Some("fenrun-ledger-snapshot 1") {
        return Err("first line".into());
    }
    let header: Value =
        serde_json::from_str(lines.next().ok_or("no header")?).map_err(|e| e.to_string())?;
    let records: Vec<Value> = lines
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if header.get("policy").and_then(Value::as_str) != Some(fingerprint) {
        return Err(format!("header {header} does not name {fingerprint}"));
    }
    if records != want {
        return Err(format!(
            "snapshot records differ\n  expected: {want:?}\n  actual:   {records:?}"
        ));
    }
    let counted = ["members", "groups", "events"]
        .iter()
        .filter_map(|k| header.get(*k).and_then(Value::as_u64))
        .sum::<u64>();
    if counted != records.len() as u64 {
        return Err(format!(
            "header {header} counts {counted} records, not {}",
            records.len()
        ));
    }
    Ok(())
}

/// The analysis expectations of a vector: measures, comparison, lint.
fn run_analysis(v: &Vector, policy: &str) -> Result<(), String> {
    let batch = v.batch_text();
    let doc = |text: String| serde_json::from_str::<Value>(&text).map_err(|e| e.to_string());
    if let Some(want) = &v.expect_stats {
        let batch = batch.as_deref().ok_or("expect_stats needs a batch")?;
        let got = doc(fenrun::stats_json(policy, batch).map_err(|e| e.to_string())?)?;
        if got.get("stats").unwrap_or(&Value::Null) != want {
            return Err(format!(
                "`stats` differs\n  expected: {want}\n  actual:   {}",
                got.get("stats").unwrap_or(&Value::Null)
            ));
        }
    }
    if let Some(want) = &v.expect_compare {
        let batch = batch.as_deref().ok_or("expect_compare needs a batch")?;
        let b = v.policy_b.as_ref().ok_or("expect_compare needs policy_b")?;
        let got = doc(fenrun::compare_json(policy, b.get(), batch).map_err(|e| e.to_string())?)?;
        for (key, want) in want {
            if got.get(key) != Some(want) {
                return Err(format!(
                    "comparison `{key}` differs\n  expected: {want}\n  actual:   {}",
                    got.get(key).unwrap_or(&Value::Null)
                ));
            }
        }
    }
    if let Some(want) = &v.expect_lint {
        let profile = v
            .lint_profile
            .as_deref()
            .ok_or("expect_lint needs lint_profile")?;
        let got =
            doc(fenrun::lint_json(policy, profile, batch.as_deref()).map_err(|e| e.to_string())?)?;
        check_lint(want, &got)?;
    }
    Ok(())
}

/// A lint document against its expectation: counts and profile exactly,
/// findings one for one on the keys each expected finding gives.
pub fn check_lint(want: &Value, got: &Value) -> Result<(), String> {
    for key in ["profile", "errors", "warnings"] {
        if want.get(key) != got.get(key) {
            return Err(format!(
                "lint `{key}` differs: expected {}, got {}\n{got}",
                want.get(key).unwrap_or(&Value::Null),
                got.get(key).unwrap_or(&Value::Null)
            ));
        }
    }
    let empty = Vec::new();
    let wanted = want
        .get("findings")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let found = got
        .get("findings")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if wanted.len() != found.len() {
        return Err(format!(
            "{} findings expected, {} found: {got}",
            wanted.len(),
            found.len()
        ));
    }
    for (w, g) in wanted.iter().zip(found) {
        for (key, value) in w.as_object().into_iter().flatten() {
            if g.get(key) != Some(value) {
                return Err(format!(
                    "finding `{key}` differs: expected {value}, got {g}"
                ));
            }
        }
    }
    Ok(())
}
