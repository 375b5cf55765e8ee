// Small SVG charts drawn here (no library, nothing from another origin). Each chart is an
// image with a text alternative that lists every value, so a screen reader reads the
// figures a sighted operator sees; every bar also carries its value as a tooltip.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const ROW = 26;
const LABEL = 210;
const VALUE_SPACE = 110;

function shape(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function image(height, summary) {
  const svg = shape("svg", {
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "aria-label": summary,
    class: "chart-svg",
    preserveAspectRatio: "xMinYMin meet",
  });
  return svg;
}

function clip(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

// rows: [{label, value, part?, marker?, text, note?, className?}]: a bar per row, `part`
// (e.g. overdue) drawn darker inside it, `marker` a tick on the same scale, `text` written
// after it, `note` added to the text alternative and the tooltip.
export function horizontalBars(rows, { summary, empty, scale = 0 }) {
  if (!rows.length) return emptyNote(empty);
  const height = rows.length * ROW + 8;
  const described = (r) => `${r.label}: ${r.text}${r.note ? ` (${r.note})` : ""}`;
  const svg = image(height, `${summary}. ${rows.map(described).join("; ")}`);
  const largest = Math.max(scale, ...rows.map((r) => r.value), 1);
  const span = WIDTH - LABEL - VALUE_SPACE;
  rows.forEach((row, index) => {
    const y = index * ROW + 4;
    const width = Math.max((row.value / largest) * span, row.value > 0 ? 2 : 0);
    svg.append(
      shape("text", { x: LABEL - 8, y: y + ROW / 2 + 4, class: "chart-label", "text-anchor": "end" }, clip(row.label, 30)),
    );
    const bar = shape("rect", { x: LABEL, y: y + 3, width, height: ROW - 8, rx: 3, class: `bar ${row.className || ""}` });
    bar.append(shape("title", {}, described(row)));
    svg.append(bar);
    if (row.part) {
      const partWidth = (row.part / largest) * span;
      svg.append(shape("rect", { x: LABEL, y: y + 3, width: partWidth, height: ROW - 8, rx: 3, class: "bar bar-part" }));
    }
    if (row.marker !== undefined) {
      const x = LABEL + Math.min(row.marker / largest, 1) * span;
      svg.append(shape("line", { x1: x, x2: x, y1: y + 1, y2: y + ROW - 3, class: "marker" }));
    }
    svg.append(shape("text", { x: LABEL + width + 6, y: y + ROW / 2 + 4, class: "chart-value" }, row.text));
  });
  return svg;
}

// columns: [{label, value, text}], oldest first: a bar per column, every few labelled.
export function columns(items, { summary, empty }) {
  if (!items.length) return emptyNote(empty);
  const height = 200;
  const base = height - 28;
  const svg = image(height, `${summary}. ${items.map((c) => `${c.label}: ${c.text}`).join("; ")}`);
  const largest = Math.max(...items.map((c) => c.value), 1);
  // A few weeks must not make bars as wide as the chart.
  const slot = Math.min((WIDTH - 40) / items.length, 44);
  const every = Math.ceil(items.length / 8);
  svg.append(shape("line", { x1: 30, x2: WIDTH, y1: base, y2: base, class: "axis" }));
  svg.append(shape("text", { x: 26, y: 14, class: "chart-value", "text-anchor": "end" }, String(largest)));
  items.forEach((item, index) => {
    const barHeight = (item.value / largest) * (base - 20);
    const x = 36 + index * slot;
    const bar = shape("rect", { x, y: base - barHeight, width: Math.max(slot - 4, 2), height: barHeight, rx: 2, class: "bar" });
    bar.append(shape("title", {}, `${item.label}: ${item.text}`));
    svg.append(bar);
    if (index % every === 0 || index === items.length - 1) {
      svg.append(shape("text", { x: x + slot / 2, y: base + 16, class: "chart-label", "text-anchor": "middle" }, item.label));
    }
  });
  return svg;
}

function emptyNote(text) {
  const note = document.createElement("p");
  note.className = "muted";
  note.textContent = text;
  return note;
}
