// The wire shapes of a person's data (docs/team.md "7. A person's data: export and delete"):
// what `jarvis users export` and `GET /v1/admin/users/{name}/export` give, and what a delete
// reports. Protocol-neutral, free of Node- or DOM-only imports.

import type { ApiKeyJson, UsageRowJson } from './admin.js';
import type { ConversationTreeJson } from '../conversations.js';

/** The export's format; a change that breaks a reader raises it. */
export const PERSON_EXPORT_VERSION = 1;

/** A stored response of the Responses API (docs/responses.md "Stored responses"), as kept. */
export interface StoredResponseJson {
  id: string;
  status: string;
  background: boolean;
  previous_response_id: string | null;
  /** ISO 8601 times. */
  created_at: string;
  updated_at: string;
  expires_at: string;
  /** The Response object's fields as created (model, instructions, tools…). */
  request: Record<string, unknown>;
  /** The input items the model was given. */
  input: Record<string, unknown>[];
  /** The final Response object; null while it ran. */
  response: Record<string, unknown> | null;
}

/** Everything Jarvis stores of one person (one owner), in one document. */
export interface PersonExportJson {
  object: 'person_export';
  version: typeof PERSON_EXPORT_VERSION;
  /** The owner: a user name the sign-in proxy sends, an env key's name, a stored key's owner. */
  name: string;
  exported_at: string;
  /** Each conversation with every message of every branch, files included: `GET /v1/conversations/{id}/tree`'s shape, which `POST /v1/conversations` imports. */
  conversations: ConversationTreeJson[];
  responses: StoredResponseJson[];
  /** Their stored keys (revoked ones too), never the keys themselves. */
  keys: ApiKeyJson[];
  /** Their usage record, per day, key and model. */
  usage: UsageRowJson[];
  /** How many of each part: what `deleted` would remove. */
  counts: PersonCounts;
}

/** Rows per part of a person's data (`conversations`, `messages`, `responses`, …). */
export type PersonCounts = Record<string, number>;

/** `DELETE /v1/admin/users/{name}`'s answer, and `jarvis users delete`'s report. */
export interface PersonDeletedJson {
  object: 'person_deleted';
  name: string;
  /** Answers of theirs that were streaming and were stopped first. */
  streams_stopped: number;
  deleted: PersonCounts;
}
