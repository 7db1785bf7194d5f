// The SVG primitives of the bench's charts (docs/benchmark.md "Plots"): escaping, coordinates that
// can never be NaN, an estimate of text width (no browser to measure with), and the document frame
// that makes every chart accessible (<title>, <desc>) and readable in dark-mode viewers (its own
// white background, dark ink).

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
/** Okabe–Ito: told apart by the colour-blind too, and dark enough on white (its yellow is left out). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;
export const INK = '#1a1a1a';
export const MUTED = '#555555';
export const GRID = '#e4e4e4';
export const BACKGROUND = '#ffffff';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate: two decimals at most; a non-finite one is a bug in the chart, never drawn. */
export function n(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`plot: non-finite coordinate ${v}`);
  return String(Math.round(v * 100) / 100);
}

/**
 * Width of `s` at `size` px in a sans-serif font, estimated per character class and rounded up a
 * little: labels are laid out with it, and an over-estimate only leaves a margin where an
 * under-estimate would clip.
 */
export function textWidth(s: string, size: number): number {
  let em = 0;
  for (const ch of s) {
    if (/[ilIj.,:;|!'’()[\]\s]/.test(ch)) em += 0.3;
    else if (/[mwMW@%—]/.test(ch)) em += 0.9;
    else if (/[A-Z]/.test(ch)) em += 0.68;
    else if (/[0-9]/.test(ch)) em += 0.58;
    else em += 0.55;
  }
  return em * size * 1.06;
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  /** Degrees, about (x, y). */
  rotate?: number;
}

export function text(x: number, y: number, s: string, o: TextOptions = {}): string {
  const attrs = [`x="${n(x)}"`, `y="${n(y)}"`, `font-size="${o.size ?? 12}"`, `fill="${o.fill ?? INK}"`];
  if (o.anchor && o.anchor !== 'start') attrs.push(`text-anchor="${o.anchor}"`);
  if (o.weight === 'bold') attrs.push('font-weight="bold"');
  if (o.rotate) attrs.push(`transform="rotate(${n(o.rotate)} ${n(x)} ${n(y)})"`);
  return `<text ${attrs.join(' ')}>${esc(s)}</text>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1, extra = ''): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${stroke}" stroke-width="${n(width)}"${extra ? ` ${extra}` : ''}/>`;
}

export function rect(x: number, y: number, w: number, h: number, attrs: string): string {
  return `<rect x="${n(x)}" y="${n(y)}" width="${n(Math.max(0, w))}" height="${n(Math.max(0, h))}" ${attrs}/>`;
}

export function circle(cx: number, cy: number, r: number, attrs: string): string {
  return `<circle cx="${n(cx)}" cy="${n(cy)}" r="${n(r)}"${attrs ? ` ${attrs}` : ''}/>`;
}

/** Words wrapped into lines of at most `width` px. */
export function wrap(s: string, width: number, size: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of s.split(/\s+/).filter(Boolean)) {
    const next = current ? `${current} ${word}` : word;
    if (current && textWidth(next, size) > width) {
      lines.push(current);
      current = word;
    } else current = next;
  }
  if (current) lines.push(current);
  return lines;
}

export interface Frame {
  /** Unique per chart: the ids of its <title> and <desc>. */
  id: string;
  title: string;
  /** What a screen reader says: the chart's figures in words. */
  desc: string;
  width: number;
  height: number;
  body: string[];
}

export function svgDocument(f: Frame): string {
  const id = f.id.replace(/[^A-Za-z0-9_-]/g, '-');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(f.width)}" height="${n(f.height)}" viewBox="0 0 ${n(f.width)} ${n(f.height)}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="${esc(FONT)}" style="color-scheme: light">`,
    `<title id="${id}-title">${esc(f.title)}</title>`,
    `<desc id="${id}-desc">${esc(f.desc)}</desc>`,
    rect(0, 0, f.width, f.height, `fill="${BACKGROUND}"`),
    ...f.body,
    '</svg>',
    '',
  ].join('\n');
}
