// The parts every chart shares: a heading, a legend, a horizontal value axis, notes under the plot.
// Each returns its SVG and the height it took, so a chart stacks them without overlaps.

import { type Scale, formatTick } from './scales.js';
import { GRID, INK, MUTED, circle, line, n, rect, text, textWidth, wrap } from './svg.js';

export interface Block {
  svg: string[];
  height: number;
}

export const PAD = 16;

export function heading(width: number, title: string, subtitle: string | undefined): Block {
  const svg = [text(PAD, PAD + 16, title, { size: 17, weight: 'bold' })];
  let y = PAD + 22;
  for (const l of subtitle ? wrap(subtitle, width - 2 * PAD, 12) : []) {
    y += 16;
    svg.push(text(PAD, y, l, { size: 12, fill: MUTED }));
  }
  return { svg, height: y + 10 };
}

export type Shape = 'circle' | 'square' | 'diamond' | 'triangle';
export const SHAPES: Shape[] = ['circle', 'square', 'diamond', 'triangle'];

export function marker(shape: Shape, x: number, y: number, color: string, r = 4.5): string {
  const attrs = `fill="${color}" stroke="#ffffff" stroke-width="1"`;
  switch (shape) {
    case 'circle':
      return circle(x, y, r, attrs);
    case 'square':
      return rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8, attrs);
    case 'diamond':
      return `<path d="M${n(x)} ${n(y - r * 1.25)}L${n(x + r * 1.25)} ${n(y)}L${n(x)} ${n(y + r * 1.25)}L${n(x - r * 1.25)} ${n(y)}Z" ${attrs}/>`;
    case 'triangle':
      return `<path d="M${n(x)} ${n(y - r * 1.2)}L${n(x + r * 1.2)} ${n(y + r)}L${n(x - r * 1.2)} ${n(y + r)}Z" ${attrs}/>`;
  }
}

export interface LegendItem {
  label: string;
  /** A marker, or a drawn glyph (its SVG at (0, 0), and its width). */
  color?: string;
  shape?: Shape;
  line?: boolean;
  glyph?: { svg: (x: number, y: number) => string; width: number };
}

/** Items left to right, wrapped to `width`; starts at (x, y), y being the top. */
export function legend(items: LegendItem[], x: number, y: number, width: number): Block {
  const svg: string[] = [];
  let cx = x;
  let cy = y + 10;
  for (const item of items) {
    const glyphWidth = item.glyph?.width ?? 18;
    const w = glyphWidth + 6 + textWidth(item.label, 12) + 18;
    if (cx > x && cx + w > x + width) {
      cx = x;
      cy += 20;
    }
    if (item.glyph) svg.push(item.glyph.svg(cx, cy));
    else {
      if (item.line) svg.push(line(cx, cy, cx + 18, cy, item.color ?? INK, 2));
      svg.push(marker(item.shape ?? 'circle', cx + 9, cy, item.color ?? INK));
    }
    svg.push(text(cx + glyphWidth + 6, cy + 4, item.label, { size: 12 }));
    cx += w;
  }
  return { svg, height: items.length ? cy - y + 14 : 0 };
}

/** Grid lines from `top` to `bottom`, tick labels and the axis title below. */
export function xAxis(scale: Scale, top: number, bottom: number, label: string, center: number): Block {
  const svg: string[] = [];
  let lastRight = -Infinity;
  for (const t of scale.ticks) {
    const x = scale(t);
    svg.push(line(x, top, x, bottom, GRID));
    const s = formatTick(t, scale.ticks);
    const w = textWidth(s, 11);
    // A label that would overlap the previous one is left out (its grid line stays).
    if (x - w / 2 < lastRight + 4) continue;
    svg.push(text(x, bottom + 15, s, { size: 11, anchor: 'middle', fill: MUTED }));
    lastRight = x + w / 2;
  }
  svg.push(line(scale(scale.domain[0]), bottom, scale(scale.domain[1]), bottom, MUTED));
  svg.push(text(center, bottom + 36, label + (scale.log ? ' (log scale)' : ''), { size: 12, anchor: 'middle' }));
  return { svg, height: 44 };
}

export function notes(lines: string[] | undefined, x: number, y: number, width: number): Block {
  const svg: string[] = [];
  let cy = y;
  for (const l of (lines ?? []).flatMap((s) => wrap(s, width, 11))) {
    cy += 15;
    svg.push(text(x, cy, l, { size: 11, fill: MUTED }));
  }
  return { svg, height: cy - y + (lines?.length ? 8 : 0) };
}

/** A figure in words, for <desc> and the value labels: 3 significant digits, thousands separated. */
export function say(v: number, unit = ''): string {
  const s = Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : Number(v.toPrecision(3)).toLocaleString('en', { maximumFractionDigits: 3 });
  return unit ? `${s} ${unit}` : s;
}
