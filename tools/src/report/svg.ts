/**
 * Small inline SVG charts for the run report: horizontal bar charts and a tile strip of outcomes.
 * Pure string builders with no dependencies, so the HTML report stays one self-contained file that
 * opens offline (no script, no network, no fonts).
 */

export interface Bar {
  label: string;
  value: number;
  /** Text shown after the bar (defaults to the value). */
  display?: string;
  /** Fill colour (CSS). */
  color?: string;
}

export interface Tile {
  label: string;
  color: string;
  title: string;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Characters of a label shown before it is cut with an ellipsis. */
const LABEL_CHARS = 28;
const cut = (s: string) => (s.length > LABEL_CHARS ? `${s.slice(0, LABEL_CHARS - 1)}…` : s);

/**
 * A horizontal bar chart, one row per bar, scaled to the largest value. Each bar carries a
 * `<title>` with its full label and value, so a reader hovering it sees the exact figure.
 */
export function barChart(title: string, bars: readonly Bar[], opts: { width?: number; color?: string } = {}): string {
  const width = opts.width ?? 640;
  const rowHeight = 22;
  const labelWidth = 200;
  const valueWidth = 90;
  const plot = width - labelWidth - valueWidth;
  const height = 28 + Math.max(bars.length, 1) * rowHeight;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const rows = bars.map((b, i) => {
    const y = 28 + i * rowHeight;
    const w = max > 0 ? Math.max(b.value > 0 ? 1 : 0, Math.round((b.value / max) * plot)) : 0;
    const shown = b.display ?? String(b.value);
    return [
      `<g class="bar"><title>${esc(b.label)}: ${esc(shown)}</title>`,
      `<text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end">${esc(cut(b.label))}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${w}" height="${rowHeight - 6}" ` +
        `fill="${esc(b.color ?? opts.color ?? '#3b6ea8')}"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 15}">${esc(shown)}</text></g>`,
    ].join('');
  });
  const empty = bars.length === 0 ? `<text x="${labelWidth}" y="43" class="muted">nothing to show</text>` : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" ` +
      `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<text x="0" y="16" font-weight="bold" font-size="13">${esc(title)}</text>`,
    ...rows,
    empty,
    '</svg>',
  ].join('');
}

/** A strip of coloured squares, one per item (a table's validation outcome, say), wrapping at `perRow`. */
export function tileStrip(title: string, tiles: readonly Tile[], legend: readonly [string, string][]): string {
  const size = 14;
  const gap = 3;
  const perRow = 40;
  const rows = Math.max(1, Math.ceil(tiles.length / perRow));
  const width = Math.max(perRow * (size + gap), 360);
  const height = 28 + rows * (size + gap) + 24;
  const squares = tiles.map((t, i) => {
    const x = (i % perRow) * (size + gap);
    const y = 24 + Math.floor(i / perRow) * (size + gap);
    return (
      `<rect class="tile" x="${x}" y="${y}" width="${size}" height="${size}" fill="${esc(t.color)}">` +
      `<title>${esc(t.label)}: ${esc(t.title)}</title></rect>`
    );
  });
  const legendY = height - 6;
  let lx = 0;
  const keys = legend.map(([name, color]) => {
    const part =
      `<rect x="${lx}" y="${legendY - 10}" width="10" height="10" fill="${esc(color)}"/>` +
      `<text x="${lx + 14}" y="${legendY}">${esc(name)}</text>`;
    lx += 24 + name.length * 7;
    return part;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" ` +
      `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<text x="0" y="16" font-weight="bold" font-size="13">${esc(title)}</text>`,
    ...squares,
    ...keys,
    '</svg>',
  ].join('');
}

export { esc as escapeHtml };
