// Generated from the core's schema (`fenrun::schema()`, `fenrun schema`) by
// bindings/wasm/tests/typescript.rs; do not edit. Regenerate with
// FENRUN_BLESS=1 cargo test -p fenrun-wasm --test typescript

/** A decimal as text: "12.50", "0.15", "100". Money never travels as a JS number. */
export type DecimalString = string;

/** The policy `version`s this package reads. */
export type PolicyVersion = 1;

export type Metric = "sales" | "purchases" | "team_sales" | "direct_referrals" | "team_size" | "legs" | "groups" | "group_members" | "largest_group" | "attr";

/** The metrics that can weight a pool (they need no parameter). */
export type PoolWeight = "sales" | "purchases" | "team_sales" | "direct_referrals" | "team_size" | "groups" | "group_members" | "largest_group";

export type Op = "gte" | "gt" | "lte" | "lt" | "eq";

export type RoundingMode = "half_up" | "half_even" | "down";

export type ErrorFamily = "format" | "policy" | "input" | "limit" | "arithmetic" | "output" | "internal";

export type RuleType = "levels" | "differential" | "peer" | "pool";

/** A leaf's operator with its threshold (a decimal string, or an integer). */
export type Comparison = { [O in Op]?: DecimalString | number };

/** A comparison leaf: one metric with its parameters, one operator with its threshold. */
export type Leaf = Comparison & (
  | { metric: "sales" }
  | { metric: "purchases" }
  | { metric: "team_sales" }
  | { metric: "direct_referrals"; min_rank?: string }
  | { metric: "team_size"; min_rank?: string }
  | { metric: "legs"; min_rank: string }
  | { metric: "groups"; min_size?: number }
  | { metric: "group_members" }
  | { metric: "largest_group" }
  | { metric: "attr"; name: string }
);

export type Condition = Leaf | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export type Rule =
  | { id: string; type: "levels"; rates: DecimalString[]; min_rank?: string; compress?: boolean }
  | { id: string; type: "differential" }
  | { id: string; type: "peer"; rate: DecimalString; generations?: number; match?: "same" | "same_or_higher"; min_rank?: string }
  | { id: string; type: "pool"; rate: DecimalString; min_rank?: string; split?: "equal" | { weighted_by: PoolWeight } };
