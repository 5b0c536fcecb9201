// Every golden vector through the npm package, with the same bytes as the Rust CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fenrun, vectors, policyText, batchText, cli } from "./helpers.mjs";

// Ledger vectors (a stream of events instead of a batch) run in ledger.test.mjs.
const VECTORS = vectors().filter(([, v]) => !("ledger" in v));

function hasNumberMoney(batch) {
  if (!batch || typeof batch !== "object") return false;
  const events = Array.isArray(batch.events) ? batch.events : [];
  const members = Array.isArray(batch.members) ? batch.members : [];
  return (
    events.some((e) => e && typeof e.amount === "number") ||
    members.some((m) => m && m.attrs && Object.values(m.attrs).some((x) => typeof x === "number"))
  );
}

function checkError(v, err) {
  assert.ok(err instanceof fenrun.FenrunError, `not a FenrunError: ${err}`);
  assert.ok(err instanceof Error);
  assert.deepEqual([err.code, err.path], [v.expect_error.code, v.expect_error.path], err.message);
  if (v.expect_error.message_contains) assert.ok(err.message.includes(v.expect_error.message_contains));
}

function checkLint(want, got) {
  for (const key of ["profile", "errors", "warnings"]) assert.equal(got[key], want[key], `lint \`${key}\` differs`);
  assert.equal(got.findings.length, want.findings.length, JSON.stringify(got.findings));
  want.findings.forEach((w, i) => {
    for (const [key, value] of Object.entries(w)) assert.equal(got.findings[i][key], value, `finding ${i} \`${key}\``);
  });
}

// The vector's measures, comparison and lint, as the Rust runner checks them.
function checkAnalysis(v, policy, batch) {
  if (!v.expect_stats && !v.expect_compare && !v.expect_lint) return;
  const s = fenrun.settle(policy, batch);
  if (v.expect_stats) assert.deepEqual(fenrun.stats(s), v.expect_stats);
  if (v.expect_compare) {
    const got = fenrun.compare(policy, JSON.stringify(v.policy_b), batch);
    for (const [key, want] of Object.entries(v.expect_compare)) assert.deepEqual(got[key], want, `comparison \`${key}\` differs`);
  }
  if (v.expect_lint) checkLint(v.expect_lint, fenrun.lint(s, v.lint_profile));
}

test("every vector is replayed", () => {
  assert.ok(VECTORS.length >= 130, `${VECTORS.length} vectors`);
  assert.ok(VECTORS.filter(([, v]) => v.expect_lint).length >= 19);
  assert.ok(VECTORS.filter(([, v]) => v.expect_compare).length >= 2);
  assert.ok(VECTORS.filter(([, v]) => v.expect_stats).length >= 3);
});

for (const [name, v] of VECTORS) {
  test(`vector ${name} (JSON text)`, () => {
    const policy = policyText(v);
    const batch = batchText(v);
    if (batch === undefined) {
      if (v.expect_error) assert.throws(() => fenrun.validatePolicy(policy), (e) => (checkError(v, e), true));
      else fenrun.validatePolicy(policy);
      if (v.expect_lint) checkLint(v.expect_lint, fenrun.lint(policy, v.lint_profile));
      return;
    }
    if (v.expect_error) {
      assert.throws(() => fenrun.settleJson(policy, batch), (e) => (checkError(v, e), true));
      return;
    }
    const out = fenrun.settleJson(policy, batch);
    const doc = JSON.parse(out);
    for (const [key, want] of Object.entries(v.expect ?? {})) assert.deepEqual(doc[key], want, `\`${key}\` differs`);
    const rust = cli("settle", policy, batch);
    assert.equal(rust.status, 0, rust.stderr);
    assert.equal(rust.stdout, out + "\n", "bytes differ from the CLI");
    if (v.expect_explain) {
      const s = fenrun.settle(policy, batch);
      assert.deepEqual(fenrun.explain(s, v.expect_explain.order), v.expect_explain.text);
    }
    for (const entry of v.expect_as_of ?? []) {
      const at = fenrun.settleJson(policy, batch, { asOf: entry.as_of });
      const doc = JSON.parse(at);
      for (const [key, want] of Object.entries(entry)) {
        if (key !== "as_of") assert.deepEqual(doc[key], want, `as of ${entry.as_of}: \`${key}\` differs`);
      }
      const cliAt = cli("settle", policy, batch, "--as-of", entry.as_of);
      assert.equal(cliAt.status, 0, cliAt.stderr);
      assert.equal(cliAt.stdout, at + "\n", "bytes differ from the CLI");
    }
    checkAnalysis(v, policy, batch);
  });

  if (v.expect && typeof v.policy === "object" && typeof v.batch === "object" && !("batch_text" in v)) {
    test(`vector ${name} (objects)`, () => {
      if (hasNumberMoney(v.batch)) {
        // JSON integers are money in text; a JS number never is.
        assert.throws(() => fenrun.settle(v.policy, v.batch), (e) => e.code === "number_money");
        return;
      }
      const s = fenrun.settle(v.policy, v.batch);
      assert.equal(JSON.stringify(s), JSON.stringify(JSON.parse(fenrun.settleJson(policyText(v), batchText(v)))));
    });
  }
}

// The shop-system examples: the hand-worked settlement and the split as of a time.
for (const name of ["yudao", "crmeb"]) {
  test(`example ${name}`, async () => {
    const { readFileSync } = await import("node:fs");
    const dir = new URL(`../../../examples/${name}/`, import.meta.url);
    const read = (f) => readFileSync(new URL(f, dir), "utf8");
    const doc = fenrun.settle(read("policy.json"), read("batch.json"));
    for (const [key, want] of Object.entries(JSON.parse(read("expected.json")))) assert.deepEqual(doc[key], want, `${name}: ${key}`);
    const at = JSON.parse(read("as-of.json"));
    const split = fenrun.settle(read("policy.json"), read("batch.json"), { asOf: at.as_of });
    assert.deepEqual(split.totals, at.totals);
    assert.equal(split.summary.pending_total, at.pending_total);
  });
}
