// Type declarations of the npm package `fenrun` (checked by test/types.ts with tsc --noEmit).
// The policy grammar comes from schema.d.ts, generated from the core.

import type {
  Condition, DecimalString, ErrorFamily, Metric, Op, PolicyVersion, RoundingMode, RuleType, Rule,
} from "./schema.js";

export type * from "./schema.js";

export interface Rank {
  id: string;
  /** The rank's rate for `differential` (级差), in [0, 1]. */
  rate?: DecimalString;
  upgrade?: Condition;
  /** Version 2: the condition that keeps the rank (保级); failing it moves the member down. */
  retain?: Condition;
}

export interface Policy {
  version: PolicyVersion;
  currency?: string;
  /** `per`, version 2: "unit" rounds each unit's commission, then multiplies by the quantity. */
  rounding?: { scale?: number; mode?: RoundingMode; per?: "line" | "unit" };
  evaluate_ranks?: boolean;
  active_if?: Condition;
  ranks: Rank[];
  rules?: Rule[];
  order_cap?: DecimalString;
  /** Version 2: the order cap of a category, replacing `order_cap` for its orders. */
  order_cap_by_category?: Record<string, DecimalString>;
  /** Version 2: the cap on a member's net order-rule earnings over the batch (个人封顶). */
  member_cap?: { amount: DecimalString };
  /** Version 2: the hold period (冻结期) during which order lines stay pending; orders and refunds then need `at`. */
  hold?: { days: number; from: "paid" | "received"; clawback?: boolean };
  /** Version 2 (SPEC §12.5): "whole" makes an order's first refund reverse all of its lines. */
  refunds?: "proportional" | "whole";
  /** Version 2: when ranks are evaluated: on the whole period ("period_end", the default), or as each event comes ("immediate", SPEC §13). */
  rank_timing?: "period_end" | "immediate";
}

export interface Member {
  id: string;
  sponsor?: string | null;
  rank?: string | null;
  active?: boolean | null;
  attrs?: Record<string, DecimalString>;
}

export interface Group {
  id: string;
  owner: string;
  size: number;
}

export interface Order {
  id: string;
  seller?: string | null;
  buyer?: string | null;
  amount: DecimalString;
  at?: string | null;
  /** Version 2: the product category, which selects the rules' `by_category` rates (商品佣金). */
  category?: string;
  /** Version 2: how many units the order is of (at least 1): per-unit fixed amounts and rounding read it. */
  quantity?: number;
}

export interface Refund {
  id: string;
  refund_of: string;
  amount: DecimalString;
  at?: string | null;
}

export interface Batch {
  members: Member[];
  groups?: Group[];
  /** Orders and refunds, in the order they happened. */
  events: Array<Order | Refund>;
}

/** A payout line; absent keys are absent (not null), as in the §9 JSON. */
export interface Line {
  /** The order (absent on pool lines). */
  order?: string;
  /** The refund id of a reversal line. */
  refund?: string;
  /** The rule (absent on a member-cap line, which no rule writes). */
  rule?: string;
  kind: RuleType | "member_cap";
  beneficiary: string;
  /** Level in the chain (order rules). */
  level?: number;
  base: DecimalString;
  /** Rate of an order line. */
  rate?: DecimalString;
  /** Version 2: the fixed amount an order line pays in place of a rate. */
  fixed?: DecimalString;
  /** Weight of a weighted pool line. */
  weight?: DecimalString;
  amount: DecimalString;
  /** Version 2: when an order line or reversal becomes available under the policy's hold period
   * (`YYYY-MM-DDTHH:MM:SSZ`); absent without a hold, on pool and member-cap lines, and while the
   * order is not received. */
  available_at?: string;
}

export interface Because {
  metric: Metric;
  params: { min_rank?: string; min_size?: number; name?: string };
  value: DecimalString;
  op: Op;
  threshold: DecimalString;
}

export interface RankChange {
  member: string;
  from: string;
  to: string;
  because: Because[];
  /** In "immediate" rank timing, the event after which the change happened. */
  after?: string;
}

export interface Summary {
  net_sales: DecimalString;
  total_paid: DecimalString;
  payout_ratio: DecimalString | null;
  breakage: Record<string, DecimalString>;
  cap_cut: DecimalString;
  /** Every total's pending part, for a settlement asked `asOf`. */
  pending_total?: DecimalString;
  /** Version 2: what the member cap withheld, when the policy has one. */
  member_cap_cut?: DecimalString;
}

/** A total split at a settlement's `asOf`: available + pending = net. */
export interface SplitTotal {
  net: DecimalString;
  available: DecimalString;
  pending: DecimalString;
}

export interface Settlement {
  lines: Line[];
  /** Net per beneficiary. */
  totals: Record<string, DecimalString>;
  rank_changes: RankChange[];
  summary: Summary;
}

/** A settlement asked `asOf`: every total split, and `summary.pending_total`. */
export interface SettlementAsOf extends Omit<Settlement, "totals"> {
  totals: Record<string, SplitTotal>;
}

export interface RankEvaluation {
  rank_changes: RankChange[];
}

export interface Progress {
  member: string;
  rank: string;
  /** The next rank up, or null at the top. */
  next: string | null;
  leaves: Array<Because & { holds: boolean }>;
}

