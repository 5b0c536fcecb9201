// The fenrun playground: edit a policy, settle on every edit, see who earns what and why.
// All computation is the core's (pkg/, the npm package); this page only displays.
// Sums for the chart are exact: decimal strings become BigInt units of the policy scale.
import { init, settle, validatePolicy, explain, progress, percent, compare, lint, lorenz } from "./pkg/index.js";

const $ = (id) => document.getElementById(id);
const SIZES = [
  [100, 1000], [1000, 10000], [10000, 100000], [50000, 500000], [100000, 1000000], [200000, 2000000],
];
const SHOWN_LINES = 500;
// The lint lists at most this many findings (a large batch can have one per member).
const SHOWN_FINDINGS = 100;
// A member's card lists at most this many of its lines, and says so when it cuts.
const CARD_LINES = 200;
// Above this many orders the page settles totals only: the lines of a million orders are
// millions of rows no page shows. Members still show their totals and progress.
const LINES_UP_TO = 200000;
const state = { batch: null, batchText: "", settlement: null, policy: null, sort: null, scale: 2 };

// ---- exact display arithmetic -------------------------------------------------------------
function units(text, scale) {
  const neg = text.startsWith("-");
  const [int, frac = ""] = (neg ? text.slice(1) : text).split(".");
  const v = BigInt(int + frac.padEnd(scale, "0").slice(0, scale));
  return neg ? -v : v;
}
function money(u, scale) {
  const neg = u < 0n;
  const s = (neg ? -u : u).toString().padStart(scale + 1, "0");
  const body = scale ? `${s.slice(0, -scale)}.${s.slice(-scale)}` : s;
  return neg ? `-${body}` : body;
}

// ---- synthetic batches (seeded, for the size slider) --------------------------------------
function generate(members, orders, seed = 7) {
  let x = seed >>> 0 || 1;
  const rand = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 4294967296);
  const ranks = state.policy?.ranks?.map((r) => r.id) ?? ["member"];
  const list = [];
  for (let i = 0; i < members; i++) {
    const m = { id: `m${i}` };
    if (i > 0) m.sponsor = `m${Math.floor(rand() ** 2 * i)}`;
    const r = rand();
    if (r < 0.002 && ranks.length > 3) m.rank = ranks[3];
    else if (r < 0.02 && ranks.length > 2) m.rank = ranks[2];
    else if (r < 0.15 && ranks.length > 1) m.rank = ranks[1];
    list.push(m);
  }
  const groups = [];
  for (let i = 0; i < members; i++) {
    if (rand() < 0.2) groups.push({ id: `g${i}`, owner: `m${i}`, size: Math.floor(rand() * 300) });
  }
  const events = [];
  for (let j = 0; j < orders; j++) {
    const cents = 100 + Math.floor(rand() * 99900);
    events.push({ id: `o${j}`, seller: `m${Math.floor(rand() * members)}`, amount: money(BigInt(cents), 2) });
  }
  return { members: list, groups, events };
}

// ---- rendering ----------------------------------------------------------------------------
function rankColour(rank) {
  const ranks = state.policy.ranks.map((r) => r.id);
  const i = Math.max(0, ranks.indexOf(rank));
  return `hsl(${(210 + i * 300 / Math.max(1, ranks.length)) % 360} 60% 45%)`;
}
function rankBadge(rank) {
  const b = document.createElement("span");
  b.className = "rank";
  b.textContent = rank;
  b.style.background = rankColour(rank);
  return b;
}
function evaluatedRanks() {
  const lowest = state.policy.ranks[0].id;
  const out = new Map(state.batch.members.map((m) => [m.id, m.rank ?? lowest]));
  for (const c of state.settlement.rank_changes) out.set(c.member, c.to);
  return out;
}
function earning(id) {
  return state.settlement.totals[id] ?? money(0n, state.scale);
}

