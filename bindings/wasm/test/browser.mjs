// The real-browser test: serves the built playground on 127.0.0.1, drives Debian's
// Chromium with playwright-core, and checks what the page shows against SPEC.
// Screenshots go to target/playwright/. Run: node bindings/wasm/test/browser.mjs
import { createServer } from "node:http";
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { REPO } from "./paths.mjs";
import { fenrun } from "./helpers.mjs";

const ROOT = join(REPO, "target/playground");
const SHOTS = join(REPO, "target/playwright");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm" };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
  try {
    const body = await readFile(join(ROOT, path || "index.html"));
    res.writeHead(200, { "content-type": TYPES[extname(path || "index.html")] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const report = [];
try {
  await mkdir(SHOTS, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.settled === "1");

  // 1. The example's displayed totals are the hand-checked expected totals.
  const expected = JSON.parse(await readFile(join(REPO, "examples/community-retail/expected.json"), "utf8"));
  const shown = await page.$$eval("#totals tbody tr", (rows) => Object.fromEntries(rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent])));
  assert.deepEqual(shown, expected.totals);
  const paid = () => page.$eval('#summary dd[data-key="total paid"]', (d) => d.dataset.value);
  assert.equal(await paid(), expected.summary.total_paid);
  // Shown as people read it, with the currency; the payout ratio as the CLI shows it:
  // 66147.00 / 300650.00 = 0.22 → "22.00 %". Engine words are replaced, kept on hover.
  const dd = (key) => page.$eval(`#summary dd[data-key="${key}"]`, (d) => [d.textContent, d.title]);
  assert.deepEqual(await dd("total paid"), ["66147.00 CNY", "66147.00"]);
  assert.equal((await dd("payout ratio"))[0], "22.00 %");
  assert.equal((await dd("unpaid (沉淀) dividend"))[0], "0.00 CNY");
  assert.match((await dd("unpaid (沉淀) dividend"))[1], /^breakage of dividend/);
  assert.equal(await page.$$eval("#summary dt", (ts) => ts.filter((t) => /breakage/.test(t.textContent)).length), 0);
  const status = await page.$eval("#status", (s) => s.textContent);
  report.push(`example: ${status}`);
  await page.screenshot({ path: join(SHOTS, "example.png"), fullPage: false });

  // 2. A member's why: click a partner in the totals, see its lines explained and its progress.
  await page.click('#totals tbody tr[data-member="p-li"]');
  const why = await page.$eval("#member", (d) => d.textContent);
  assert.match(why, /p-li/);
  assert.match(why, /top of the ladder|progress to/);
  await page.screenshot({ path: join(SHOTS, "member.png") });
  // Every member's card lists every line that makes its total, and they add up to it (tl-zhao:
  // 14602.50 of order lines and the refund r1's reversal −500.00 of o3's spread line = 14102.50).
  const cards = await page.evaluate(() => window.playground.members().map((id) => {
    window.playground.showMember(id);
    const card = document.getElementById("member");
    const scale = 2;
    const units = (t) => { const [i, f = ""] = t.replace("-", "").split("."); const v = BigInt(i + f.padEnd(scale, "0")); return t.startsWith("-") ? -v : v; };
    const amounts = [...card.querySelectorAll(".card-line")].map((r) => r.dataset.amount);
    return {
      id,
      total: card.querySelector(".member-total").dataset.value,
      sum: amounts.reduce((a, t) => a + units(t), 0n).toString(),
      lines: amounts.length,
      text: card.textContent,
    };
  }));
  assert.equal(cards.length, JSON.parse(await readFile(join(REPO, "examples/community-retail/batch.json"), "utf8")).members.length);
  for (const c of cards) {
    const want = expected.totals[c.id] ?? "0.00";
    assert.equal(c.total, want, c.id);
    const [int, frac] = want.split(".");
    assert.equal(c.sum, BigInt(int + frac).toString(), `${c.id}: its card's lines sum to ${c.sum} units, not ${want}`);
    assert.doesNotMatch(c.text, /showing \d+ of/, c.id);
  }
  const zhao = cards.find((c) => c.id === "tl-zhao");
  assert.match(zhao.text, /-500\.00 refund r1 of 10000\.00 reverses -500\.00 of tl-zhao's spread line/);
  assert.match(zhao.text, /lines, summing to 14102\.50/);
  // Progress in the field's words, the engine's expression on hover.
  await page.evaluate(() => window.playground.showMember("go-zhou"));
  const leaves = await page.$$eval("#member li", (ls) => ls.map((l) => [l.textContent, l.title]));
  report.push(`go-zhou progress: ${leaves.map(([t]) => t).join("; ")}`);
  assert.ok(leaves.length > 0);
  for (const [text, title] of leaves) {
    assert.doesNotMatch(text, /\(|needs gte|min_rank=/, text);
    assert.match(title, /needs (gte|gt|lte|lt|eq) /, title);
  }
  await page.evaluate(() => window.playground.showMember("p-li"));

  // 3. Edit a rate: the dividend pool's 0.02 becomes 0.00. The pool was
  //    0.02 × 300650.00 = 6013.00, fully paid (no breakage), so total paid
  //    falls from 66147.00 to 66147.00 − 6013.00 = 60134.00.
  const policy = await page.$eval("#policy", (t) => t.value);
  const edited = policy.replace(/("id": "dividend",[\s\S]*?"rate": )"0\.02"/, '$1"0.00"');
  assert.notEqual(edited, policy);
  await page.fill("#policy", edited);
  await page.waitForFunction(() => document.body.dataset.settled === "2");
  assert.equal(await paid(), "60134.00");
  // p-li's panel follows: it loses its dividend share, 6013.00 / 2 partners = 3006.50
  // (18019.00 − 3006.50 = 15012.50).
  assert.match(await page.$eval("#member", (d) => d.textContent), /earns 15012\.50/);
  await page.screenshot({ path: join(SHOTS, "edited.png") });

  // 4. A policy error shows its path: group_owner's rate above team_leader's.
  await page.fill("#policy", edited.replace('"rate": "0.10"', '"rate": "0.30"'));
  await page.waitForSelector("#policy-error:not([hidden])");
  const err = await page.$eval("#policy-error", (d) => d.textContent);
  assert.match(err, /ranks\[2\]\.rate/);
  assert.match(err, /decreasing_rate/);
  // …and where it is: team_leader's rate is on line 35 of the example policy.
  assert.match(err, /line 35: show/);
  // The results on screen are the last valid policy's: marked so.
  assert.equal(await page.$eval("#results", (r) => r.classList.contains("stale")), true);
  assert.equal(await page.$eval("#stale-note", (n) => n.hidden), false);
  await page.click("#policy-error button");
  const selected = await page.$eval("#policy", (t) => t.value.slice(t.selectionStart, t.selectionEnd));
  assert.equal(selected, '"0.15"');
  await page.screenshot({ path: join(SHOTS, "error.png") });

  // 5. The lint beside the policy, and what an edit changes in it.
  const settled = () => page.$eval("body", (b) => Number(b.dataset.settled));
  const edit = async (selector, text) => {
    const before = await settled();
    await page.fill(selector, text);
    await page.waitForFunction((n) => Number(document.body.dataset.settled) > n, before);
  };
  await edit("#policy", policy);
  assert.equal(await page.$eval("#results", (r) => r.classList.contains("stale")), false);
  assert.equal(await page.$eval("#stale-note", (n) => n.hidden), true);
  const findings = () => page.$$eval("#lint li", (ls) => ls.map((l) => `${l.dataset.code} ${l.dataset.path}`));
  // cn-distribution: activity on purchases (入门费), partners on team-leader legs (拉人头), and
  // the differential and the peer bonus pay on the downline's sales at unbounded depth.
  assert.deepEqual(await findings(), [
    "entry_fee_condition active_if.any[1]", "recruitment_condition ranks[3].upgrade.all[0]",
    "team_compensation rules[0]", "too_many_tiers rules[0]", "team_compensation rules[1]", "too_many_tiers rules[1]",
  ]);
  // cn-direct-selling reads the settlement too: p-li and p-wang earn with no sales of their own.
  await page.selectOption("#lint-profile", "cn-direct-selling");
  const direct = await findings();
  assert.ok(direct.includes("payout_over_30_percent batch.members[0]"), direct.join("; "));
  assert.ok(!direct.some((f) => f.startsWith("too_many_tiers")), direct.join("; "));
  // Edit the peer bonus to three generations: with the seller, four levels, a new finding.
  const threeGenerations = policy.replace('"generations": 1', '"generations": 3');
  assert.notEqual(threeGenerations, policy);
  await edit("#policy", threeGenerations);
  assert.ok((await findings()).includes("too_many_tiers rules[1].generations"));
  await page.click('#lint li[data-path="rules[1].generations"] button');
  assert.equal(await page.$eval("#policy", (t) => t.value.slice(t.selectionStart, t.selectionEnd)), "3");
  report.push(`lint (cn-direct-selling, 3 generations): ${(await findings()).length} findings`);
  await page.screenshot({ path: join(SHOTS, "lint.png") });
  await edit("#policy", policy);

  // 6. Policy B beside A: the page shows the core's comparison, and follows an edit of B.
  const batchText = await readFile(join(REPO, "examples/community-retail/batch.json"), "utf8");
  const shownDeltas = () => page.$$eval("#deltas tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  const coreDeltas = (b) => fenrun.compare(policy, b, batchText).members
    .filter((m) => m.delta.replace(/[-0.]/g, "") !== "").slice(0, 10)
    .map((m) => [m.member, m.rank_a, m.rank_b, m.total_a, m.total_b, m.delta]);
  {
    const before = await settled();
    await page.check("#compare-on");
    await page.waitForFunction((n) => Number(document.body.dataset.settled) > n, before);
  }
  const proposed = await page.$eval("#policy-b", (t) => t.value);
  // p-li has no sales of its own: not a partner under B, it loses its 18019.00 (expected.json).
  const first = (await shownDeltas())[0];
  assert.deepEqual(first, ["p-li", "partner", "member", "18019.00", "0.00", "-18019.00"]);
  assert.deepEqual(await shownDeltas(), coreDeltas(proposed));
  const ranksShown = await page.$$eval("#comparison-ranks tbody tr", (rows) => rows.map((r) => r.dataset.rank));
  assert.deepEqual(ranksShown, ["member", "group_owner", "team_leader", "partner"]);
  assert.equal(await page.$$eval('#lorenz polyline.curve', (c) => c.length), 2);
  // Edit a rate of B: group owners back to 0.10. Their change is then what the peer bonus and
  // the ranks make, and the table follows the core.
  const editedB = proposed.replace('"rate": "0.12"', '"rate": "0.10"');
  assert.notEqual(editedB, proposed);
  const beforeEdit = await shownDeltas();
  await edit("#policy-b", editedB);
  const afterEdit = await shownDeltas();
  assert.notDeepEqual(afterEdit, beforeEdit);
  assert.deepEqual(afterEdit, coreDeltas(editedB));
  report.push(`comparison: ${afterEdit.length} largest changes, first ${afterEdit[0].join(" ")}`);
  await page.screenshot({ path: join(SHOTS, "compare.png"), fullPage: true });
  {
    const before = await settled();
    await page.uncheck("#compare-on");
    await page.waitForFunction((n) => Number(document.body.dataset.settled) > n, before);
  }
  assert.equal(await page.$eval("#comparison-card", (c) => c.hidden), true);

  // 7. A generated 100k-member / 1M-order batch, settled in the page.
  await page.$eval("#size", (s) => { s.value = "4"; s.dispatchEvent(new Event("input")); });
  const beforeGenerated = await settled();
  await page.click("#load-generated");
  await page.waitForFunction((n) => Number(document.body.dataset.settled) > n, beforeGenerated, { timeout: 120000 });
  const big = await page.$eval('#summary dd[data-key="settled in"]', (d) => d.textContent);
  const members = await page.$eval('#summary dd[data-key="members / orders"]', (d) => d.textContent);
  report.push(`generated ${members}: settled in ${big}`);
  await page.screenshot({ path: join(SHOTS, "generated.png") });
  assert.deepEqual(errors, []);
} finally {
  await browser.close();
  server.close();
}
await writeFile(join(REPO, "target/wasm-browser.txt"), report.join("\n") + "\n");
console.log(report.join("\n"));
console.log("browser test passed; screenshots in target/playwright/");
