// Node entry point: loads the WebAssembly module synchronously at import,
// so Node users need no init().
import { readFileSync } from "node:fs";
import { initSync } from "./index.js";

initSync(readFileSync(new URL("./wasm/fenrun_wasm_bg.wasm", import.meta.url)));

export * from "./index.js";
