// Stored responses of the OpenAI Responses API (docs/responses.md "Stored responses"):
// what `store: true` keeps, scoped to the caller's key, shared by every instance
// that uses the same database.

/** OpenAI's response statuses; `queued`/`in_progress` while its stream runs (background mode). */
export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'incomplete' | 'failed' | 'cancelled';

export const LIVE_STATUSES: ReadonlySet<ResponseStatus> = new Set(['queued', 'in_progress']);

/** A Responses API item (input or output) as JSON: its shape is the protocol's, not the store's. */
export type ResponseItem = Record<string, unknown>;

export interface StoredResponse {
  id: string;
  /** The API key's name that made it ('' without keys). */
  owner: string;
  status: ResponseStatus;
  background: boolean;
  /** The stream that answers it (its event log: docs/conversations.md), its session and fence. */
  streamId: string;
  sessionId: string;
  fence: bigint;
  /** Cluster mode: the instance that streams it. */
  instance: string | null;
  previousResponseId: string | null;
  /** The Response object's fixed fields as created (model, instructions, tools, text, …: what the encoder echoes). */
  request: Record<string, unknown>;
  /** The input items the model was given (the previous response's input and output first, when chained), without instructions. */
  input: ResponseItem[];
  /** The final Response object; null while it runs. */
  response: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
  /** Unix ms: gone after this (JARVIS_RESPONSES_TTL_MS). */
  expiresAt: number;
}

export type NewStoredResponse = Omit<StoredResponse, 'response' | 'updatedAt'>;

export interface ResponseEnd {
  status: Exclude<ResponseStatus, 'queued' | 'in_progress'>;
  response: Record<string, unknown>;
}

export interface InputItemsQuery {
  order: 'asc' | 'desc';
  /** An item id: the page starts after it. */
  after?: string;
  limit: number;
}

export interface InputItemsPage {
  items: ResponseItem[];
  hasMore: boolean;
}

export interface ResponseStore {
  create(row: NewStoredResponse): Promise<void>;
  /** The owner's response, unless it expired. */
  get(owner: string, id: string): Promise<StoredResponse | undefined>;
  /** `queued` → `in_progress`, once its stream has started; false when it already moved on. */
  markInProgress(id: string, fence: bigint): Promise<boolean>;
  /** Stores how it ended, once: false when it had already ended (or is gone, or fenced by a newer writer). */
  finish(id: string, fence: bigint, end: ResponseEnd): Promise<boolean>;
  delete(owner: string, id: string): Promise<boolean>;
  inputItems(owner: string, id: string, query: InputItemsQuery): Promise<InputItemsPage | undefined>;
  /** Every response of `owner`, expired ones not yet purged included, oldest first (a person's export: docs/team.md). */
  ofOwner(owner: string): Promise<StoredResponse[]>;
  /** Deletes every response of `owner`, expired or not; returns how many. */
  deleteOfOwner(owner: string): Promise<number>;
  /** Deletes up to `limit` expired responses; returns how many. */
  purgeExpired(now: number, limit: number): Promise<number>;
}
