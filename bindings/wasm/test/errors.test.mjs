// FenrunError carries the core's code, family, path and message; JS numbers never carry money.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fenrun, REPO, cli } from "./helpers.mjs";

const POLICY = {
  version: 1,
  ranks: [{ id: "member" }, { id: "group_owner", rate: "0.10" }],
  rules: [{ id: "spread", type: "differential" }],
};
const MEMBERS = [{ id: "m1", rank: "group_owner" }, { id: "m2", sponsor: "m1" }];

const throwsCode = (f, code, path) =>
  assert.throws(f, (e) => {
    assert.ok(e instanceof fenrun.FenrunError && e instanceof Error, String(e));
    assert.equal(e.name, "FenrunError");
    assert.deepEqual([e.code, e.path], [code, path], e.message);
    assert.ok(e.message.startsWith(path), e.message);
    return true;
  });

test("a JS number for money is refused, integer or not, naming the field", () => {
  throwsCode(() => fenrun.settle(POLICY, { members: MEMBERS, events: [{ id: "o1", seller: "m2", amount: 12 }] }),
    "number_money", "events[0].amount");
  throwsCode(() => fenrun.settle(POLICY, { members: [{ id: "m1", attrs: { topup: 5.5 } }], events: [] }),
    "number_money", "members[0].attrs.topup");
  // The message says what to do.
  try {
    fenrun.settle(POLICY, { members: MEMBERS, events: [{ id: "o1", seller: "m2", amount: 12.5 }] });
  } catch (e) {
    assert.match(e.message, /decimal string/);
  }
  // JSON text keeps the JSON rule: an integer is exact there.
  const s = fenrun.settle(POLICY, JSON.stringify({ members: MEMBERS, events: [{ id: "o1", seller: "m2", amount: 12 }] }));
  assert.equal(s.totals.m1, "1.20"); // 0.10 × 12 = 1.20
  // A float rate in a policy object is a float, refused by the core.
  throwsCode(() => fenrun.validatePolicy({ ...POLICY, ranks: [{ id: "member" }, { id: "go", rate: 0.1 }] }),
    "float_number", "ranks[1].rate");
});

test("each family has its errors with the core's code and path", () => {
  throwsCode(() => fenrun.validatePolicy("{not json"), "invalid_json", "policy: line 1 column 2");
  throwsCode(() => fenrun.settle(POLICY, "{\"members\": ]}"), "invalid_json", "batch: line 1 column 13");
  throwsCode(() => fenrun.validatePolicy({ version: 1, ranks: [] }), "no_ranks", "ranks");
  throwsCode(() => fenrun.settle(POLICY, { members: [{ id: "m1", sponsor: "m1" }], events: [] }),
    "self_sponsor", "members[0].sponsor");
  throwsCode(() => fenrun.settle(POLICY, { members: MEMBERS, events: [
    { id: "o1", seller: "m2", amount: "10" }, { id: "r1", refund_of: "o1", amount: "11" }] }),
  "over_refund", "events[1].amount");
  const s = fenrun.settle(POLICY, { members: MEMBERS, events: [{ id: "o1", seller: "m2", amount: "10" }] });
  throwsCode(() => fenrun.explain(s, "o9"), "order_not_settled", "order");
});

test("codes() lists every code of docs/errors.md", () => {
  const doc = readFileSync(join(REPO, "docs/errors.md"), "utf8");
  const codes = fenrun.codes();
  assert.ok(codes.length >= 41);
  for (const c of codes) assert.ok(doc.includes("`" + c + "`"), c);
  assert.ok(codes.includes("number_money"));
});

test("misuse is a TypeError, not a FenrunError", () => {
  assert.throws(() => fenrun.settle(POLICY, 42), TypeError);
  assert.throws(() => fenrun.settle(null, { members: [], events: [] }), TypeError);
  assert.throws(() => fenrun.explain({ lines: [] }, "o1"), TypeError);
});

