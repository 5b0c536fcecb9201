// Compiled by `tsc --noEmit` (tsconfig.json): the declarations cover every input and output.
import {
  settle, settleJson, evaluateRanks, validatePolicy, explain, progress, codes, init, FenrunError,
  compare, stats, lint, lorenz, type Comparison, type Stats, type LintReport, type Finding,
  type Policy, type Batch, type Settlement, type Line, type RankChange, type Summary, type Progress,
  type RankEvaluation, type Condition, type Rule, type ErrorFamily,
  Ledger, type LedgerEvent, type Applied,
} from "fenrun";

const policy: Policy = {
  version: 1,
  rounding: { scale: 2, mode: "half_up" },
  evaluate_ranks: true,
  ranks: [
    { id: "member" },
    { id: "group_owner", rate: "0.10", upgrade: { metric: "largest_group", gte: 100 } },
    { id: "team_leader", rate: "0.15", upgrade: { all: [{ metric: "groups", min_size: 100, gte: 3 }, { metric: "team_sales", gte: "50000" }] } },
  ],
  rules: [
    { id: "spread", type: "differential" },
    { id: "peer", type: "peer", rate: "0.01", generations: 2, match: "same_or_higher" },
    { id: "dividend", type: "pool", rate: "0.02", min_rank: "team_leader", split: { weighted_by: "team_sales" } },
    { id: "direct", type: "levels", rates: ["0.05", "0.02"], compress: true },
  ],
  order_cap: "0.5",
};
const batch: Batch = {
  members: [{ id: "m1", rank: "team_leader", attrs: { topup: "100.00" } }, { id: "m2", sponsor: "m1" }],
  groups: [{ id: "g1", owner: "m2", size: 120 }],
  events: [{ id: "o1", seller: "m2", buyer: "c1", amount: "120.00" }, { id: "r1", refund_of: "o1", amount: "20.00" }],
};

// The grammar generated from the core's schema refuses what the core refuses.
// @ts-expect-error `legs` needs `min_rank`
const noMinRank: Condition = { metric: "legs", gte: 2 };
// @ts-expect-error `sales` takes no parameter `min_size`
const stray: Condition = { metric: "sales", min_size: 3, gte: "1" };
// @ts-expect-error a pool cannot be weighted by `legs`, which needs a parameter
const legsWeight: Rule = { id: "p", type: "pool", rate: "0.01", split: { weighted_by: "legs" } };
// @ts-expect-error `match` is `same` or `same_or_higher`
const badMatch: Rule = { id: "q", type: "peer", rate: "0.01", match: "higher" };
const internal: ErrorFamily = "internal";
console.log(noMinRank, stray, legsWeight, badMatch, internal);

// Version 2: categories, fixed amounts, step tables, member cap, retention.
const v2: Policy = {
  version: 2,
  ranks: [
    { id: "member" },
    { id: "group_owner", rate: "0.10", upgrade: { metric: "largest_group", gte: 100 }, retain: { metric: "largest_group", gte: 50 } },
  ],
  rules: [
    { id: "dist", type: "levels", rates: [{ fixed: "5.00" }, { metric: "direct_referrals", min_rank: "group_owner", steps: [["0", "0.08"], [100, { fixed: "1.00" }]] }],
      by_category: { fresh: { rates: ["0.03"] } } },
    { id: "spread", type: "differential", by_category: { beauty: { rank_rates: { member: "0", group_owner: "0.2" } } } },
    { id: "peer", type: "peer", rate: "0.01", by_category: { gift: { rate: { fixed: "0.50" } } } },
  ],
  order_cap_by_category: { fresh: "0.05" },
  member_cap: { amount: "5000.00" },
};
const v2batch: Batch = { members: [{ id: "m1" }], events: [{ id: "o1", seller: "m1", amount: "9.90", category: "fresh" }] };
// @ts-expect-error a pool's rate is a plain rate, never a fixed amount
const fixedPool: Rule = { id: "p", type: "pool", rate: { fixed: "1.00" } };
// @ts-expect-error a levels category override takes `rates`, not `rate`
const wrongOverride: Rule = { id: "l", type: "levels", rates: ["0.1"], by_category: { fresh: { rate: "0.1" } } };
const capped: string | undefined = settle(v2, v2batch).summary.member_cap_cut;
const held: Policy = { ...v2, hold: { days: 7, from: "received" } };
const split = settle(held, v2batch, { asOf: "2026-11-30T00:00:00Z" });
const pending: string = split.totals["m1"]?.pending ?? "0.00";
const pendingTotal: string | undefined = split.summary.pending_total;
const availableAt: string | undefined = split.lines[0]?.available_at;
// @ts-expect-error a hold counts from payment or receipt only
const wrongHold: Policy = { ...v2, hold: { days: 7, from: "shipped" } };
console.log(pending, pendingTotal, availableAt, wrongHold);
console.log(fixedPool, wrongOverride, capped);

async function main(): Promise<void> {
  await init();
  validatePolicy(policy);
  const s: Settlement = settle(policy, batch);
  const lines: Line[] = s.lines;
  const first: string | undefined = lines[0]?.order;
  const amount: string = s.totals["m1"] ?? "0.00";
  const summary: Summary = s.summary;
  const ratio: string | null = summary.payout_ratio;
  const changes: RankChange[] = s.rank_changes;
  const text: string[] = explain(s, "o1");
  const json: string = settleJson(JSON.stringify(policy), JSON.stringify(batch), { lines: false });
  const r: RankEvaluation = evaluateRanks(policy, batch);
  const p: Progress | undefined = progress(r, "m2");
  const next: string | null | undefined = p?.next;
  const all: string[] = codes();
  try {
    settle(policy, batch);
  } catch (e) {
    if (e instanceof FenrunError) {
      const where: string = e.path;
      const code: string = e.code;
      console.log(where, code);
    }
  }
  const c: Comparison = compare(policy, { ...policy, order_cap: "0.4" }, batch);
  const delta: string = c.members[0]?.delta ?? "0.00";
  const measures: Stats = stats(s);
  const gini: string | null = measures.gini;
  const report: LintReport = lint(s, "cn-distribution");
  const found: Finding[] = lint(policy, "ftc").findings;
  const severity: "error" | "warning" | undefined = found[0]?.severity;
  const curve: [string, string][] = lorenz(s, 10);
  const ledger = new Ledger(policy, { members: batch.members });
  const joined: LedgerEvent = { id: "e1", member: { id: "m9", sponsor: "m1" } };
  const sold: LedgerEvent = { id: "e2", seller: "m9", amount: "10.00" };
  const applied: Applied = ledger.apply(joined);
  const paid: string | undefined = applied.lines?.[0]?.amount;
  const tally: { applied: number; duplicates: number } = ledger.applyMany([sold]);
  const sofar: Settlement = ledger.settlement({ lines: false });
  const bytes: Uint8Array = ledger.snapshot();
  const again: Ledger = Ledger.restore(policy, bytes);
  const name: string = again.fingerprint;
  console.log(applied.position, paid, tally.applied, sofar.summary.total_paid, ledger.length, name);
  ledger.free();
  again.free();
  console.log(delta, gini, report.errors, severity, curve.length, c.b.summary.total_paid);
  console.log(first, amount, ratio, changes.length, text, json.length, next, all.length);
}
void main();
