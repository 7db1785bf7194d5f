import { describe, expect, it } from 'vitest';
import { plainSnippet } from './plainSnippet.js';

const marked = (r: { text: string; range: [number, number] | null }) => (r.range ? r.text.slice(r.range[0], r.range[1]) : null);

describe('plainSnippet', () => {
  it('drops bold, code, links and line marks, and keeps the match on the same word', () => {
    const text = '## Why\n- I like **Python** and `code`, see [the docs](https://x.y/z)';
    const at = text.indexOf('Python');
    const r = plainSnippet(text, [at, at + 6]);
    expect(r.text).toBe('Why\nI like Python and code, see the docs');
    expect(marked(r)).toBe('Python');
  });

  it('leaves snake_case, 2 * 3 and a lone underscore alone', () => {
    expect(plainSnippet('snake_case_name, 2 * 3, a_b', null).text).toBe('snake_case_name, 2 * 3, a_b');
  });

  it('a match that included the marks keeps the text between them', () => {
    const text = 'use **bold** here';
    const r = plainSnippet(text, [4, 12]);
    expect(marked(r)).toBe('bold');
  });
});