// Money as people read it: with the policy's currency; the exact value stays in data-value
// (and on hover where the words differ from the engine's).
function shown(amount) {
  const currency = state.policy.currency;
  return currency ? `${amount} ${currency}` : amount;
}

function renderSummary() {
  const s = state.settlement.summary;
  // [key, shown, exact value, what the engine calls it]
  const rows = [
    ["net sales", shown(s.net_sales), s.net_sales],
    ["total paid", shown(s.total_paid), s.total_paid],
    ["payout ratio", s.payout_ratio == null ? "—" : percent(s.payout_ratio), s.payout_ratio ?? "", "payout_ratio"],
    ["cap cut", shown(s.cap_cut), s.cap_cut, "cap_cut: order-cap (封顶) cuts"],
    ...(s.member_cap_cut == null ? [] : [["member cap cut", shown(s.member_cap_cut), s.member_cap_cut, "member_cap_cut"]]),
    ...Object.entries(s.breakage).map(([rule, b]) => [`unpaid (沉淀) ${rule}`, shown(b), b,
      `breakage of ${rule}: pool money nobody qualified for, kept by the platform`]),
    ["members / orders", `${state.batch.members.length} / ${state.batch.events.length}`],
    ["settled in", `${state.ms.toFixed(1)} ms`],
  ];
  $("summary").innerHTML = "<h2>Summary</h2><dl></dl>";
  const dl = $("summary").querySelector("dl");
  for (const [k, v, exact, engine] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dd.dataset.key = k;
    if (exact !== undefined) {
      dd.dataset.value = exact;
      dd.title = engine ? `${engine} = ${exact}` : exact;
    }
    dl.append(dt, dd);
  }
}

