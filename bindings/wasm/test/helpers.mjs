// Shared by the Node tests: the repository, the built package, the vectors, the CLI.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";


import { REPO } from "./paths.mjs";
export { REPO };
export const fenrun = await import(join(REPO, "target/wasm-pkg/node.js"));

/** Every golden vector as [path, parsed], sorted by path (as the Rust runner). */
export function vectors() {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".json")) {
        out.push([relative(join(REPO, "tests/vectors"), p), JSON.parse(readFileSync(p, "utf8"))]);
      }
    }
  };
  walk(join(REPO, "tests/vectors"));
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

export const policyText = (v) => ("policy_text" in v ? v.policy_text : JSON.stringify(v.policy));
export const batchText = (v) =>
  "batch_text" in v ? v.batch_text : "batch" in v ? JSON.stringify(v.batch) : undefined;

const CLI = process.env.FENRUN_CLI || join(REPO, "target/release/fenrun");
const TMP = join(REPO, "target/node-test");

/** `fenrun settle` (or `ranks`) on a policy and a batch given as JSON text. */
export function cli(command, policy, batch, ...extra) {
  mkdirSync(TMP, { recursive: true });
  const p = join(TMP, "policy.json");
  const b = join(TMP, "batch.json");
  writeFileSync(p, policy);
  writeFileSync(b, batch);
  const r = spawnSync(CLI, [command, "--policy", p, "--batch", b, ...extra], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (r.error) throw r.error;
  return r;
}

/** The CLI with any arguments. */
export function cliRun(...args) {
  const r = spawnSync(CLI, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return r;
}

/** A scratch directory under target/. */
export function scratchDir(name) {
  const dir = join(TMP, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
