// The `responses` table (docs/responses.md "Stored responses"). JSON values are
// text, as in the conversations' tables.

export interface ResponsesTable {
  id: string;
  owner: string;
  status: string;
  /** 0 or 1 (SQLite has no boolean). */
  background: number;
  stream_id: string;
  session_id: string;
  fence: number;
  instance: string | null;
  previous_response_id: string | null;
  /** JSON: the Response object's fixed fields. */
  request: string;
  /** JSON: the input items. */
  input: string;
  /** JSON: the final Response object, null while it runs. */
  response: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
}