function renderChart() {
  const ranks = evaluatedRanks();
  const sums = new Map(state.policy.ranks.map((r) => [r.id, 0n]));
  for (const [m, amount] of Object.entries(state.settlement.totals)) {
    const r = ranks.get(m) ?? state.policy.ranks[0].id;
    sums.set(r, (sums.get(r) ?? 0n) + units(amount, state.scale));
  }
  const max = [...sums.values()].reduce((a, b) => (b > a ? b : a), 1n);
  const chart = $("chart");
  chart.replaceChildren();
  for (const [rank, sum] of sums) {
    const row = document.createElement("div");
    row.className = "bar";
    const label = document.createElement("span");
    label.className = "label";
    label.append(rankBadge(rank));
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${Number((sum > 0n ? sum : 0n) * 400n / max)}px`;
    fill.style.background = rankColour(rank);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = money(sum, state.scale);
    row.append(label, fill, value);
    chart.append(row);
  }
}

function renderTree() {
  const children = new Map();
  const roots = [];
  for (const m of state.batch.members) {
    if (m.sponsor) {
      if (!children.has(m.sponsor)) children.set(m.sponsor, []);
      children.get(m.sponsor).push(m.id);
    } else roots.push(m.id);
  }
  const ranks = evaluatedRanks();
  const node = (id) => {
    const label = document.createElement("span");
    label.className = "node";
    label.dataset.member = id;
    label.append(`${id} `, rankBadge(ranks.get(id)));
    const earn = document.createElement("span");
    earn.className = "earn";
    earn.textContent = earning(id);
    label.append(earn);
    label.addEventListener("click", (e) => { e.preventDefault(); showMember(id); });
    const kids = children.get(id);
    if (!kids) {
      const div = document.createElement("div");
      div.style.marginLeft = "1rem";
      div.append(label);
      return div;
    }
    const d = document.createElement("details");
    const summary = document.createElement("summary");
    summary.append(label, ` (${kids.length})`);
    d.append(summary);
    // Children are drawn when opened: a 100k-member tree stays cheap.
    d.addEventListener("toggle", () => {
      if (d.open && d.children.length === 1) for (const k of kids.slice(0, 1000)) d.append(node(k));
    }, { once: false });
    return d;
  };
  const tree = $("tree");
  tree.replaceChildren(...roots.slice(0, 1000).map(node));
  const first = tree.querySelector("details");
  if (first && state.batch.members.length <= 200) first.open = true;
}

const COLUMNS = ["order", "refund", "rule", "kind", "beneficiary", "level", "base", "rate", "amount"];
const MONEY = new Set(["base", "amount"]);
function renderLines() {
  const q = $("filter").value.trim();
  let lines = state.settlement.lines;
  if (q) lines = lines.filter((l) => l.beneficiary === q || l.order === q || l.refund === q);
  if (state.sort) {
    const { key, dir } = state.sort;
    const scale = state.scale;
    const cmp = MONEY.has(key)
      ? (a, b) => { const x = units(a[key], scale), y = units(b[key], scale); return x < y ? -1 : x > y ? 1 : 0; }
      : (a, b) => String(a[key] ?? "").localeCompare(String(b[key] ?? ""), undefined, { numeric: true });
    lines = [...lines].sort((a, b) => dir * cmp(a, b));
  }
  $("lines-count").textContent = state.linesKept
    ? `${lines.length} lines${lines.length > SHOWN_LINES ? ` (first ${SHOWN_LINES} shown)` : ""}`
    : `lines not kept above ${LINES_UP_TO.toLocaleString()} orders (totals, summary and progress are complete)`;
  const head = $("lines").tHead;
  head.replaceChildren();
  const tr = head.insertRow();
  for (const c of COLUMNS) {
    const th = document.createElement("th");
    th.textContent = c + (state.sort?.key === c ? (state.sort.dir > 0 ? " ▲" : " ▼") : "");
    th.addEventListener("click", () => {
      state.sort = { key: c, dir: state.sort?.key === c ? -state.sort.dir : 1 };
      renderLines();
    });
    tr.append(th);
  }
  const body = $("lines").tBodies[0];
  body.replaceChildren();
  for (const l of lines.slice(0, SHOWN_LINES)) {
    const row = body.insertRow();
    for (const c of COLUMNS) {
      const td = row.insertCell();
      td.textContent = l[c] ?? "";
      if (MONEY.has(c)) td.className = "money";
    }
  }
}

function renderTotals() {
  const body = $("totals").tBodies[0];
  body.replaceChildren();
  const entries = Object.entries(state.settlement.totals);
  for (const [m, a] of entries.slice(0, 2000)) {
    const row = body.insertRow();
    row.insertCell().textContent = m;
    const td = row.insertCell();
    td.textContent = a;
    td.className = "money";
    row.dataset.member = m;
    row.addEventListener("click", () => showMember(m));
  }
}

// ---- a member's card: rank, progress, and every line that makes its total ---------------------
const METRIC_WORDS = {
  sales: "own sales", purchases: "purchases", team_sales: "team sales",
  direct_referrals: "direct referrals", team_size: "team size", legs: "legs",
  groups: "groups", group_members: "members in own groups", largest_group: "largest group",
};
const OP_WORDS = { gte: "of", gt: "needs more than", lte: "needs at most", lt: "needs less than", eq: "needs exactly" };
// "team-leader legs: 0 of 2" for legs(min_rank=team_leader) = 0, needs gte 2.
function leafWords(l) {
  const p = l.params ?? {};
  let what = l.metric === "attr" ? `attribute ${p.name}` : (METRIC_WORDS[l.metric] ?? l.metric.replaceAll("_", " "));
  if (p.min_rank) what = `${p.min_rank.replaceAll("_", "-")} ${what}`;
  if (p.min_size !== undefined) what = `${what} of ${p.min_size}+ members`;
  return `${what}: ${l.value} ${OP_WORDS[l.op] ?? l.op} ${l.threshold}`;
}
function leafExact(l) {
  const params = Object.entries(l.params ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
  return `${l.metric}${params ? `(${params})` : ""} = ${l.value}, needs ${l.op} ${l.threshold}`;
}

// Every line of the settlement by order, in settlement order: an order's own lines, then each
// refund's reversals. explain() words the same lines in the same order after its header.
function linesByOrder() {
  if (state.byOrder?.settlement === state.settlement) return state.byOrder.map;
  const map = new Map();
  for (const l of state.settlement.lines) {
    if (!l.order) continue;
    if (!map.has(l.order)) map.set(l.order, []);
    map.get(l.order).push(l);
  }
  state.byOrder = { settlement: state.settlement, map };
  return map;
}
function otherLineWords(l) {
  if (l.kind === "member_cap") return `member cap: ${l.amount} of the ${l.base} earned above the cap`;
  return `${l.rule} ${l.kind}: ${l.amount} of the pool ${l.base}${l.weight ? ` (weight ${l.weight})` : ""}`;
}

function showMember(id) {
  state.member = id;
  const s = state.settlement;
  $("member-card").hidden = false;
  $("member-id").textContent = id;
  const box = $("member");
  box.replaceChildren();
  const p = progress(s, id);
  const head = document.createElement("p");
  const total = document.createElement("span");
  total.className = "member-total";
  total.dataset.value = earning(id);
  total.textContent = shown(earning(id));
  head.append(rankBadge(p.rank), " earns ", total);
  box.append(head);
  const prog = document.createElement("div");
  if (!p.next) prog.textContent = "top of the ladder";
  else if (!p.leaves.length) prog.textContent = `next rank ${p.next}: given only, no upgrade condition`;
  else {
    prog.append(`progress to `, rankBadge(p.next), ":");
    const ul = document.createElement("ul");
    for (const l of p.leaves) {
      const li = document.createElement("li");
      li.className = l.holds ? "leaf-ok" : "leaf-no";
      li.textContent = `${l.holds ? "✓" : "✗"} ${leafWords(l)}`;
      li.title = leafExact(l);
      ul.append(li);
    }
    prog.append(ul);
  }
  box.append(prog);
  box.append(memberLines(id));
  $("filter").value = id;
  renderLines();
}

// The member's lines, grouped by order (an order's lines, then their reversals), then pool and
// member-cap lines; each with its amount and its words. They add up to the card's total.
function memberLines(id) {
  const s = state.settlement;
  const why = document.createElement("div");
  why.className = "explain";
  if (!state.linesKept) {
    why.textContent = "lines not kept for a batch this large";
    return why;
  }
  const mine = s.lines.filter((l) => l.beneficiary === id);
  if (!mine.length) {
    why.textContent = "no lines: earns nothing in this batch";
    return why;
  }
  const orders = [...new Set(mine.filter((l) => l.order).map((l) => l.order))];
  const byOrder = linesByOrder();
  const count = document.createElement("div");
  count.className = "card-count";
  why.append(count);
  let listed = 0;
  const row = (l, words) => {
    const div = document.createElement("div");
    div.className = "card-line";
    div.dataset.amount = l.amount;
    const amount = document.createElement("span");
    amount.className = "money";
    amount.textContent = l.amount;
    div.append(amount, ` ${words}`);
    why.append(div);
    listed++;
  };
  for (const o of orders) {
    if (listed >= CARD_LINES) break;
    const all = byOrder.get(o);
    const text = explain(s, o);
    // Words line up with the lines when explain() gives one per line; otherwise the line's fields.
    const aligned = text.length === all.length + 1;
    const header = document.createElement("div");
    header.className = "card-order";
    header.textContent = text[0];
    why.append(header);
    all.forEach((l, k) => {
      if (l.beneficiary !== id || listed >= CARD_LINES) return;
      const words = aligned && text[k + 1].includes(id) ? text[k + 1]
        : `${l.rule} ${l.kind}${l.refund ? ` refund ${l.refund}` : ""}, level ${l.level}: ${l.rate ?? l.fixed} of ${l.base}`;
      row(l, words);
    });
  }
  for (const l of mine.filter((l) => !l.order)) if (listed < CARD_LINES) row(l, otherLineWords(l));
  const sum = mine.reduce((a, l) => a + units(l.amount, state.scale), 0n);
  count.textContent = listed < mine.length
    ? `showing ${listed} of ${mine.length} lines; all ${mine.length} sum to ${money(sum, state.scale)}`
    : `${mine.length} lines, summing to ${money(sum, state.scale)}`;
  count.dataset.lines = String(mine.length);
  count.dataset.listed = String(listed);
  return why;
}

// ---- compliance lint: findings beside the policy, each value shown on request ----------------
function renderLint() {
  const profile = $("lint-profile").value;
  const report = lint(state.settlement, profile);
  $("lint-count").textContent = report.findings.length
    ? `${report.errors} error(s), ${report.warnings} warning(s) under ${profile}`
    : `no finding under ${profile}`;
  const list = $("lint");
  list.replaceChildren();
  if (report.findings.length > SHOWN_FINDINGS) {
    $("lint-count").textContent += ` (first ${SHOWN_FINDINGS} shown)`;
  }
  for (const f of report.findings.slice(0, SHOWN_FINDINGS)) {
    const li = document.createElement("li");
    li.dataset.code = f.code;
    li.dataset.path = f.path;
    const badge = document.createElement("span");
    badge.className = `severity ${f.severity}`;
    badge.textContent = f.severity;
    const path = document.createElement("span");
    path.className = "path";
    path.textContent = f.path;
    li.append(badge, ` ${f.code} `, path);
    const span = locate($("policy").value, f.path);
    if (span) {
      const go = document.createElement("button");
      go.textContent = "show";
      go.addEventListener("click", () => select($("policy"), span));
      li.append(" ", go);
    }
    li.append(document.createElement("br"), f.message);
    li.title = f.basis;
    list.append(li);
  }
}

// ---- policy B: the same batch under another policy, member by member ------------------------
function renderComparison() {
  const card = $("comparison-card");
  if (!$("compare-on").checked) {
    card.hidden = true;
    return;
  }
  const text = $("policy-b").value;
  const box = $("policy-b-error");
  let c;
  try {
    c = compare($("policy").value, text, state.batchText);
    box.hidden = true;
  } catch (e) {
    box.hidden = false;
    box.textContent = `${e.path ?? ""}\n${e.code ?? "error"}: ${e.message}`;
    card.classList.add("stale");
    return;
  }
  card.classList.remove("stale");
  card.hidden = false;
  state.comparison = c;
  const [a, b] = [c.a, c.b];
  $("comparison-summary").textContent =
    `total paid ${shown(a.summary.total_paid)} → ${shown(b.summary.total_paid)}; payout ratio ` +
    `${percent(a.summary.payout_ratio ?? "") ?? "—"} → ${percent(b.summary.payout_ratio ?? "") ?? "—"}; ` +
    `Gini ${a.stats.gini ?? "—"} → ${b.stats.gini ?? "—"}`;
  const ranks = [...new Set([...a.stats.by_rank, ...b.stats.by_rank].map((r) => r.rank))];
  const of = (side, rank) => side.stats.by_rank.find((r) => r.rank === rank);
  const body = $("comparison-ranks").tBodies[0];
  body.replaceChildren();
  for (const rank of ranks) {
    const [ra, rb] = [of(a, rank), of(b, rank)];
    const row = body.insertRow();
    row.dataset.rank = rank;
    row.insertCell().append(rankBadge(rank));
    for (const v of [ra?.members ?? 0, rb?.members ?? 0, ra?.total ?? "—", rb?.total ?? "—",
      ra?.share == null ? "—" : percent(ra.share), rb?.share == null ? "—" : percent(rb.share)]) {
      const td = row.insertCell();
      td.textContent = v;
      td.className = "money";
    }
  }
  const deltas = $("deltas").tBodies[0];
  deltas.replaceChildren();
  for (const m of c.members.slice(0, 10)) {
    if (m.delta.replace(/[-0.]/g, "") === "") break;
    const row = deltas.insertRow();
    row.dataset.member = m.member;
    row.insertCell().textContent = m.member;
    row.insertCell().append(rankBadge(m.rank_a));
    row.insertCell().append(rankBadge(m.rank_b));
    for (const v of [m.total_a, m.total_b, m.delta]) {
      const td = row.insertCell();
      td.textContent = v;
      td.className = "money";
    }
    row.cells[5].classList.add(m.delta.startsWith("-") ? "down" : "up");
    row.addEventListener("click", () => showMember(m.member));
  }
}

// ---- the Lorenz curve, from the core's points (shares at 4 places, drawn in exact units) -----
function renderLorenz() {
  const W = 400n, H = 300n, PAD = 30n;
  const at = (share, size) => units(share, 4) * size / 10000n;
  const line = (points) => points.map(([x, y]) => `${PAD + at(x, W)},${PAD + H - at(y, H)}`).join(" ");
  const svg = [`<svg viewBox="0 0 ${W + 2n * PAD} ${H + 2n * PAD}" role="img" aria-label="Lorenz curve">`,
    `<rect x="${PAD}" y="${PAD}" width="${W}" height="${H}" fill="none" stroke="#ccc"/>`,
    `<polyline class="equal" points="${PAD},${PAD + H} ${PAD + W},${PAD}" fill="none" stroke="#999" stroke-dasharray="4 3"/>`];
  const curves = [["A", state.settlement, "#2563a8"]];
  if ($("compare-on").checked && state.comparison) {
    try {
      curves.push(["B", settle($("policy-b").value, state.batchText, { lines: false }), "#d9822b"]);
    } catch {
      // Policy B's error is shown beside it; A's curve stands.
    }
  }
  const legend = [];
  for (const [name, s, colour] of curves) {
    const points = lorenz(s, 100);
    if (!points.length) continue;
    svg.push(`<polyline class="curve" data-policy="${name}" points="${line(points)}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    legend.push(`<span style="color:${colour}">policy ${name}</span>`);
  }
  svg.push(`<text x="${PAD}" y="${H + 2n * PAD - 8n}" font-size="11">share of members, lowest earners first →</text>`, "</svg>");
  $("lorenz").innerHTML = svg.join("") + `<div>${legend.join(" · ")} · dashed: equal earnings</div>`;
}

