import { describe, expect, it } from 'vitest';
import { splitBlocks } from './blocks.js';

// The cut of an answer into blocks that render on their own (docs/ui.md "Fast models"): a
// block, once the next one has started, never changes again, and cutting never changes what
// a block means (a code fence, a list item's second paragraph stay whole).

describe('splitBlocks', () => {
  it('cuts at blank lines; the blank lines are left out', () => {
    expect(splitBlocks('# Title\n\nFirst para\nstill first.\n\n\n- a\n- b\n')).toEqual(['# Title', 'First para\nstill first.', '- a\n- b']);
    expect(splitBlocks('')).toEqual([]);
  });

  it('keeps a fenced code block whole, blank lines and all, open or closed', () => {
    const code = '```js\nconst a = 1;\n\n\nconst b = 2;\n```';
    expect(splitBlocks(`Before\n\n${code}\n\nAfter`)).toEqual(['Before', code, 'After']);
    expect(splitBlocks('~~~~\na\n\n~~~\nb')).toEqual(['~~~~\na\n\n~~~\nb']); // a shorter fence does not close it
  });

  it('keeps an indented continuation (a list item’s next paragraph, indented code) in its block', () => {
    expect(splitBlocks('1. one\n\n   more of one\n\nNext')).toEqual(['1. one\n\n   more of one', 'Next']);
  });

  it('renders a text with a link definition or footnote whole: they reach across blocks', () => {
    const text = 'See [docs][d].\n\n[d]: https://example.com';
    expect(splitBlocks(text)).toEqual([text]);
  });

  it('while streaming, a finished block stays the same string as the text grows', () => {
    const full = 'Para one.\n\n```\ncode\n\nmore\n```\n\nPara two grows';
    let before: string[] = [];
    for (let end = 1; end <= full.length; end++) {
      const blocks = splitBlocks(full.slice(0, end));
      for (let i = 0; i < before.length - 1; i++) expect(blocks[i]).toBe(before[i]);
      before = blocks;
    }
    expect(before).toEqual(['Para one.', '```\ncode\n\nmore\n```', 'Para two grows']);
  });
});
