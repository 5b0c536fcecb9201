// The ledger (SPEC §14) from JavaScript: every ledger vector, and snapshots that move
// between JavaScript and the command line in both directions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fenrun, vectors, policyText, cliRun, scratchDir } from "./helpers.mjs";

const LEDGER_VECTORS = vectors().filter(([, v]) => "ledger" in v);

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

// docs/ledger.md's canonical JSON (keys sorted, no whitespace), worked out here apart from the core.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const fingerprint = (policyJson) => `sha256:${sha256(canonical(JSON.parse(policyJson)))}`;

function checkSnapshot(bytes, want, policyJson) {
  const text = new TextDecoder().decode(bytes);
  assert.ok(text.endsWith("\n"));
  const body = text.slice(0, -1);
  const cut = body.lastIndexOf("\n");
  const content = body.slice(0, cut);
  assert.equal(body.slice(cut + 1), `sha256:${sha256(content + "\n")}`);
  const lines = content.split("\n");
  assert.equal(lines[0], "fenrun-ledger-snapshot 1");
  const header = JSON.parse(lines[1]);
  assert.equal(header.policy, fingerprint(policyJson));
  const records = lines.slice(2).map((l) => JSON.parse(l));
  assert.deepEqual(records, want);
  assert.equal(header.members + header.groups + header.events, records.length);
}

function run(v) {
  const policy = policyText(v);
  const given = v.ledger;
  const out = { ledger: undefined, duplicates: [], answers: [], error: undefined };
  try {
    out.ledger = "restore" in given
      ? fenrun.Ledger.restore(policy, new TextEncoder().encode(given.restore))
      : new fenrun.Ledger(policy, { members: given.members ?? [], groups: given.groups ?? [] });
    given.events.forEach((event, k) => {
      if (given.restore_after === k) {
        const restored = fenrun.Ledger.restore(policy, out.ledger.snapshot());
        out.ledger.free();
        out.ledger = restored;
      }
      const applied = out.ledger.apply(event);
      out.answers.push(applied);
      if (applied.duplicate) out.duplicates.push(event.id);
    });
  } catch (e) {
    if (!(e instanceof fenrun.FenrunError)) throw e;
    out.error = e;
  }
  return out;
}

test("every ledger vector is replayed", () => {
  assert.ok(LEDGER_VECTORS.length >= 10, `${LEDGER_VECTORS.length} ledger vectors`);
});

for (const [name, v] of LEDGER_VECTORS) {
  test(`ledger vector ${name}`, () => {
    const { ledger, duplicates, answers, error } = run(v);
    if (v.expect_error) {
      assert.ok(error, "expected an error");
      assert.deepEqual([error.code, error.path], [v.expect_error.code, v.expect_error.path], error.message);
      if (v.expect_error.message_contains) assert.ok(error.message.includes(v.expect_error.message_contains));
    } else {
      assert.equal(error, undefined, error?.message);
    }
    if (v.expect_duplicates) assert.deepEqual(duplicates, v.expect_duplicates);
    if (v.expect_answers) assert.deepEqual(answers, v.expect_answers);
    if (v.expect) {
      const doc = ledger.settlement();
      for (const [key, want] of Object.entries(v.expect)) assert.deepEqual(doc[key], want, `\`${key}\` differs`);
    }
    for (const entry of v.expect_as_of ?? []) {
      const doc = ledger.settlement({ asOf: entry.as_of });
      for (const [key, want] of Object.entries(entry)) {
        if (key !== "as_of") assert.deepEqual(doc[key], want, `as of ${entry.as_of}: \`${key}\` differs`);
      }
    }
    if (v.expect_snapshot) checkSnapshot(ledger.snapshot(), v.expect_snapshot, policyText(v));
    ledger?.free();
  });
}

const POLICY = {
  version: 2,
  ranks: [{ id: "member", rate: "0.10" }, { id: "owner", rate: "0.20", upgrade: { metric: "largest_group", gte: 100 } }],
  evaluate_ranks: true,
  rules: [{ id: "spread", type: "differential" }],
};
const EVENTS = [
  { id: "e1", member: { id: "m2", sponsor: "m1" } },
  { id: "o1", seller: "m2", buyer: "c1", amount: "100.00" },
  { id: "g1", group: { id: "g1", owner: "m1", size: 150 } },
  { id: "r1", refund_of: "o1", amount: "25.00" },
];