// ---- where a path is in the policy text ------------------------------------------------------
// Every value's JSON path → its [start, end) offsets, so an error's path can be shown as a line
// and selected on request (never while the user types).
function valueSpans(text) {
  const spans = new Map();
  let i = 0;
  const ws = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
  const str = () => { const start = i++; while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1; i++; return JSON.parse(text.slice(start, i)); };
  const value = (path) => {
    ws();
    const start = i;
    if (text[i] === "{") {
      i++; ws();
      while (text[i] !== "}" && i < text.length) {
        ws(); const key = str(); ws(); i++; // the colon
        value(path ? `${path}.${key}` : key); ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (text[i] === "[") {
      i++; ws();
      let n = 0;
      while (text[i] !== "]" && i < text.length) {
        value(`${path}[${n++}]`); ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (text[i] === '"') str();
    else while (i < text.length && !",}] \t\r\n".includes(text[i])) i++;
    spans.set(path, [start, i]);
  };
  value("");
  return spans;
}

function locate(text, path) {
  try {
    const spans = valueSpans(text);
    for (let p = path; p; p = p.replace(/(\.[^.[\]]*|\[\d+\])$/, "")) {
      if (spans.has(p)) return spans.get(p);
      if (!/(\.[^.[\]]*|\[\d+\])$/.test(p)) break;
    }
  } catch {
    // A text the scanner cannot follow: no location, the message still names the path.
  }
  return undefined;
}

// Select a value of a policy editor (a finding's or an error's path), scrolled into view.
function select(textarea, span) {
  textarea.focus();
  textarea.setSelectionRange(span[0], span[1]);
  const line = textarea.value.slice(0, span[0]).split("\n").length;
  const height = textarea.scrollHeight / Math.max(1, textarea.value.split("\n").length);
  textarea.scrollTop = Math.max(0, (line - 5) * height);
}

// ---- the loop: edit → validate → settle → render -------------------------------------------
function showError(e) {
  const box = $("policy-error");
  box.hidden = false;
  box.replaceChildren();
  const path = document.createElement("span");
  path.className = "path";
  path.textContent = e.path ?? "";
  box.append(path);
  const span = e.path ? locate($("policy").value, e.path) : undefined;
  if (span) {
    const line = $("policy").value.slice(0, span[0]).split("\n").length;
    const go = document.createElement("button");
    go.textContent = `line ${line}: show`;
    go.addEventListener("click", () => select($("policy"), span));
    box.append(" ", go);
  }
  box.append(document.createElement("br"), `${e.code ?? "error"}: ${e.message}`);
  $("status").textContent = "policy error";
  // What is shown is the last valid policy's settlement: say so.
  if (state.settlement) {
    $("results").classList.add("stale");
    $("stale-note").hidden = false;
  }
}

function run() {
  const text = $("policy").value;
  let policy;
  try {
    policy = JSON.parse(text);
  } catch (e) {
    return showError({ path: "", code: "invalid_json", message: e.message });
  }
  try {
    validatePolicy(text);
    state.policy = policy;
    state.scale = policy.rounding?.scale ?? 2;
    const t0 = performance.now();
    state.linesKept = state.batch.events.length <= LINES_UP_TO;
    state.settlement = settle(text, state.batchText, { lines: state.linesKept });
    state.ms = performance.now() - t0;
  } catch (e) {
    return showError(e);
  }
  $("policy-error").hidden = true;
  $("results").classList.remove("stale");
  $("stale-note").hidden = true;
  renderSummary();
  renderChart();
  renderTree();
  renderLines();
  renderTotals();
  renderLint();
  renderComparison();
  renderLorenz();
  // The open member panel follows the new settlement.
  if (state.member && !$("member-card").hidden) showMember(state.member);
  $("status").textContent = `settled in ${state.ms.toFixed(1)} ms`;
  document.body.dataset.settled = String((Number(document.body.dataset.settled) || 0) + 1);
}

let timer;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(run, 150);
}

function useBatch(batch, text) {
  state.batch = batch;
  state.batchText = text ?? JSON.stringify(batch);
  $("member-card").hidden = true;
  state.member = null;
  $("filter").value = "";
  run();
}

async function loadExample() {
  const [policy, batch, proposed] = await Promise.all([
    fetch("examples/policy.json").then((r) => r.text()),
    fetch("examples/batch.json").then((r) => r.text()),
    fetch("examples/proposed-policy.json").then((r) => r.text()),
  ]);
  $("policy").value = policy;
  $("policy-b").value = proposed;
  state.policy = JSON.parse(policy);
  useBatch(JSON.parse(batch), batch);
}

function sizeLabel() {
  const [m, o] = SIZES[Number($("size").value)];
  $("size-label").textContent = `${m.toLocaleString()} members / ${o.toLocaleString()} orders`;
}

await init();
$("policy").addEventListener("input", schedule);
$("policy-b").addEventListener("input", schedule);
$("compare-on").addEventListener("change", () => {
  $("policy-b-pane").hidden = !$("compare-on").checked;
  schedule();
});
$("lint-profile").addEventListener("change", renderLint);
$("filter").addEventListener("input", renderLines);
$("size").addEventListener("input", sizeLabel);
$("load-example").addEventListener("click", loadExample);
$("load-generated").addEventListener("click", () => {
  const [m, o] = SIZES[Number($("size").value)];
  $("status").textContent = "generating…";
  setTimeout(() => useBatch(generate(m, o)), 0);
});
sizeLabel();
// For the browser test: open any member's card, list the batch's members.
window.playground = { showMember, members: () => state.batch.members.map((m) => m.id) };
await loadExample();
