import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';

// What makes a chart file sound, for its tests and CI's check of the quick run's charts
// (docs/benchmark.md "Plots"): well-formed XML with an <svg> root, a <title> and a <desc> for
// screen readers, and no coordinate or label that came out NaN, Infinity or undefined.

export function svgProblems(svg: string): string[] {
  const problems: string[] = [];
  const doc = new new JSDOM('').window.DOMParser().parseFromString(svg, 'image/svg+xml');
  const error = doc.getElementsByTagName('parsererror')[0];
  if (error) return [`not well-formed XML: ${error.textContent ?? ''}`];
  const root = doc.documentElement;
  if (root.nodeName !== 'svg' || root.namespaceURI !== 'http://www.w3.org/2000/svg') problems.push(`root is <${root.nodeName}>, not an SVG <svg>`);
  for (const tag of ['title', 'desc']) {
    const el = root.querySelector(`:scope > ${tag}`);
    if (!el?.textContent?.trim()) problems.push(`no <${tag}>`);
  }
  for (const bad of ['NaN', 'Infinity', 'undefined']) if (svg.includes(bad)) problems.push(`contains ${bad}`);
  return problems;
}

/** Problems with the charts expected in `dir`: a file missing, or one that is not sound. */
export function checkPlotsDir(dir: string, files: string[]): string[] {
  return files.flatMap((file) => {
    const path = join(dir, file);
    if (!existsSync(path)) return [`${path}: missing`];
    return svgProblems(readFileSync(path, 'utf8')).map((p) => `${path}: ${p}`);
  });
}
