// The syntax highlighter itself: lowlight (highlight.js producing a syntax tree, not
// HTML) with a few common languages. Loaded lazily by ./index.ts, so none of this is
// in the JavaScript the first view needs.
//
// Safety: the tree is turned into React elements here, by hand, and only two kinds
// of node are kept: text (which React escapes) and <span> with class names. Nothing
// the model wrote can become markup, whatever the grammar does with it.

import { createElement, type ReactNode } from 'react';
import { createLowlight } from 'lowlight';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const lowlight = createLowlight({
  bash, c, cpp, csharp, css, diff, go, java, javascript, json, kotlin, markdown, php, python, ruby, rust, shell, sql, swift, typescript, xml, yaml,
});
// Names models often write that highlight.js knows by another.
lowlight.registerAlias({ bash: ['sh', 'zsh', 'console'], xml: ['html', 'svg'], javascript: ['js', 'jsx', 'mjs', 'cjs'], typescript: ['ts', 'tsx'], python: ['py'], yaml: ['yml'], rust: ['rs'], csharp: ['cs'] });

interface Node {
  type: string;
  value?: string;
  tagName?: string;
  properties?: { className?: unknown };
  children?: Node[];
}

/** The code as React nodes with highlight.js's class names, or null for a language it does not know. */
export function highlight(code: string, language: string): ReactNode[] | null {
  const name = language.toLowerCase();
  if (!lowlight.registered(name)) return null;
  const tree = lowlight.highlight(name, code) as unknown as Node;
  return toReact(tree.children ?? [], 'h');
}

function toReact(nodes: Node[], keyPrefix: string): ReactNode[] {
  return nodes.map((node, i): ReactNode => {
    if (node.type === 'text') return node.value ?? '';
    const key = `${keyPrefix}${i}`;
    const children = toReact(node.children ?? [], `${key}.`);
    if (node.type !== 'element' || node.tagName !== 'span') return createElement('span', { key }, ...children);
    const classes = Array.isArray(node.properties?.className) ? node.properties.className.filter((c): c is string => typeof c === 'string' && /^hljs-[\w-]+$|^[\w-]+_$/.test(c)) : [];
    return createElement('span', { key, className: classes.join(' ') || undefined }, ...children);
  });
}
