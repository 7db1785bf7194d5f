// Before conversations lived on the server, the UI kept each one in localStorage
// under `jarvis.conversation.<id>`. On start, each one found is sent to the server
// (POST /v1/conversations with its messages), then its key is replaced by a marker
// `jarvis.imported.<id>` = the new id, so that a second load (or a second tab at the
// same moment, held off by a Web Lock where the browser has them) imports nothing twice.

import type { Api } from '../../../../src/client/api.js';
import type { AnswerStateJson, ConversationImportJson } from '../../../../src/shared/conversations.js';
import { createConversation } from '../../../../src/client/conversationsApi.js';
import { safeGet, safeSet } from '../browser/storage.js';

export const LEGACY_PREFIX = 'jarvis.conversation.';
export const IMPORTED_PREFIX = 'jarvis.imported.';
const SELECTED_KEY = 'jarvis.selectedConversation';

interface LegacyMessage {
  id?: unknown;
  role?: unknown;
  content?: unknown;
  reasoning?: unknown;
  state?: unknown;
  model?: unknown;
  createdAt?: unknown;
}

interface LegacyConversation {
  id?: unknown;
  title?: unknown;
  renamed?: unknown;
  createdAt?: unknown;
  updatedAt?: unknown;
  messages?: unknown;
}

export interface ImportResult {
  imported: number;
  failed: number;
  /** Old id → new id, for the selection. */
  ids: Map<string, string>;
}

/** Imports every old conversation still in `storage`; never throws (a failed one stays for the next load). */
export async function importLegacyConversations(api: Api, storage: Storage | undefined, tabStorage?: Storage): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, failed: 0, ids: new Map() };
  if (!storage || legacyKeys(storage).length === 0) return result;
  const run = async () => {
    for (const key of legacyKeys(storage)) {
      const oldId = key.slice(LEGACY_PREFIX.length);
      const done = safeGet(storage, IMPORTED_PREFIX + oldId);
      if (done) {
        // Imported by an earlier load that could not remove the old copy.
        safeSet(storage, key, null);
        result.ids.set(oldId, done);
        continue;
      }
      const body = toImport(safeGet(storage, key));
      if (!body) {
        console.warn(`[import] ${key} is not a conversation; left as it is`);
        continue;
      }
      try {
        const created = await createConversation(api, body);
        // The marker first: if removing the old copy fails, the next load still knows.
        safeSet(storage, IMPORTED_PREFIX + oldId, created.id);
        safeSet(storage, key, null);
        result.ids.set(oldId, created.id);
        result.imported++;
      } catch (err) {
        result.failed++;
        console.warn(`[import] Could not import ${key}; will try again on the next load`, err);
      }
    }
  };
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks) await locks.request('jarvis.legacy-import', run);
  else await run();
  for (const s of [storage, tabStorage]) {
    const selected = safeGet(s, SELECTED_KEY);
    const moved = selected ? result.ids.get(selected) : undefined;
    if (moved) safeSet(s, SELECTED_KEY, moved);
  }
  if (result.imported > 0) console.log(`[import] Moved ${result.imported} conversation(s) from this browser to the server`);
  return result;
}

function legacyKeys(storage: Storage): string[] {
  const keys: string[] = [];
  try {
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (key?.startsWith(LEGACY_PREFIX)) keys.push(key);
    }
  } catch {
    // storage blocked: nothing to import
  }
  return keys;
}

/** The old format as an import body; undefined when it is not one. */
export function toImport(raw: string | null): ConversationImportJson | undefined {
  if (!raw) return undefined;
  let c: LegacyConversation;
  try {
    c = JSON.parse(raw) as LegacyConversation;
  } catch {
    return undefined;
  }
  if (typeof c !== 'object' || c === null || typeof c.id !== 'string' || !Array.isArray(c.messages)) return undefined;
  const messages: ConversationImportJson['messages'] = [];
  for (const m of c.messages as LegacyMessage[]) {
    if (typeof m !== 'object' || m === null || typeof m.content !== 'string') continue;
    if (m.role === 'user') {
      messages.push({ role: 'user', content: m.content, ...time(m.createdAt) });
    } else if (m.role === 'assistant') {
      messages.push({
        role: 'assistant',
        content: m.content,
        state: legacyState(m.state),
        ...(typeof m.reasoning === 'string' && m.reasoning ? { reasoning: m.reasoning } : {}),
        ...(typeof m.model === 'string' && m.model ? { model: m.model } : {}),
        ...time(m.createdAt),
      });
    }
  }
  const title = typeof c.title === 'string' && c.title !== 'New chat' ? c.title.slice(0, 500) : undefined;
  const created = time(c.createdAt).created_at;
  const updated = time(c.updatedAt).created_at;
  return { ...(title ? { title } : {}), ...(created ? { created_at: created } : {}), ...(updated ? { updated_at: updated } : {}), messages };
}

/** An answer left live by a closed tab can never finish: it comes in as stopped. */
function legacyState(state: unknown): AnswerStateJson {
  return state === 'done' || state === 'superseded' || state === 'error' ? state : 'stopped';
}

function time(ms: unknown): { created_at?: string } {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? { created_at: new Date(ms).toISOString() } : {};
}