/** An error of the core. `code` is stable (see docs/errors.md); `path` names the input value. */
export class FenrunError extends Error {
  readonly code: string;
  readonly family: ErrorFamily;
  readonly path: string;
}

/** Browsers: load the module once before any call (Node loads it at import). */
export function init(moduleOrPath?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
export function initSync(module: BufferSource | WebAssembly.Module): void;

/** `lines: false` keeps totals, rank changes and summary only (`lines` is then empty). */
export interface SettleOptions {
  lines?: boolean;
  /** RFC 3339 time: every total becomes `{net, available, pending}` at it (hold period, SPEC §14.1). */
  asOf?: string;
}

export function settle(policy: Policy | string, batch: Batch | string, options: SettleOptions & { asOf: string }): SettlementAsOf;
export function settle(policy: Policy | string, batch: Batch | string, options?: SettleOptions): Settlement;
export function settleJson(policy: Policy | string, batch: Batch | string, options?: SettleOptions): string;
export function evaluateRanks(policy: Policy | string, batch: Batch | string): RankEvaluation;
export function validatePolicy(policy: Policy | string): void;
export function explain(settlement: Settlement, orderId: string): string[];
/** A ratio (the summary's `payout_ratio`) as "22.00 %", as the CLI shows it; undefined for text that is not a decimal. */
export function percent(ratio: string): string | undefined;
export function progress(result: Settlement | RankEvaluation, memberId: string): Progress | undefined;
/** Distribution measures of a settlement (`fenrun settle --stats`); ratios and amounts as decimal strings. */
export interface Stats {
  members: number;
  earners: number;
  gini: DecimalString | null;
  top_1_percent_share: DecimalString | null;
  top_10_percent_share: DecimalString | null;
  by_rank: { rank: string; members: number; total: DecimalString; mean: DecimalString | null; median: DecimalString | null; share: DecimalString | null; payout_ratio: DecimalString | null }[];
  sources: { own: DecimalString; team: DecimalString; pool: DecimalString; member_cap: DecimalString; own_share: DecimalString | null; team_share: DecimalString | null; pool_share: DecimalString | null };
}
/** Policy A and policy B on one batch, what `fenrun diff` prints. */
export interface Comparison {
  members: { member: string; rank_a: string; rank_b: string; total_a: DecimalString; total_b: DecimalString; delta: DecimalString }[];
  a: { summary: Summary; stats: Stats };
  b: { summary: Summary; stats: Stats };
}
export type LintProfile = "cn-distribution" | "cn-direct-selling" | "ftc";
/** One finding of the compliance lint: a feature to review, not legal advice. */
export interface Finding {
  code: "too_many_tiers" | "recruitment_condition" | "entry_fee_condition" | "team_compensation" | "payout_over_30_percent" | "payout_ratio";
  severity: "error" | "warning";
  path: string;
  message: string;
  basis: string;
}
export interface LintReport {
  profile: LintProfile;
  errors: number;
  warnings: number;
  findings: Finding[];
}
export function compare(policyA: Policy | string, policyB: Policy | string, batch: Batch | string): Comparison;
export function stats(settlement: Settlement): Stats;
/** The Lorenz curve: `[share of members, share of the total paid]` pairs, lowest earners first. */
export function lorenz(settlement: Settlement, points?: number): [DecimalString, DecimalString][];
export function lint(policyOrSettlement: Policy | string | Settlement, profile: LintProfile): LintReport;
export function codes(): string[];
export function version(): string;

/** A member joins, or the fields it carries change (SPEC §14); `rank` only when it joins. */
export interface MemberEvent {
  id: string;
  member: { id: string; sponsor?: string | null; rank?: string; active?: boolean; attrs?: Record<string, DecimalString> };
  at?: string;
}

/** A group is created, or its owner and size replaced. */
export interface GroupEvent {
  id: string;
  group: Group;
  at?: string;
}

/** An order reached its buyer (the start of a hold period from receipt, §14.1). */
export interface ReceivedEvent {
  id: string;
  received: string;
  at: string;
}

/** One event of a ledger's stream. */
export type LedgerEvent = Order | Refund | MemberEvent | GroupEvent | ReceivedEvent;

/**
 * What `Ledger.apply` did: the event's position in the stream, whether it was a duplicate, and
 * in `immediate` rank timing the lines it made (an order's lines, a refund's reversals; absent
 * for a duplicate and in `period_end` timing).
 */
export interface Applied {
  position: number;
  duplicate: boolean;
  lines?: Line[];
}

/** One open period of a policy taking events as they arrive (SPEC §14). */
export class Ledger {
  constructor(policy: Policy | string, batch?: Partial<Batch> & { events?: LedgerEvent[] } | string);
  static restore(policy: Policy | string, snapshot: Uint8Array): Ledger;
  apply(event: LedgerEvent | string): Applied;
  applyMany(events: LedgerEvent[] | string): { applied: number; duplicates: number };
  settlement(options: SettleOptions & { asOf: string }): SettlementAsOf;
  settlement(options?: SettleOptions): Settlement;
  settlementJson(options?: SettleOptions): string;
  /** The period's rank changes so far (its evaluation of the events so far, without settling). */
  rankChanges(): RankChange[];
  snapshot(): Uint8Array;
  readonly length: number;
  readonly fingerprint: string;
  free(): void;
}
