/** Token texts that break naive JSON handling: quotes, escapes, control characters, look-alike JSON, non-ASCII. */
export const TRICKY = [
  'plain ',
  'He said "hi" ',
  'back\\slash ',
  'new\nline\ttab ',
  'é ü ß ',
  '😀 🎉 ',
  '中文 ',
  '</script><img src=x onerror=alert(1)> ',
  '{"content":"nested","done":false} ',
  '},"done":false} ',
  '"},"logprobs":null,"finish_reason":null}]} ',
  '\u0000\u001f control ',
  '\u2028\u2029 separators ',
  '"',
  '\\',
  ' ',
];