test("a JavaScript snapshot goes on in the CLI and comes back byte for byte", () => {
  const dir = scratchDir("ledger");
  const policy = join(dir, "policy.json");
  writeFileSync(policy, JSON.stringify(POLICY));
  const ledger = new fenrun.Ledger(POLICY, { members: [{ id: "m1" }] });
  assert.deepEqual(ledger.applyMany(EVENTS.slice(0, 2)), { applied: 2, duplicates: 0 });
  const state = join(dir, "state");
  writeFileSync(state, ledger.snapshot());
  const events = join(dir, "events.jsonl");
  writeFileSync(events, EVENTS.map((e) => JSON.stringify(e) + "\n").join(""));
  const applied = cliRun("ledger", "apply", "--policy", policy, "--state", state, "--events", events);
  assert.equal(applied.status, 0, applied.stderr);
  assert.ok(applied.stdout.startsWith("applied 2, duplicates 2;"), applied.stdout);
  const settled = cliRun("ledger", "settle", "--policy", policy, "--state", state);
  assert.equal(settled.status, 0, settled.stderr);
  const back = fenrun.Ledger.restore(POLICY, readFileSync(state));
  assert.equal(back.length, 4);
  assert.equal(back.settlementJson() + "\n", settled.stdout);
  // m1 is owner (a group of 150): 0.10 × 100.00, m2 0.10 × 100.00; a quarter refunded: 7.50 each.
  assert.deepEqual(back.settlement().totals, { m1: "7.50", m2: "7.50" });
  assert.deepEqual(ledger.applyMany(EVENTS.map((e) => JSON.stringify(e)).join("\n")), { applied: 2, duplicates: 2 });
  assert.deepEqual(Buffer.from(ledger.snapshot()), readFileSync(state));
  ledger.free();
  back.free();
});

test("a refused event throws and changes nothing; money as a JS number is refused", () => {
  const ledger = new fenrun.Ledger(POLICY, { members: [{ id: "m1" }] });
  ledger.apply({ id: "o1", seller: "m1", amount: "10.00" });
  const before = Buffer.from(ledger.snapshot());
  const refused = [
    [{ id: "o1", seller: "m1", amount: "11.00" }, "event_conflict", "events[1].id"],
    [{ id: "o2", seller: "m1", amount: 12 }, "number_money", "events[1].amount"],
    [{ id: "e1", member: { id: "m3", attrs: { topup: 5 } } }, "number_money", "events[1].member.attrs.topup"],
  ];
  for (const [event, code, path] of refused) {
    assert.throws(() => ledger.apply(event), (e) => e instanceof fenrun.FenrunError && e.code === code && e.path === path);
  }
  // JSON text keeps the JSON rule: an integer amount is money.
  assert.deepEqual(ledger.apply('{"id": "o2", "seller": "m1", "amount": 12}'), { position: 1, duplicate: false });
  assert.throws(() => fenrun.Ledger.restore(POLICY, before.subarray(0, 10)), (e) => e.code === "invalid_snapshot");
  assert.equal(ledger.fingerprint, fingerprint(JSON.stringify(POLICY)));
  assert.deepEqual(ledger.settlement().totals, { m1: "2.20" });
  ledger.free();
});

test("applyMany of an array settles its events together, as one at a time would; a JS number in it is refused, the events before it stay", () => {
  const policy = {
    version: 2,
    rank_timing: "immediate",
    ranks: [{ id: "member", rate: "0.10" }],
    rules: [{ id: "spread", type: "differential" }],
  };
  const events = [
    { id: "e1", member: { id: "m2", sponsor: "m1" } },
    { id: "o1", seller: "m2", amount: "30.00" },
    { id: "o1", seller: "m2", amount: "30.00" },
    { id: "r1", refund_of: "o1", amount: "10.00" },
  ];
  const many = new fenrun.Ledger(policy, { members: [{ id: "m1" }] });
  assert.deepEqual(many.applyMany(events), { applied: 3, duplicates: 1 });
  const one = new fenrun.Ledger(policy, { members: [{ id: "m1" }] });
  for (const event of events) one.apply(event);
  assert.equal(many.settlementJson(), one.settlementJson());
  // m2 sells 30.00 at 0.10 = 3.00, a third of it refunded: 3.00 - 1.00 = 2.00.
  assert.equal(many.settlement().totals.m2, "2.00");
  const mixed = [
    { id: "o2", seller: "m1", amount: "5.00" },
    { id: "o3", seller: "m1", amount: 5 },
  ];
  const refused = (e) => e instanceof fenrun.FenrunError && e.code === "number_money" && e.path === "events[4].amount";
  assert.throws(() => many.applyMany(mixed), refused);
  assert.equal(many.length, 4);
  // A hole in the array is refused as an event, not skipped.
  assert.throws(() => many.applyMany([undefined]), (e) => e instanceof fenrun.FenrunError && e.path.startsWith("events[4]"));
  assert.equal(many.length, 4);
  // o2 stays: 0.10 x 5.00 = 0.50 for m1.
  assert.equal(many.settlement().totals.m1, "0.50");
  many.free();
  one.free();
});

test("the rank changes so far", () => {
  // m1 owns no group until g1 (150 members >= 100): then an owner.
  const ledger = new fenrun.Ledger(POLICY, { members: [{ id: "m1" }] });
  ledger.applyMany(EVENTS.slice(0, 2));
  assert.deepEqual(ledger.rankChanges(), []);
  ledger.apply(EVENTS[2]);
  const changes = ledger.rankChanges();
  assert.deepEqual(changes.map((c) => [c.member, c.from, c.to]), [["m1", "member", "owner"]]);
  assert.equal(changes[0].because[0].value, "150");
  ledger.free();
});
