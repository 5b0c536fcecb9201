// Generated from the core's schema (`fenrun::schema()`, `fenrun schema`) by
// bindings/wasm/tests/typescript.rs; do not edit. Regenerate with
// FENRUN_BLESS=1 cargo test -p fenrun-wasm --test typescript

/** A decimal as text: "12.50", "0.15", "100". Money never travels as a JS number. */
export type DecimalString = string;

/** The policy `version`s this package reads. */
export type PolicyVersion = 1 | 2;

export type Metric = "sales" | "purchases" | "team_sales" | "direct_referrals" | "team_size" | "legs" | "groups" | "group_members" | "largest_group" | "attr";

/** The metrics that can weight a pool (they need no parameter). */
export type PoolWeight = "sales" | "purchases" | "team_sales" | "direct_referrals" | "team_size" | "groups" | "group_members" | "largest_group";

export type Op = "gte" | "gt" | "lte" | "lt" | "eq";

export type RoundingMode = "half_up" | "half_even" | "down";

export type ErrorFamily = "format" | "policy" | "input" | "limit" | "arithmetic" | "output" | "internal";

export type RuleType = "levels" | "differential" | "peer" | "pool";

/** A leaf's operator with its threshold (a decimal string, or an integer). */
export type Comparison = { [O in Op]?: DecimalString | number };

/** One metric with its parameters (a condition leaf's, a step table's). */
export type MetricWithParams =
  | { metric: "sales" }
  | { metric: "purchases" }
  | { metric: "team_sales" }
  | { metric: "direct_referrals"; min_rank?: string }
  | { metric: "team_size"; min_rank?: string }
  | { metric: "legs"; min_rank: string }
  | { metric: "groups"; min_size?: number }
  | { metric: "group_members" }
  | { metric: "largest_group" }
  | { metric: "attr"; name: string };

/** A comparison leaf: one metric with its parameters, one operator with its threshold. */
export type Leaf = Comparison & MetricWithParams;

export type Condition = Leaf | { all: Condition[] } | { any: Condition[] } | { not: Condition };

/** A fixed amount per order in place of a rate (version 2). */
export type Fixed = { fixed: DecimalString; per?: "order" | "unit"; limit?: "amount" | "none" };

/** A step table (version 2): the rate of the last step whose `from` is at most the member's metric. */
export type StepTable = MetricWithParams & { steps: [DecimalString | number, DecimalString | Fixed][] };

/** What an order rule pays a beneficiary: a rate, a fixed amount or a step table. */
export type OrderRate = DecimalString | Fixed | StepTable;

export type Rule =
  | { id: string; type: "levels"; rates: OrderRate[]; min_rank?: string; compress?: boolean; on_ineligible?: "break" | "skip" | "stop"; by_category?: Record<string, { rates: OrderRate[] }> }
  | { id: string; type: "differential"; by_category?: Record<string, { rank_rates: Record<string, DecimalString> }> }
  | { id: string; type: "peer"; rate: OrderRate; generations?: number; match?: "same" | "same_or_higher"; min_rank?: string; by_category?: Record<string, { rate: OrderRate }> }
  | { id: string; type: "pool"; rate: DecimalString; min_rank?: string; split?: "equal" | { weighted_by: PoolWeight } };
