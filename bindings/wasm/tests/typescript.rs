//! `js/schema.d.ts` is generated from the core's schema (`fenrun::schema()`):
//! this test writes what the schema gives and fails if the committed file
//! differs. Regenerate with
//! `FENRUN_BLESS=1 cargo test -p fenrun-wasm --test typescript`.
//! Only the mapping of the schema's value kinds to TypeScript types lives here.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed expectation is a test failure

use std::fmt::Write as _;
use std::path::Path;

use fenrun::{Field, Value};

/// A union of string literals.
fn literals<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = words.into_iter().map(|w| format!("\"{w}\"")).collect();
    quoted.join(" | ")
}

/// The TypeScript type of a field's value.
fn ts_type(value: &Value) -> String {
    match value {
        Value::Rate => "DecimalString".into(),
        Value::Rates => "DecimalString[]".into(),
        Value::Rank | Value::Text => "string".into(),
        Value::Flag => "boolean".into(),
        Value::Count => "number".into(),
        Value::Choice(words) => literals(words.iter().copied()),
        Value::Split => "\"equal\" | { weighted_by: PoolWeight }".into(),
        Value::OrderRate => "OrderRate".into(),
        Value::OrderRates => "OrderRate[]".into(),
        Value::RankRates => "Record<string, DecimalString>".into(),
        Value::ByCategory(f) => format!("Record<string, {{ {} }}>", member(f)),
        other => panic!("no TypeScript type for {other:?}: add one here"),
    }
}

/// End the union just written: its last line's newline becomes `;`.
fn out_end(w: &mut String) {
    w.pop();
    w.push_str(";\n");
}

/// `name: T` or `name?: T`.
fn member(f: &Field) -> String {
    let optional = if f.required { "" } else { "?" };
    format!("{}{optional}: {}", f.name, ts_type(&f.value))
}

fn generate() -> String {
    let s = fenrun::schema();
    let mut out = String::new();
    let w = &mut out;
    writeln!(
        w,
        "// Generated from the core's schema (`fenrun::schema()`, `fenrun schema`) by"
    )
    .unwrap();
    writeln!(
        w,
        "// bindings/wasm/tests/typescript.rs; do not edit. Regenerate with"
    )
    .unwrap();
    writeln!(
        w,
        "// FENRUN_BLESS=1 cargo test -p fenrun-wasm --test typescript"
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(w, "/** A decimal as text: \"12.50\", \"0.15\", \"100\". Money never travels as a JS number. */").unwrap();
    writeln!(w, "export type DecimalString = string;").unwrap();
    writeln!(w).unwrap();
    let versions: Vec<String> = s.versions.iter().map(i64::to_string).collect();
    writeln!(w, "/** The policy `version`s this package reads. */").unwrap();
    writeln!(w, "export type PolicyVersion = {};", versions.join(" | ")).unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "export type Metric = {};",
        literals(s.metrics.iter().map(|m| m.name))
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "/** The metrics that can weight a pool (they need no parameter). */"
    )
    .unwrap();
    let weights = s.metrics.iter().filter(|m| m.weights_pools).map(|m| m.name);
    writeln!(w, "export type PoolWeight = {};", literals(weights)).unwrap();
    writeln!(w).unwrap();
    writeln!(w, "export type Op = {};", literals(s.ops.iter().copied())).unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "export type RoundingMode = {};",
        literals(s.rounding_modes.iter().copied())
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "export type ErrorFamily = {};",
        literals(s.error_families.iter().copied())
    )
    .unwrap();
    writeln!(w).unwrap();
    let kinds = s.rule_kinds.iter().map(|k| k.kind);
    writeln!(w, "export type RuleType = {};", literals(kinds)).unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "/** A leaf's operator with its threshold (a decimal string, or an integer). */"
    )
    .unwrap();
    writeln!(
        w,
        "export type Comparison = {{ [O in Op]?: DecimalString | number }};"
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "/** One metric with its parameters (a condition leaf's, a step table's). */"
    )
    .unwrap();
    writeln!(w, "export type MetricWithParams =").unwrap();
    for m in &s.metrics {
        let params: String = m
            .params
            .iter()
            .map(|p| format!("; {}", member(p)))
            .collect();
        writeln!(w, "  | {{ metric: \"{}\"{params} }}", m.name).unwrap();
    }
    out_end(w);
    writeln!(w).unwrap();
    writeln!(w, "/** A comparison leaf: one metric with its parameters, one operator with its threshold. */").unwrap();
    writeln!(w, "export type Leaf = Comparison & MetricWithParams;").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "export type Condition = Leaf | {{ all: Condition[] }} | {{ any: Condition[] }} | {{ not: Condition }};").unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "/** A fixed amount per order in place of a rate (version 2). */"
    )
    .unwrap();
    writeln!(
        w,
        "export type Fixed = {{ fixed: DecimalString; per?: \"order\" | \"unit\"; limit?: \"amount\" | \"none\" }};"
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(w, "/** A step table (version 2): the rate of the last step whose `from` is at most the member's metric. */").unwrap();
    writeln!(
        w,
        "export type StepTable = MetricWithParams & {{ steps: [DecimalString | number, DecimalString | Fixed][] }};"
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "/** What an order rule pays a beneficiary: a rate, a fixed amount or a step table. */"
    )
    .unwrap();
    writeln!(
        w,
        "export type OrderRate = DecimalString | Fixed | StepTable;"
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(w, "export type Rule =").unwrap();
    for k in &s.rule_kinds {
        let fields: String = k
            .fields
            .iter()
            .map(|f| format!("; {}", member(f)))
            .collect();
        writeln!(w, "  | {{ id: string; type: \"{}\"{fields} }}", k.kind).unwrap();
    }
    out_end(&mut out);
    out
}

#[test]
fn schema_declarations_are_generated_from_the_core() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("js/schema.d.ts");
    let generated = generate();
    if std::env::var_os("FENRUN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is not what the core's schema gives; regenerate it with \
         FENRUN_BLESS=1 cargo test -p fenrun-wasm --test typescript",
        path.display()
    );
}
