// fenrun for JavaScript: the Rust core compiled to WebAssembly.
// This file converts inputs (objects → JSON text), turns the core's error
// reports into FenrunError, and keeps each settlement's session for explain().
// Every rule, default, rounding and message is the core's.
import initWasm, { initSync as initWasmSync, Ledger as WasmLedger, Session, checkPolicy, compareJson, errorCodes, lintJson, panicReport, percent as wasmPercent, version as wasmVersion } from "./wasm/fenrun_wasm.js";

let ready = false;
// The core's report for a trap, with a marker where its detail goes: read
// once at start-up, since a module that trapped is not called again.
const DETAIL = "\u0000";
let trapReport = null;

function loaded() {
  trapReport = JSON.parse(panicReport(DETAIL));
  ready = true;
}

/** Load the WebAssembly module (browsers: `await init()` once before any call). */
export async function init(moduleOrPath) {
  if (!ready) {
    await initWasm(moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath });
    loaded();
  }
}

/** Load the module from bytes or a compiled `WebAssembly.Module`, synchronously. */
export function initSync(module) {
  if (!ready) {
    initWasmSync({ module });
    loaded();
  }
}

/** An error of the core: `code` (stable), `family`, `path` (where in the input), `message`. */
export class FenrunError extends Error {
  constructor(report) {
    super(report.message);
    this.name = "FenrunError";
    this.code = report.code;
    this.family = report.family;
    this.path = report.path;
  }
}

function guard(f) {
  if (!ready) throw new Error("fenrun: call `await init()` before using the library");
  try {
    return f();
  } catch (e) {
    if (typeof e === "string" && e.startsWith("{")) throw new FenrunError(JSON.parse(e));
    if (e instanceof WebAssembly.RuntimeError) {
      throw new FenrunError({ ...trapReport, message: trapReport.message.replace(DETAIL, e.message) });
    }
    throw e;
  }
}

function asText(value, what) {
  if (typeof value === "string") return [value, false];
  if (value !== null && typeof value === "object") return [JSON.stringify(value), true];
  throw new TypeError(`fenrun: ${what} must be an object or JSON text, got ${value === null ? "null" : typeof value}`);
}

function open(policy, batch) {
  const [p] = asText(policy, "policy");
  const [b, fromObject] = asText(batch, "batch");
  return guard(() => new Session(p, b, fromObject));
}

const sessions = new WeakMap();
const registry = typeof FinalizationRegistry === "function" ? new FinalizationRegistry((s) => s.free()) : null;

function keep(result, session) {
  sessions.set(result, session);
  if (registry) registry.register(result, session);
  else session.free();
  return result;
}

function sessionOf(result, what) {
  const s = sessions.get(result);
  if (!s) throw new TypeError(`fenrun: ${what} needs a result returned by settle() or evaluateRanks()`);
  return s;
}

function keepLines(options) {
  return options?.lines ?? true;
}

function asOf(options) {
  const t = options?.asOf;
  if (t === undefined || t === null) return undefined;
  if (typeof t !== "string") throw new TypeError(`fenrun: asOf must be RFC 3339 text, got ${typeof t}`);
  return t;
}

/**
 * Settle: the SPEC §9 document as canonical JSON text, byte for byte what `fenrun settle` prints.
 * `{lines: false}`: totals, rank changes and summary only (`"lines": []`), as `--no-lines`.
 * `{asOf: "2026-11-30T00:00:00Z"}`: every total split into `{net, available, pending}` at that
 * time under the policy's hold period, as `--as-of`.
 */
export function settleJson(policy, batch, options) {
  const s = open(policy, batch);
  try {
    return guard(() => s.settleJson(keepLines(options), asOf(options)));
  } finally {
    s.free();
  }
}

/** Settle: the SPEC §9 document as an object (money as decimal strings). Pass it to explain(). */
export function settle(policy, batch, options) {
  const s = open(policy, batch);
  let out;
  try {
    out = JSON.parse(guard(() => s.settleJson(keepLines(options), asOf(options))));
  } catch (e) {
    s.free();
    throw e;
  }
  return keep(out, s);
}

/** Evaluate ranks: `{rank_changes: [...]}`, what `fenrun ranks` prints. Pass it to progress(). */
export function evaluateRanks(policy, batch) {
  const s = open(policy, batch);
  return keep(JSON.parse(guard(() => s.ranksJson())), s);
}

/** Validate a policy (object or JSON text); throws a FenrunError naming the path. */
export function validatePolicy(policy) {
  const [p] = asText(policy, "policy");
  guard(() => checkPolicy(p));
}

/** A ratio (the summary's `payout_ratio`) as people read it, "22.00 %", as the CLI shows it. */
export function percent(ratio) {
  return guard(() => wasmPercent(String(ratio)));
}

/** One order's lines in words, for a result of settle(). */
export function explain(settlement, orderId) {
  const s = sessionOf(settlement, "explain");
  return JSON.parse(guard(() => s.explain(String(orderId))));
}

