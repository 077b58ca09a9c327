/**
 * A small SVG chart: panels of horizontal bars, one panel per scenario, each with its own scale and
 * value labels. Hand-written SVG, no plotting library or service.
 */

export interface Bar {
  label: string;
  value: number;
  /** Highlighted (Weft) or not. */
  weft?: boolean;
}

export interface Panel {
  title: string;
  unit: string;
  bars: Bar[];
  /** A dashed goal line at this value, if any. */
  goal?: { value: number; label: string };
}

const W = 760;
const LABEL_W = 300;
const BAR_H = 18;
const GAP = 6;
const PANEL_PAD = 44;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function renderChart(title: string, panels: readonly Panel[]): string {
  const parts: string[] = [];
  let y = 36;
  parts.push(`<text x="12" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`);
  for (const p of panels) {
    const bars = p.bars.filter((b) => Number.isFinite(b.value));
    const max = Math.max(...bars.map((b) => b.value), p.goal?.value ?? 0) * 1.15 || 1;
    const plotW = W - LABEL_W - 20;
    const sx = (v: number) => LABEL_W + (Math.max(0, v) / max) * plotW;
    parts.push(
      `<text x="12" y="${y + 14}" font-size="13" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`,
    );
    let by = y + 24;
    for (const b of bars) {
      const w = Math.max(1, sx(b.value) - LABEL_W);
      parts.push(
        `<text x="${LABEL_W - 6}" y="${by + 13}" font-size="11" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${LABEL_W}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${b.weft ? '#2a7ab9' : '#a9a9a9'}"/>`,
        `<text x="${(LABEL_W + w + 4).toFixed(1)}" y="${by + 13}" font-size="11">${esc(fmt(b.value))}</text>`,
      );
      by += BAR_H + GAP;
    }
    if (p.goal) {
      const gx = sx(p.goal.value).toFixed(1);
      parts.push(
        `<line x1="${gx}" y1="${y + 20}" x2="${gx}" y2="${by}" stroke="#c0392b" stroke-dasharray="4 3"/>`,
        `<text x="${gx}" y="${by + 11}" font-size="10" fill="#c0392b" text-anchor="middle">${esc(p.goal.label)}</text>`,
      );
    }
    y = by + PANEL_PAD - 20;
  }
  const h = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${esc(title)}</title>`,
    `<rect width="${W}" height="${h}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
