// The broker dashboard: plain browser JavaScript, no build step, no
// dependencies. Every message body and queue name is shown with textContent
// (never as markup), so a body such as "<script>…" is only ever text.
// Loaded as a module: strict, deferred, and nothing leaks into the page's globals.

const TOKEN_KEY = "broker-token";
const SAMPLE_MS = 2000; // chart resolution
const WINDOW_SAMPLES = 150; // 5 minutes of samples
const PAGE = 100;
const SVG = "http://www.w3.org/2000/svg";

/** name → { counts, row, samples: [{ depth, rate }], lastClaimed } */
const queues = new Map();
let selected = null;
let nextAfter = null;

const $ = (id) => document.getElementById(id);

// --- API ---

function headers(extra) {
  const h = new Headers(extra);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) h.set("authorization", `Bearer ${token}`);
  return h;
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: headers(init.headers) });
  if (res.status === 401) {
    askToken();
    throw new Error("The server needs an access token (use the Token button)");
  }
  if (!res.ok) {
    let detail = `${res.status}`;
    try {
      const body = await res.json();
      detail = `${body.code}: ${body.message}`;
    } catch {}
    throw new Error(detail);
  }
  return res.status === 204 ? null : res.json();
}

function askToken() {
  const token = prompt("Access token for this broker (kept in this tab only):");
  if (token) sessionStorage.setItem(TOKEN_KEY, token.trim());
}

const queuePath = (name) => `api/queues/${encodeURIComponent(name)}`;

function showError(error) {
  const el = $("error");
  el.textContent = error ? String(error.message || error) : "";
  el.hidden = !error;
}

// --- live counts (server-sent events read through fetch, so the token travels in a header) ---

let askedForToken = false;

async function listen() {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10000)) {
    try {
      const res = await fetch("api/events", { headers: headers({ accept: "text/event-stream" }) });
      if (res.status === 401) {
        setStatus("locked", "token needed (use the Token button)");
        // Ask by itself once; after that the Token button asks, so a cancelled prompt does not come back.
        if (!askedForToken) askToken();
        askedForToken = true;
        await sleep(delay);
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
      setStatus("live", "live");
      delay = 500;
      await readEvents(res.body.getReader());
    } catch {}
    setStatus("connecting", "reconnecting…");
    await sleep(delay);
  }
}

async function readEvents(reader) {
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      if (data) onEvent(event, JSON.parse(data));
    }
  }
}

function onEvent(event, data) {
  if (event === "queues") {
    const names = new Set(data.queues.map((q) => q.name));
    for (const name of [...queues.keys()]) if (!names.has(name)) update({ name, pending: 0, claimed: 0, total: 0 });
    for (const q of data.queues) update(q);
  } else if (event === "queue") {
    update(data);
    if (data.name === selected) refreshSoon();
  }
}

function setStatus(state, text) {
  const el = $("status");
  el.dataset.state = state;
  el.textContent = text;
}

// --- queue table ---

function update(counts) {
  let q = queues.get(counts.name);
  if (counts.total === 0) {
    if (q) {
      q.row.remove();
      queues.delete(counts.name);
    }
    $("no-queues").hidden = queues.size > 0;
    return;
  }
  if (!q) {
    q = { counts, row: makeRow(counts.name), samples: [], lastClaimed: counts.claimed, claimedSince: 0 };
    queues.set(counts.name, q);
    const rows = [...$("queues").tBodies[0].rows];
    const before = rows.find((r) => r.dataset.queue > counts.name);
    $("queues").tBodies[0].insertBefore(q.row, before || null);
  }
  // Claims since the last sample; a vacuum lowers the claimed count, which is not throughput.
  q.claimedSince += Math.max(0, counts.claimed - q.lastClaimed);
  q.lastClaimed = counts.claimed;
  q.counts = counts;
  q.row.cells[1].textContent = String(counts.pending);
  q.row.cells[2].textContent = String(counts.claimed);
  q.row.classList.remove("flash");
  void q.row.offsetWidth; // restart the highlight
  q.row.classList.add("flash");
  $("no-queues").hidden = true;
}