/** A member's rank and its progress towards the next rank, for a result of settle() or evaluateRanks(). */
export function progress(result, memberId) {
  const s = sessionOf(result, "progress");
  const out = guard(() => s.progress(String(memberId)));
  return out === undefined ? undefined : JSON.parse(out);
}

/**
 * Compare policy A and policy B on one batch: `{members, a: {summary, stats}, b: {summary, stats}}`,
 * what `fenrun diff` prints (members by |delta| descending, then id; amounts as decimal strings).
 */
export function compare(policyA, policyB, batch) {
  const [a] = asText(policyA, "policy A");
  const [b] = asText(policyB, "policy B");
  const [text, fromObject] = asText(batch, "batch");
  return JSON.parse(guard(() => compareJson(a, b, text, fromObject)));
}

/** The distribution measures of a result of settle(): Gini, top shares, by rank, by source. */
export function stats(settlement) {
  const s = sessionOf(settlement, "stats");
  return JSON.parse(guard(() => s.statsJson()));
}

/**
 * The Lorenz curve of member earnings of a result of settle(): `points + 1` pairs
 * `[share of members, share of the total paid]` as decimal strings (4 places), lowest earners first.
 */
export function lorenz(settlement, points = 100) {
  const s = sessionOf(settlement, "lorenz");
  return JSON.parse(guard(() => s.lorenzJson(points)));
}

/**
 * The compliance lint under `profile` ("cn-distribution", "cn-direct-selling", "ftc"): of a policy,
 * or of a result of settle() (its policy and batch). Findings are warnings to review, not legal advice.
 */
export function lint(policyOrSettlement, profile) {
  const s = sessions.get(policyOrSettlement);
  if (s) return JSON.parse(guard(() => s.lintJson(String(profile))));
  const [p] = asText(policyOrSettlement, "policy");
  return JSON.parse(guard(() => lintJson(p, String(profile))));
}

/**
 * One open period of a policy taking events as they arrive (SPEC §14). Open it with the
 * starting batch (members, groups, and events applied in order), apply events one at a time
 * or many; an event applied before with the same content is a duplicate and changes nothing,
 * a refused event throws and changes nothing. `settlement()` is the period so far, the same
 * document as `settle()` of the same events; `snapshot()` and `Ledger.restore()` keep it across
 * restarts, and across Python, the CLI and JavaScript. Call `free()` when done with it.
 */
export class Ledger {
  #ledger;

  constructor(policy, batch = { members: [] }, inner = undefined) {
    if (inner !== undefined) {
      this.#ledger = inner;
      return;
    }
    const [p] = asText(policy, "policy");
    const [b, fromObject] = asText(batch, "batch");
    this.#ledger = guard(() => new WasmLedger(p, b, fromObject));
  }

  /** A period from the bytes of `snapshot()` (taken here, in Python or by the CLI). */
  static restore(policy, snapshot) {
    const [p] = asText(policy, "policy");
    return new Ledger(null, null, guard(() => WasmLedger.restore(p, snapshot)));
  }

  /** Apply one event (object or JSON text): `{position, duplicate, lines?}` (`lines` in `immediate` timing). */
  apply(event) {
    const [text, fromObject] = asText(event, "event");
    return JSON.parse(guard(() => this.#ledger.applyJson(text, fromObject)));
  }

  /**
   * Apply many events in order (an array of objects, or JSON Lines text): `{applied, duplicates}`.
   * A refused event throws; the events before it stay applied.
   */
  applyMany(events) {
    if (typeof events === "string") return JSON.parse(guard(() => this.#ledger.applyLines(events, false)));
    if (!Array.isArray(events)) throw new TypeError("fenrun: applyMany takes an array of events or JSON Lines text");
    // JSON.stringify escapes line breaks inside strings: one event a line
    // (`undefined`, which it skips, as `null`, which the core refuses).
    const text = events.map((event) => JSON.stringify(event) ?? "null").join("\n");
    return JSON.parse(guard(() => this.#ledger.applyLines(text, true)));
  }

  /** The settlement of the events so far as canonical JSON text (what `fenrun ledger settle` prints). */
  settlementJson(options) {
    return guard(() => this.#ledger.settleJson(keepLines(options), asOf(options)));
  }

  /** The settlement of the events so far as an object (money as decimal strings). */
  settlement(options) {
    return JSON.parse(this.settlementJson(options));
  }

  /** The period's rank changes so far (its evaluation of the events so far, without settling). */
  rankChanges() {
    return JSON.parse(guard(() => this.#ledger.rankChangesJson())).rank_changes;
  }

  /** The period as snapshot bytes (a `Uint8Array`; docs/ledger.md). */
  snapshot() {
    return guard(() => this.#ledger.snapshot());
  }

  /** Events applied so far. */
  get length() {
    return guard(() => this.#ledger.length);
  }

  /** The policy's fingerprint, which the snapshot names ("sha256:…"). */
  get fingerprint() {
    return guard(() => this.#ledger.fingerprint);
  }

  /** Release the period's memory. */
  free() {
    this.#ledger.free();
  }
}

/** Every error code of the core. */
export function codes() {
  return guard(() => JSON.parse(errorCodes()));
}

/** The library's version. */
export function version() {
  return guard(() => wasmVersion());
}
