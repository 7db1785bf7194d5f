// Which files Jarvis reads as text (docs/conversations.md "Attachments"): what the model can
// read in its prompt. By the mime type the browser gave, else by the file's extension; a file
// named neither way is still taken when its bytes are UTF-8 text (textOf decides).

const TEXT_MIMES = new Set([
  'application/json',
  'application/ld+json',
  'application/xml',
  'application/javascript',
  'application/x-javascript',
  'application/typescript',
  'application/x-typescript',
  'application/x-sh',
  'application/x-shellscript',
  'application/x-yaml',
  'application/yaml',
  'application/toml',
  'application/sql',
  'application/x-httpd-php',
  'application/x-python',
  'application/x-ndjson',
  'application/jsonl',
  'application/graphql',
]);

const TEXT_EXTENSIONS = new Set(
  (
    'txt text md markdown mdx rst adoc org tex log csv tsv json jsonl ndjson yaml yml toml ini cfg conf env properties xml html htm css scss less svg ' +
    'js mjs cjs jsx ts mts cts tsx vue svelte py pyi rb go rs java kt kts scala swift c h cc cpp cxx hpp hh cs fs php pl pm lua r jl dart ex exs erl ' +
    'hs ml clj sh bash zsh fish ps1 bat cmd sql graphql proto gradle cmake mk makefile dockerfile tf hcl nix zig gitignore diff patch'
  ).split(' '),
);

export function extensionOf(name: string): string {
  const base = name.toLowerCase().split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot === -1 ? base : base.slice(dot + 1);
}

/** Named as text: a `text/*` or known text mime type, a `+json`/`+xml` one, or a text extension. */
export function namedAsText(name: string, mime: string): boolean {
  return mime.startsWith('text/') || TEXT_MIMES.has(mime) || /\+(json|xml)$/.test(mime) || TEXT_EXTENSIONS.has(extensionOf(name));
}

export function isPdf(name: string, mime: string, bytes: Uint8Array): boolean {
  return mime === 'application/pdf' || extensionOf(name) === 'pdf' || Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
}

/** The images every vision model Jarvis talks to reads (Ollama and OpenAI's servers alike). */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
