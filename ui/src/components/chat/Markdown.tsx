// Model output rendered as Markdown, safely: react-markdown builds React elements
// from a syntax tree and never injects HTML (raw HTML in the text shows as text),
// and its URL filter drops javascript: links. Images become links, so an answer
// cannot make the browser fetch a URL (a way to leak the conversation) on its own.

import { memo, useMemo, type ComponentProps } from 'react';
import ReactMarkdown, { type Components, type ExtraProps } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { useCopy } from '../../hooks/useCopy.js';
import { useHighlighter } from '../../lib/highlight/index.js';
import { splitBlocks } from '../../lib/markdown/blocks.js';

interface HastNode {
  type: string;
  value?: string;
  tagName?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
}

function textOf(node: HastNode | undefined): string {
  if (!node) return '';
  if (typeof node.value === 'string') return node.value;
  return (node.children ?? []).map(textOf).join('');
}

function CodeBlock({ node, children, ...props }: ComponentProps<'pre'> & ExtraProps) {
  const { copied, copy } = useCopy();
  const code = (node as HastNode | undefined)?.children?.find((c) => c.tagName === 'code');
  const classes = code?.properties?.className;
  const language = Array.isArray(classes) ? String(classes.find((c) => String(c).startsWith('language-')) ?? '').slice(9) : '';
  const source = textOf(code);
  // Highlighted from the code's text (as React elements, never HTML); plain until the highlighter has loaded.
  const highlight = useHighlighter(language !== '');
  const highlighted = useMemo(() => (highlight && language ? highlight(source, language) : null), [highlight, language, source]);
  return (
    <div className="code-block">
      <div className="code-bar">
        <span className="code-lang">{language || 'code'}</span>
        <button type="button" className="small-button" onClick={() => copy(source.replace(/\n$/, ''))} aria-label={copied ? 'Code copied' : 'Copy code'}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      {highlighted ? (
        // Focusable: a long line scrolls sideways, and the keyboard must be able to scroll it too.
        <pre {...props} tabIndex={0} data-highlighted="">
          <code className={`hljs language-${language}`}>{highlighted}</code>
        </pre>
      ) : (
        <pre {...props} tabIndex={0}>
          {children}
        </pre>
      )}
    </div>
  );
}

const components: Components = {
  pre: CodeBlock,
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer nofollow" />,
  img: ({ src, alt }) =>
    src ? (
      <a href={String(src)} target="_blank" rel="noopener noreferrer nofollow">
        [image: {alt || String(src)}]
      </a>
    ) : (
      <span>[image: {alt}]</span>
    ),
};

const plugins = [remarkGfm];

/** One top-level block: rendered again only when its own text changes (the last one, while it streams). */
const Block = memo(function Block({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={plugins} components={components}>
      {text}
    </ReactMarkdown>
  );
});

/** Rendered block by block (lib/markdown/blocks.ts): a streaming answer costs the work of its last block per update. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const blocks = useMemo(() => splitBlocks(text), [text]);
  return (
    <>
      {blocks.map((block, i) => (
        <Block key={i} text={block} />
      ))}
    </>
  );
});