function makeRow(name) {
  const row = document.createElement("tr");
  row.dataset.queue = name;
  const cells = ["name", "num", "num", "chart", "act"].map((cls) => {
    const td = document.createElement("td");
    td.className = cls;
    row.append(td);
    return td;
  });
  cells[0].textContent = name;
  cells[3].append(makeChart());
  const browse = document.createElement("button");
  browse.type = "button";
  browse.textContent = "Browse";
  browse.addEventListener("click", () => select(name));
  cells[4].append(browse);
  return row;
}

// --- chart: pending as a line, claims per second as bars, hand-drawn SVG ---

function makeChart() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("width", "300");
  svg.setAttribute("height", "40");
  svg.setAttribute("viewBox", "0 0 300 40");
  const axis = document.createElementNS(SVG, "line");
  axis.setAttribute("class", "axis");
  for (const [k, v] of Object.entries({ x1: 0, y1: 39.5, x2: 300, y2: 39.5 })) axis.setAttribute(k, String(v));
  const bars = document.createElementNS(SVG, "path");
  bars.setAttribute("class", "rate");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("class", "depth");
  const label = document.createElementNS(SVG, "text");
  label.setAttribute("class", "label");
  label.setAttribute("x", "2");
  label.setAttribute("y", "9");
  svg.append(axis, bars, line, label);
  return svg;
}

function sample() {
  for (const q of queues.values()) {
    q.samples.push({ depth: q.counts.pending, rate: q.claimedSince / (SAMPLE_MS / 1000) });
    q.claimedSince = 0;
    if (q.samples.length > WINDOW_SAMPLES) q.samples.shift();
    draw(q);
  }
}

function draw(q) {
  const svg = q.row.cells[3].firstChild;
  const [, bars, line, label] = svg.childNodes;
  const step = 300 / WINDOW_SAMPLES;
  const x0 = 300 - q.samples.length * step;
  const maxDepth = Math.max(1, ...q.samples.map((s) => s.depth));
  const maxRate = Math.max(1, ...q.samples.map((s) => s.rate));
  const points = q.samples.map((s, i) => `${(x0 + (i + 0.5) * step).toFixed(1)},${(38 - (s.depth / maxDepth) * 34).toFixed(1)}`);
  line.setAttribute("points", points.join(" "));
  let d = "";
  q.samples.forEach((s, i) => {
    const h = (s.rate / maxRate) * 34;
    if (h > 0)
      d += `M${(x0 + i * step).toFixed(1)} 39h${(step * 0.8).toFixed(2)}v${(-h).toFixed(1)}h${(-step * 0.8).toFixed(2)}z`;
  });
  bars.setAttribute("d", d);
  const last = q.samples.at(-1);
  label.textContent = `peak ${maxDepth} pending · ${maxRate.toFixed(1)}/s`;
  const title = document.createElementNS(SVG, "title");
  title.textContent = `${q.counts.name}: ${last.depth} pending, ${last.rate.toFixed(1)} claimed/s (peak ${maxRate.toFixed(1)}/s)`;
  svg.querySelector("title")?.remove();
  svg.append(title);
}

// --- message browser ---

function select(name) {
  selected = name;
  $("browser").hidden = false;
  $("browser-queue").textContent = name;
  for (const row of $("queues").tBodies[0].rows) row.classList.toggle("selected", row.dataset.queue === name);
  void loadMessages(true);
}

let loading = Promise.resolve();
function loadMessages(fresh) {
  loading = loading.then(() => fetchPage(fresh)).catch(showError);
  return loading;
}

