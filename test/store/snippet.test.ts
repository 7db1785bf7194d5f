import { describe, expect, it } from 'vitest';
import { snippetAround } from '../../src/store/snippet.js';

// The text a search result shows around its match (GET /v1/conversations?q=).

describe('snippetAround', () => {
  it('keeps a short text whole, folds white space, and gives the match offsets in the snippet', () => {
    const s = snippetAround('Where is\n\nthe  QUOKKA?', 'quokka');
    expect(s).toEqual({ snippet: 'Where is the QUOKKA?', highlight: [13, 19] });
    expect(s.snippet.slice(...s.highlight!)).toBe('QUOKKA');
  });

  it('cuts a long text at word boundaries around the first match, with … where it left text out', () => {
    const text = `${'alpha '.repeat(40)}needle ${'omega '.repeat(60)}needle`;
    const s = snippetAround(text, 'NEEDLE');
    expect(s.snippet).toMatch(/^…(alpha )+needle (omega )+omega…$/);
    expect(s.snippet.length).toBeLessThan(200);
    expect(s.snippet.slice(...s.highlight!)).toBe('needle');
  });

  it('takes regex characters literally, and counts offsets in UTF-16 units as JavaScript does', () => {
    const s = snippetAround('🦘🦘 costs $5 (.*) today', '$5 (.*)');
    expect(s.snippet.slice(...s.highlight!)).toBe('$5 (.*)');
    expect(s.highlight![0]).toBe(11);
  });

  it('without a match (the database matched what JavaScript does not), the start of the text and no highlight', () => {
    expect(snippetAround('plain text', 'zzz')).toEqual({ snippet: 'plain text', highlight: null });
  });
});
