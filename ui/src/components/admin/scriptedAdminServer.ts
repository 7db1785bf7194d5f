// A scripted Jarvis for the admin and usage components' tests: the wire shapes of
// src/shared/team/admin.ts, kept in memory, and the calls the components made. The real
// server and browser are in e2e/admin/.

import type { Api } from '../../../../src/client/api.js';
import type { ApiKeyJson, ApiKeyPatchJson, CreatedApiKeyJson, MeJson, NewApiKeyJson, UsageJson, UsageRowJson } from '../../../../src/shared/team/admin.js';

export class ScriptedAdminServer {
  me: MeJson = { object: 'principal', name: 'root', admin: true, via: 'env_key', key_name: 'root', key_id: null, limits: null };
  keys: ApiKeyJson[] = [];
  usage: UsageRowJson[] = [];
  readonly calls: string[] = [];
  private next = 0;

  readonly api: Api = {
    base: 'http://jarvis.test',
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      this.calls.push(`${method} ${url.pathname}${url.search}`);
      if (method === 'GET' && url.pathname === '/v1/me') return Response.json(this.me);
      if (url.pathname.startsWith('/v1/admin/') && !this.me.admin) return error(403, 'forbidden', 'Only an admin key may do this.');
      if (method === 'GET' && url.pathname === '/v1/admin/keys') {
        const all = url.searchParams.get('include_revoked') === 'true';
        return Response.json({ object: 'list', data: [...this.keys].reverse().filter((k) => all || !k.revoked_at) });
      }
      if (method === 'POST' && url.pathname === '/v1/admin/keys') return this.create(JSON.parse(String(init?.body)) as NewApiKeyJson);
      const revoke = /^\/v1\/admin\/keys\/([^/]+)$/.exec(url.pathname);
      if (method === 'PATCH' && revoke) return this.update(decodeURIComponent(revoke[1]!), JSON.parse(String(init?.body)) as ApiKeyPatchJson);
      if (method === 'DELETE' && revoke) {
        const key = this.keys.find((k) => k.id === decodeURIComponent(revoke[1]!));
        if (!key) return error(404, 'not_found', 'No such key.');
        key.revoked_at = new Date().toISOString();
        return Response.json(key);
      }
      if (method === 'GET' && url.pathname === '/v1/usage') return Response.json(this.usageBetween(url.searchParams.get('from')!, url.searchParams.get('to')!));
      return error(404, 'not_found', `no route ${method} ${url.pathname}`);
    },
  };

  private create(body: NewApiKeyJson): Response {
    if (!body.name) return error(400, 'invalid_request', 'name is required');
    const n = ++this.next;
    const key: CreatedApiKeyJson = {
      object: 'api_key',
      id: `key_${n}`,
      name: body.name,
      owner: body.owner ?? body.name,
      role: body.role ?? 'user',
      prefix: `jk-secret${n}`,
      created_at: '2026-12-07T10:00:00.000Z',
      expires_at: body.expires_at ?? null,
      revoked_at: null,
      last_used_at: null,
      created_by: this.me.name,
      limits: body.limits ?? null,
      key: `jk-secret${n}${'x'.repeat(36)}`,
    };
    const { key: _secret, ...listed } = key;
    this.keys.push(listed);
    return Response.json(key, { status: 201 });
  }

  /** What the server checks of a PATCH that the page does not: the name's length (its words: src/server/admin/keyBody.ts). */
  private update(id: string, patch: ApiKeyPatchJson): Response {
    const key = this.keys.find((k) => k.id === id);
    if (!key) return error(404, 'not_found', `no key ${id}`);
    if (patch.name !== undefined && (patch.name.length === 0 || patch.name.length > 64)) {
      return error(400, 'invalid_request', '"name" must be 1-64 characters (what the key is for: "alice laptop", "ci")');
    }
    if (patch.name !== undefined) key.name = patch.name;
    if (patch.expires_at !== undefined) key.expires_at = patch.expires_at;
    if (patch.limits !== undefined) key.limits = patch.limits;
    return Response.json(key);
  }

  private usageBetween(from: string, to: string): UsageJson {
    const data = this.usage.filter((r) => r.day >= from && r.day <= to);
    const totals = { requests: 0, prompt_tokens: 0, completion_tokens: 0, stream_ms: 0 };
    for (const r of data) {
      totals.requests += r.requests;
      totals.prompt_tokens += r.prompt_tokens;
      totals.completion_tokens += r.completion_tokens;
      totals.stream_ms += r.stream_ms;
    }
    return { object: 'usage', from, to, data, totals };
  }
}

export function usageRow(day: string, keyName: string, model: string, prompt: number, completion: number): UsageRowJson {
  return { day, owner: keyName, key_id: `key_${keyName}`, key_name: keyName, model, requests: 1, prompt_tokens: prompt, completion_tokens: completion, stream_ms: 1500, sources: { reported: 1, counted: 0 } };
}

function error(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message, type: code } }, { status });
}

/** jsdom has <dialog> but not its modal methods. */
export function polyfillDialog(): void {
  const proto = HTMLDialogElement.prototype as HTMLDialogElement & { showModal(): void; close(): void };
  proto.showModal = function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  proto.close = function (this: HTMLDialogElement) {
    if (!this.hasAttribute('open')) return;
    this.removeAttribute('open');
    this.dispatchEvent(new Event('close'));
  };
}