/** Reload the open page once for any number of changes that arrive while a load is running. */
let refreshQueued = false;
function refreshSoon() {
  if (refreshQueued) return;
  refreshQueued = true;
  loading = loading
    .then(() => {
      refreshQueued = false;
      return fetchPage(true);
    })
    .catch(showError);
}

async function fetchPage(fresh) {
  if (!selected) return;
  const name = selected;
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (!fresh && nextAfter) params.set("after", nextAfter);
  const page = await api(`${queuePath(name)}/messages?${params}`);
  if (name !== selected) return;
  const body = $("messages").tBodies[0];
  if (fresh) body.replaceChildren();
  for (const m of page.messages) body.append(messageRow(name, m));
  nextAfter = page.next;
  $("more").hidden = !page.next;
  $("no-messages").hidden = body.rows.length > 0;
  showError(null);
}

function messageRow(queue, m) {
  const row = document.createElement("tr");
  row.dataset.id = m.id;
  const id = document.createElement("td");
  id.className = "id";
  id.textContent = m.id;
  const bodyCell = document.createElement("td");
  bodyCell.className = "body";
  const pre = document.createElement("pre");
  pre.textContent = m.body;
  bodyCell.append(pre);
  const act = document.createElement("td");
  act.className = "act";
  act.append(
    button("Move…", () => move(queue, { id: m.id }, `message ${m.id}`)),
    button("Delete…", "danger", () => removeMessage(queue, m.id)),
  );
  row.append(id, bodyCell, act);
  return row;
}

function button(label, cls, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (typeof cls === "function") onClick = cls;
  else b.className = cls;
  b.addEventListener("click", () => void onClick().catch(showError));
  return b;
}

async function move(queue, selection, what) {
  const to = prompt(`Move ${what} from '${queue}' to which queue?`);
  if (!to) return;
  if (!confirm(`Move ${what} from '${queue}' to '${to}'?`)) return;
  await api(`${queuePath(queue)}/move`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ to: to.trim(), ...selection }),
  });
  await loadMessages(true);
}

async function removeMessage(queue, id) {
  if (!confirm(`Delete message ${id} from '${queue}'?`)) return;
  await api(`${queuePath(queue)}/messages/${id}`, { method: "DELETE" });
  await loadMessages(true);
}

async function removeQueue(queue) {
  if (!confirm(`Delete every message of '${queue}'? This cannot be undone.`)) return;
  await api(queuePath(queue), { method: "DELETE" });
  await loadMessages(true);
}

async function rename(queue) {
  const to = prompt(`Rename '${queue}' (pending and claimed messages) to which new queue?`);
  if (!to) return;
  if (!confirm(`Rename '${queue}' to '${to.trim()}'? Its aliases follow it.`)) return;
  const result = await api(`${queuePath(queue)}/rename`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ to: to.trim() }),
  });
  select(result.new_queue);
}

/** Fetch the dump with the token in the header (a plain link could only carry it in the URL), then save it from a Blob. */
async function downloadDump(event) {
  event.preventDefault();
  const res = await fetch("api/dump", { headers: headers() });
  if (res.status === 401) {
    askToken();
    throw new Error("The server needs an access token (use the Token button)");
  }
  if (!res.ok) throw new Error(`dump failed: ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = `broker-dump-${new Date().toISOString().replace(/[:.]/g, "-")}.ndjson`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

document.addEventListener("DOMContentLoaded", () => {
  $("token").addEventListener("click", askToken);
  $("refresh").addEventListener("click", () => void loadMessages(true));
  $("more").addEventListener("click", () => void loadMessages(false));
  $("move-all").addEventListener("click", () => void move(selected, { all: true }, "every pending message").catch(showError));
  $("delete-queue").addEventListener("click", () => void removeQueue(selected).catch(showError));
  $("rename").addEventListener("click", () => void rename(selected).catch(showError));
  $("dump").addEventListener("click", (event) => void downloadDump(event).catch(showError));
  setInterval(sample, SAMPLE_MS);
  void listen();
});
