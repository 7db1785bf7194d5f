// Export and import of conversations: one as Markdown (to read or paste elsewhere) or
// JSON, all as JSON; and that JSON brought back in (into this or another Jarvis).
// The JSON is the server's own shape of a conversation and its messages, in an
// envelope that says what it is, so an import can refuse what it cannot read.
// Version 2 holds each conversation's whole tree (every version of every message, each
// naming its parent, and the current branch: docs/conversations.md "Branches"); version 1
// files (a plain list of messages) still import.

import type { AttachmentJson } from '../../../../src/shared/conversations.js';
import { currentBranch, isTree, parentsFirst, treeProblem } from './tree.js';

export const EXPORT_FORMAT = 'jarvis.conversations';
export const EXPORT_VERSION = 2;
/** What one import may bring: more is refused up front instead of half-imported. */
export const IMPORT_MAX_CONVERSATIONS = 1000;

export interface ExportedMessage {
  /** A tree's: the message's id and the one it follows (null: the first). */
  id?: string;
  parent_id?: string | null;
  role: 'user' | 'assistant';
  content: string;
  created_at?: string;
  state?: string;
  reasoning?: string | null;
  model?: string | null;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  timings?: { ttft_ms?: number; duration_ms: number } | null;
  /** A user message's files, as the server stores them (images with their bytes, files with their text). */
  attachments?: AttachmentJson[];
}

export interface ExportedConversation {
  id?: string;
  title: string;
  system?: string | null;
  model?: string | null;
  temperature?: number | null;
  max_tokens?: number | null;
  created_at?: string;
  updated_at?: string;
  /** Every message of every branch (a tree), or a version 1 file's plain list. */
  messages: ExportedMessage[];
  /** A tree's current branch: the id of its last message. */
  current_message_id?: string | null;
}

export interface ExportFile {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exported_at: string;
  conversations: ExportedConversation[];
}

/** The file for one or many conversations, as the server gave them (`GET …/tree`; extra fields are left out). */
export function toExportFile(conversations: ExportedConversation[], now = new Date()): ExportFile {
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exported_at: now.toISOString(),
    conversations: conversations.map((c) => ({
      id: c.id,
      title: c.title,
      system: c.system ?? null,
      model: c.model ?? null,
      temperature: c.temperature ?? null,
      max_tokens: c.max_tokens ?? null,
      created_at: c.created_at,
      updated_at: c.updated_at,
      ...(isTree(c.messages) ? { current_message_id: c.current_message_id ?? c.messages.at(-1)?.id ?? null } : {}),
      messages: (parentsFirst(c.messages) ?? c.messages).map((m) => ({
        ...(m.id ? { id: m.id, parent_id: m.parent_id ?? null } : {}),
        role: m.role,
        content: m.content,
        created_at: m.created_at,
        ...(m.role === 'assistant'
          ? { state: m.state, reasoning: m.reasoning ?? null, model: m.model ?? null, usage: m.usage ?? null, timings: m.timings ?? null }
          : m.attachments?.length
            ? { attachments: m.attachments }
            : {}),
      })),
    })),
  };
}

/** A conversation as Markdown: the title, its settings, then each message of its current branch under who said it. */
export function toMarkdown(c: ExportedConversation): string {
  const lines = [`# ${oneLine(c.title)}`, ''];
  const facts = [
    c.model ? `Model: ${c.model}` : undefined,
    c.temperature != null ? `Temperature: ${c.temperature}` : undefined,
    c.max_tokens != null ? `Max tokens: ${c.max_tokens}` : undefined,
    c.created_at ? `Started: ${c.created_at}` : undefined,
  ].filter((f): f is string => !!f);
  if (facts.length) lines.push(...facts.map((f) => `- ${f}`), '');
  if (c.system) lines.push('## System prompt', '', c.system.trim(), '');
  for (const m of currentBranch(c.messages, c.current_message_id)) {
    if (m.role === 'user') {
      lines.push('## You', '', m.content.trim(), '');
      // Files by name only: an image's bytes or a file's whole text do not belong in a page to read.
      if (m.attachments?.length) lines.push(...m.attachments.map((a) => `- Attached: ${a.name}`), '');
    } else {
      const note = [m.model, m.state && m.state !== 'done' ? m.state : undefined].filter(Boolean).join(', ');
      lines.push(`## Jarvis${note ? ` (${note})` : ''}`, '');
      if (m.reasoning) lines.push('<details><summary>Thinking</summary>', '', m.reasoning.trim(), '', '</details>', '');
      lines.push(m.content.trim() || '_(no text)_', '');
    }
  }
  return lines.join('\n');
}

export class ImportError extends Error {
  override name = 'ImportError';
}

