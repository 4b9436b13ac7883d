// Bar charts drawn as inline SVG (no library, no build step). Each chart has a title, a text
// summary for screen readers, and the values printed on the bars; the page also shows a table.

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = String(text);
  return el;
}

/**
 * Grouped horizontal bars.
 * groups: [{label: "Orders", values: [{series: "p50", value: 3600, text: "1h 0m"}, ...]}]
 * series: [{name: "p50", className: "bar-a"}, ...] (fills and patterns come from CSS)
 */
export function groupedBarChart({ title, groups, series, formatValue = String, maxValue }) {
  const barHeight = 18;
  const gap = 4;
  const groupGap = 16;
  const labelWidth = 200;
  const maxLabel = 24;
  const chartWidth = 420;
  const valueWidth = 90;
  const width = labelWidth + chartWidth + valueWidth;
  const groupHeight = series.length * (barHeight + gap) + groupGap;
  const legendHeight = 28;
  const height = legendHeight + Math.max(1, groups.length) * groupHeight;
  const max = maxValue || Math.max(1, ...groups.flatMap((g) => g.values.map((v) => Number(v.value) || 0)));

  const summary = groups
    .map((g) => `${g.label}: ${g.values.map((v) => `${v.series} ${v.value === null ? "no data" : formatValue(v.value)}`).join(", ")}`)
    .join("; ");
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width: "100%",
    role: "img",
    "aria-label": `${title}. ${summary || "No data"}`,
    class: "chart",
  });
  root.append(svg("title", {}, title));

  // Legend: a swatch and the series name (names carry the meaning, not only colour).
  let x = labelWidth;
  for (const s of series) {
    root.append(svg("rect", { x, y: 6, width: 14, height: 14, class: `swatch ${s.className}` }));
    root.append(svg("text", { x: x + 20, y: 18, class: "chart-text" }, s.name));
    x += 30 + s.name.length * 8;
  }

  groups.forEach((group, gi) => {
    const top = legendHeight + gi * groupHeight;
    // Long names are shortened to fit; the full name stays in a tooltip and in the aria-label.
    const short = group.label.length > maxLabel ? `${group.label.slice(0, maxLabel - 1)}…` : group.label;
    const label = svg("text", { x: 0, y: top + barHeight, class: "chart-text chart-label" }, short);
    if (short !== group.label) label.append(svg("title", {}, group.label));
    root.append(label);
    series.forEach((s, si) => {
      const entry = group.values.find((v) => v.series === s.name);
      const value = entry && entry.value !== null && entry.value !== undefined ? Number(entry.value) : null;
      const y = top + si * (barHeight + gap);
      const w = value === null ? 0 : Math.max(1, (value / max) * chartWidth);
      root.append(svg("rect", { x: labelWidth, y, width: w, height: barHeight, class: `bar ${s.className}` }));
      root.append(svg("text", { x: labelWidth + w + 6, y: y + barHeight - 4, class: "chart-text" },
        value === null ? "no data" : `${s.name}: ${formatValue(value)}`));
    });
  });
  return root;
}
