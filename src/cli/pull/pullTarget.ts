import { join, resolve } from 'node:path';
import { UsageError } from '../args.js';

/** Where the embedded backend looks for models: JARVIS_MODELS_DIR, else models/ under the working directory (docs/configuration.md). */
export function modelsDirOf(env: Record<string, string | undefined>): string {
  return env.JARVIS_MODELS_DIR || 'models';
}

/** What `jarvis pull` downloads, from where, to where. */
export interface PullTarget {
  url: string;
  /** The model's name: the file's stem, the name the embedded backend serves it by. */
  name: string;
  dir: string;
  file: string;
  partial: string;
  headers: Record<string, string>;
  /** Why the URL given was rewritten (a shorthand or a page link), shown to the user. */
  rewritten?: string;
}

const HF_HOSTS = new Set(['huggingface.co', 'hf.co']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The download URL: `hf.co/<owner>/<repo>/<file>.gguf` (and huggingface.co/…) means that file on the
 * main branch; a Hugging Face `blob/` link (the page showing a file) becomes its `resolve/` link (the file).
 */
export function resolveUrl(input: string): { url: URL; rewritten?: string } {
  const shorthand = /^(?:hf\.co|huggingface\.co)\/([^/\s]+)\/([^/\s]+)\/([^/\s]+\.gguf)$/i.exec(input);
  if (shorthand) {
    const [, owner, repo, file] = shorthand as unknown as [string, string, string, string];
    const url = new URL(`https://huggingface.co/${owner}/${repo}/resolve/main/${file}`);
    return { url, rewritten: `${input} is ${url.href}` };
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(input)} (expected https://… or hf.co/<owner>/<repo>/<file>.gguf)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`only http and https URLs can be pulled, not ${url.protocol}`);
  const blob = /^\/([^/]+)\/([^/]+)\/blob\/(.+)$/.exec(url.pathname);
  if (HF_HOSTS.has(url.hostname) && blob) {
    const page = url.href;
    url.pathname = `/${blob[1]}/${blob[2]}/resolve/${blob[3]}`;
    return { url, rewritten: `${page} is the file's page; downloading ${url.href}` };
  }
  return { url };
}

/** The model name: `--name`, else the URL's last path segment, without `.gguf`. */
export function modelName(url: URL, nameFlag: string | undefined): string {
  let raw = nameFlag;
  if (raw === undefined) {
    const last = url.pathname.split('/').pop() ?? '';
    try {
      raw = decodeURIComponent(last);
    } catch {
      raw = last;
    }
  }
  const name = raw.replace(/\.gguf$/i, '');
  if (!NAME.test(name)) {
    const from = nameFlag === undefined ? `the URL's last path segment (${JSON.stringify(raw)})` : `--name ${JSON.stringify(raw)}`;
    throw new UsageError(`${from} is not a usable model name: give one with --name (letters, digits, . _ -; e.g. --name my-model)`);
  }
  return name;
}

/**
 * Headers sent with the download. HF_TOKEN goes only to Hugging Face hosts (a token must not leak to
 * another server); an explicit --header goes to the URL given. Redirects to another host drop
 * Authorization (the fetch standard), which is what Hugging Face's signed CDN links expect.
 */
export function requestHeaders(url: URL, headerFlags: string[], env: Record<string, string | undefined>): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'jarvis-pull' };
  if (env.HF_TOKEN && HF_HOSTS.has(url.hostname)) headers.authorization = `Bearer ${env.HF_TOKEN}`;
  for (const flag of headerFlags) {
    const colon = flag.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header: expected "Name: value", got ${JSON.stringify(flag)}`);
    headers[flag.slice(0, colon).trim().toLowerCase()] = flag.slice(colon + 1).trim();
  }
  return headers;
}

export function pullTarget(input: string, opts: { name?: string; dir?: string; headers: string[]; env: Record<string, string | undefined> }): PullTarget {
  const { url, rewritten } = resolveUrl(input);
  const name = modelName(url, opts.name);
  const dir = resolve(opts.dir ?? modelsDirOf(opts.env));
  const file = join(dir, `${name}.gguf`);
  return { url: url.href, name, dir, file, partial: `${file}.partial`, headers: requestHeaders(url, opts.headers, opts.env), rewritten };
}