test("settle, explain and progress on the community-retail example", () => {
  const policy = readFileSync(join(REPO, "examples/community-retail/policy.json"), "utf8");
  const batch = readFileSync(join(REPO, "examples/community-retail/batch.json"), "utf8");
  const expected = JSON.parse(readFileSync(join(REPO, "examples/community-retail/expected.json"), "utf8"));
  const s = fenrun.settle(policy, batch);
  assert.deepEqual(s.totals, expected.totals);
  assert.deepEqual(s.summary, expected.summary);
  assert.ok(fenrun.explain(s, "o1").some((l) => l.includes("9450.00")));
  const r = fenrun.evaluateRanks(policy, batch);
  assert.deepEqual(r.rank_changes, expected.rank_changes);
  const first = expected.rank_changes[0];
  const p = fenrun.progress(r, first.member);
  assert.equal(p.rank, first.to);
  assert.equal(fenrun.progress(r, "nobody"), undefined);
  assert.equal(fenrun.version(), "0.1.0");
});

test("lines: false is what `fenrun settle --no-lines` prints", () => {
  const policy = readFileSync(join(REPO, "examples/community-retail/policy.json"), "utf8");
  const batch = readFileSync(join(REPO, "examples/community-retail/batch.json"), "utf8");
  const lean = fenrun.settleJson(policy, batch, { lines: false });
  const rust = cli("settle", policy, batch, "--no-lines");
  assert.equal(rust.status, 0, rust.stderr);
  assert.equal(rust.stdout, lean + "\n");
  const full = fenrun.settle(policy, batch);
  const s = fenrun.settle(policy, batch, { lines: false });
  assert.deepEqual(s.lines, []);
  assert.deepEqual([s.totals, s.summary], [full.totals, full.summary]);
});

test("percent() reads a ratio as the CLI's summary does", () => {
  // 66147.00 / 300650.00 of the example is written 0.22: 22.00 %; 0.123455 rounds half up.
  assert.equal(fenrun.percent("0.22"), "22.00 %");
  assert.equal(fenrun.percent("0.123455"), "12.35 %");
  assert.equal(fenrun.percent("1"), "100.00 %");
  assert.equal(fenrun.percent("not a ratio"), undefined);
});

test("compare, stats, lint and lorenz on the community-retail example, as the CLI", () => {
  const policy = readFileSync(join(REPO, "examples/community-retail/policy.json"), "utf8");
  const proposed = readFileSync(join(REPO, "examples/community-retail/proposed-policy.json"), "utf8");
  const batch = readFileSync(join(REPO, "examples/community-retail/batch.json"), "utf8");
  const c = fenrun.compare(policy, proposed, batch);
  const rust = cli("diff", policy, batch, "--policy", join(REPO, "examples/community-retail/proposed-policy.json"));
  assert.equal(rust.status, 0, rust.stderr);
  assert.equal(rust.stdout, JSON.stringify(c) + "\n");
  // A broken policy B is named in the error's path; an unknown profile is refused.
  assert.throws(() => fenrun.compare(policy, "{", batch), (e) => e.code === "invalid_json" && e.path === "policy_b: line 1 column 1");
  assert.throws(() => fenrun.lint(policy, "eu"), (e) => e.code === "invalid_value" && e.path === "profile");
  const s = fenrun.settle(policy, batch);
  const report = fenrun.lint(s, "cn-direct-selling");
  const lintRust = cli("lint", policy, batch, "--profile", "cn-direct-selling", "--format", "json");
  assert.equal(lintRust.status, 3);
  assert.equal(lintRust.stdout, JSON.stringify(report) + "\n");
  assert.equal(fenrun.stats(s).gini, c.a.stats.gini);
  const curve = fenrun.lorenz(s, 4);
  assert.deepEqual([curve.length, curve[0], curve[4]], [5, ["0", "0"], ["1", "1"]]);
  assert.throws(() => fenrun.stats({ lines: [] }), TypeError);
});
