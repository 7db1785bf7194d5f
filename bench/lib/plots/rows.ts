// Horizontal charts with a labelled row per path (path names are long; they read best on the left):
// the rows' layout, shared by the range chart (ranges.ts) and the distribution chart (distribution.ts).

import { PAD } from './layout.js';
import { INK, textWidth, text } from './svg.js';

export interface LabelledRow {
  label: string;
  /** Rows under one heading (an upstream, a figure); a heading is drawn where the group changes. */
  group?: string;
}

export interface RowSlot {
  /** The row's vertical centre. */
  y: number;
  index: number;
}

export interface RowLayout {
  svg: string[];
  slots: RowSlot[];
  /** Where the plot starts (right of the labels). */
  left: number;
  height: number;
  groups: string[];
}

export const GROUP_HEIGHT = 24;

export function labelWidth(rows: LabelledRow[]): number {
  return Math.max(80, ...rows.map((r) => textWidth(r.label, 12)));
}

/** 800 px, or wider where the labels would leave the plot less than 330 px. */
export function chartWidth(rows: LabelledRow[]): number {
  return Math.max(800, Math.ceil(PAD + 8 + labelWidth(rows) + 14 + 330 + 78 + PAD));
}

/** Labels and group headings down the left, from `top`; `rowHeight` per row. */
export function layRows(rows: LabelledRow[], top: number, rowHeight: number): RowLayout {
  const svg: string[] = [];
  const slots: RowSlot[] = [];
  const groups: string[] = [];
  const left = PAD + 8 + labelWidth(rows) + 14;
  let y = top;
  let group: string | undefined;
  rows.forEach((row, index) => {
    if (row.group !== undefined && row.group !== group) {
      group = row.group;
      groups.push(group);
      y += 4;
      svg.push(text(PAD, y + 14, group, { size: 12, weight: 'bold' }));
      y += GROUP_HEIGHT - 4;
    }
    const cy = y + rowHeight / 2;
    svg.push(text(left - 12, cy + 4, row.label, { size: 12, anchor: 'end', fill: INK }));
    slots.push({ y: cy, index });
    y += rowHeight;
  });
  return { svg, slots, left, height: y - top, groups };
}
