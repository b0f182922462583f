/**
 * The growth curves of `bench/scale.ts` as one SVG, written here (no charting
 * service, no dependency): for each command a panel of time against queue
 * depth and one of maximum RSS against depth, both axes log scale, one line
 * per implementation (ours on each backend, SimpleBroker 3.6.1).
 * @module
 */

/** One measured point. */
export interface Point {
  command: string;
  impl: string;
  depth: number;
  seconds: number | null;
  rssMb: number | null;
}

const COLORS: Record<string, string> = {
  "ours sqlite": "#1f77b4",
  "ours postgres": "#2ca02c",
  "ours redis": "#d62728",
  "SimpleBroker 3.6.1": "#ff7f0e",
  "raw bun:sqlite": "#7f7f7f",
};
const W = 300;
const H = 190;
const PAD = { l: 46, r: 10, t: 24, b: 30 };

/** The SVG text of every command's two panels, in the order the commands first appear. */
export function scaleChart(points: Point[], title: string): string {
  const commands = [...new Set(points.map((p) => p.command))];
  const impls = [...new Set(points.map((p) => p.impl))];
  const cols = 2;
  const legendH = 24;
  const width = cols * 2 * W;
  const height = Math.ceil(commands.length / cols) * H + legendH + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  impls.forEach((impl, i) => {
    const x = 8 + i * 150;
    parts.push(`<rect x="${x}" y="28" width="14" height="4" fill="${color(impl)}"/>`);
    parts.push(`<text x="${x + 18}" y="33">${esc(impl)}</text>`);
  });
  commands.forEach((command, i) => {
    const x0 = (i % cols) * 2 * W;
    const y0 = Math.floor(i / cols) * H + legendH + 30;
    const mine = points.filter((p) => p.command === command);
    parts.push(panel(mine, x0, y0, `${command}: seconds`, (p) => p.seconds));
    parts.push(panel(mine, x0 + W, y0, `${command}: max RSS (MB)`, (p) => p.rssMb));
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function panel(points: Point[], x0: number, y0: number, label: string, value: (p: Point) => number | null): string {
  const shown = points.filter((p) => (value(p) ?? 0) > 0);
  const out = [`<g transform="translate(${x0},${y0})">`, `<text x="${PAD.l}" y="14" font-weight="bold">${esc(label)}</text>`];
  if (shown.length === 0) return `${out.join("")}<text x="${PAD.l}" y="60">no data</text></g>`;
  const xs = shown.map((p) => p.depth);
  const ys = shown.map((p) => value(p)!);
  const [xlo, xhi] = decades(Math.min(...xs), Math.max(...xs));
  const [ylo, yhi] = decades(Math.min(...ys), Math.max(...ys));
  const px = (v: number) => PAD.l + ((Math.log10(v) - xlo) / (xhi - xlo)) * (W - PAD.l - PAD.r);
  const py = (v: number) => H - PAD.b - ((Math.log10(v) - ylo) / (yhi - ylo)) * (H - PAD.t - PAD.b);
  out.push(
    `<rect x="${PAD.l}" y="${PAD.t}" width="${W - PAD.l - PAD.r}" height="${H - PAD.t - PAD.b}" fill="none" stroke="#bbb"/>`,
  );
  for (let d = xlo; d <= xhi; d++) {
    const x = px(10 ** d).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${H - PAD.b + 12}" text-anchor="middle">${fmt(10 ** d)}</text>`);
  }
  for (let d = ylo; d <= yhi; d++) {
    const y = py(10 ** d).toFixed(1);
    out.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${PAD.l - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(10 ** d)}</text>`);
  }
  out.push(`<text x="${(W + PAD.l) / 2}" y="${H - 4}" text-anchor="middle">messages in the queue</text>`);
  for (const impl of new Set(shown.map((p) => p.impl))) {
    const line = shown.filter((p) => p.impl === impl).sort((a, b) => a.depth - b.depth);
    const d = line.map((p, k) => `${k ? "L" : "M"}${px(p.depth).toFixed(1)},${py(value(p)!).toFixed(1)}`).join("");
    out.push(`<path d="${d}" fill="none" stroke="${color(impl)}" stroke-width="1.8"/>`);
    for (const p of line)
      out.push(`<circle cx="${px(p.depth).toFixed(1)}" cy="${py(value(p)!).toFixed(1)}" r="2.5" fill="${color(impl)}"/>`);
  }
  out.push("</g>");
  return out.join("");
}

function decades(lo: number, hi: number): [number, number] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  return [a, b];
}

function fmt(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Number(v.toPrecision(3)));
}

function color(impl: string): string {
  return COLORS[impl] ?? "#9467bd";
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