/** Reads an export file (ours, or a bare conversation / list of them), or says in words why it cannot. */
export function parseImport(text: string): ExportedConversation[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ImportError('This file is not JSON. Import takes the JSON that "Export" writes.');
  }
  const list = isRecord(value) && Array.isArray(value.conversations) ? value.conversations : Array.isArray(value) ? value : [value];
  if (isRecord(value) && value.format !== undefined && value.format !== EXPORT_FORMAT) throw new ImportError(`Unknown format "${String(value.format)}".`);
  if (isRecord(value) && typeof value.version === 'number' && value.version > EXPORT_VERSION) {
    throw new ImportError(`This file was written by a newer Jarvis (format version ${value.version}).`);
  }
  if (list.length === 0) throw new ImportError('The file has no conversations.');
  if (list.length > IMPORT_MAX_CONVERSATIONS) throw new ImportError(`The file has ${list.length} conversations; at most ${IMPORT_MAX_CONVERSATIONS} at a time.`);
  return list.map((c, i) => {
    if (!isRecord(c) || !Array.isArray(c.messages)) throw new ImportError(`Conversation ${i + 1} has no messages list.`);
    // A tree when its messages have ids (version 2); else a plain list, first to last.
    const tree = c.messages.some((m) => isRecord(m) && m.id !== undefined);
    const messages = c.messages.map((m, k): ExportedMessage => {
      if (!isRecord(m) || (m.role !== 'user' && m.role !== 'assistant') || typeof m.content !== 'string') {
        throw new ImportError(`Conversation ${i + 1}, message ${k + 1}: needs a role (user or assistant) and a text content.`);
      }
      return {
        ...(tree ? { id: typeof m.id === 'string' ? m.id : '', parent_id: typeof m.parent_id === 'string' ? m.parent_id : null } : {}),
        role: m.role,
        content: m.content,
        ...(typeof m.created_at === 'string' ? { created_at: m.created_at } : {}),
        ...(typeof m.state === 'string' ? { state: m.state } : {}),
        ...(typeof m.reasoning === 'string' ? { reasoning: m.reasoning } : {}),
        ...(typeof m.model === 'string' ? { model: m.model } : {}),
        ...(m.role === 'user' && Array.isArray(m.attachments) ? { attachments: m.attachments.filter(isAttachment) } : {}),
      };
    });
    const current = tree && typeof c.current_message_id === 'string' ? c.current_message_id : undefined;
    const problem = tree ? treeProblem(messages, current, `Conversation ${i + 1}`) : null;
    if (problem) throw new ImportError(problem);
    return {
      title: typeof c.title === 'string' && c.title.trim() ? c.title : 'Imported chat',
      system: typeof c.system === 'string' ? c.system : null,
      model: typeof c.model === 'string' ? c.model : null,
      temperature: typeof c.temperature === 'number' ? c.temperature : null,
      max_tokens: typeof c.max_tokens === 'number' ? c.max_tokens : null,
      ...(typeof c.created_at === 'string' ? { created_at: c.created_at } : {}),
      ...(typeof c.updated_at === 'string' ? { updated_at: c.updated_at } : {}),
      ...(current !== undefined ? { current_message_id: current } : {}),
      messages,
    };
  });
}

/** A file name from a title: what file systems take, never empty. */
export function fileNameFor(title: string, extension: string): string {
  const base = title.normalize('NFKD').replace(/[^\w\- ]+/g, '').trim().replace(/\s+/g, '-').slice(0, 60) || 'conversation';
  return `${base}.${extension}`;
}

/** Saves `text` as a file through the browser's download (a blob URL: nothing leaves the page). */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const STATES = new Set(['done', 'stopped', 'superseded', 'error', 'shutdown', 'interrupted']);

/** The body of `POST /v1/conversations` that brings one back (only the fields the server takes). */
export function importBody(c: ExportedConversation): Record<string, unknown> {
  return {
    title: c.title.slice(0, 200),
    ...(c.system ? { system: c.system } : {}),
    ...(c.model ? { model: c.model } : {}),
    ...(c.temperature != null ? { temperature: c.temperature } : {}),
    ...(c.max_tokens != null ? { max_tokens: c.max_tokens } : {}),
    ...(c.created_at && isIso(c.created_at) ? { created_at: c.created_at } : {}),
    ...(c.updated_at && isIso(c.updated_at) ? { updated_at: c.updated_at } : {}),
    ...(isTree(c.messages) && c.current_message_id ? { current_message_id: c.current_message_id } : {}),
    messages: (isTree(c.messages) ? (parentsFirst(c.messages) ?? c.messages) : c.messages).map((m) => ({
      ...(m.id ? { id: m.id, parent_id: m.parent_id ?? null } : {}),
      role: m.role,
      content: m.content,
      ...(m.created_at && isIso(m.created_at) ? { created_at: m.created_at } : {}),
      // Anything that was live when exported is not live any more.
      ...(m.role === 'assistant' ? { state: m.state && STATES.has(m.state) ? m.state : 'stopped' } : {}),
      ...(m.role === 'assistant' && m.reasoning ? { reasoning: m.reasoning } : {}),
      ...(m.role === 'assistant' && m.model ? { model: m.model } : {}),
      ...(m.role === 'user' && m.attachments?.length ? { attachments: m.attachments } : {}),
    })),
  };
}

/** A stored attachment as the server takes it back: an image with its data: URL, or a file with its text. */
function isAttachment(v: unknown): v is AttachmentJson {
  if (!isRecord(v) || typeof v.name !== 'string') return false;
  if (v.type === 'image') return typeof v.data_url === 'string' && v.data_url.startsWith('data:image/');
  return v.type === 'file' && typeof v.text === 'string';
}

function isIso(s: string): boolean {
  return Number.isFinite(Date.parse(s));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
