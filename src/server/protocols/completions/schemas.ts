// The body of `POST /v1/completions`, OpenAI's legacy text completions, as editor
// plugins (Continue, Tabby, llama.vscode) and the openai package send it. The JSON
// schema checks shapes; request.ts refuses what cannot be served, in words.
// Fields not listed are ignored; every optional parameter may be `null`.

export interface CompletionsBody {
  model?: string | null;
  /** A string, or an array of one string (token-id arrays and several prompts are refused in request.ts). */
  prompt: string | unknown[];
  /** The text after the insertion point: fill-in-the-middle. */
  suffix?: string | null;
  /** Write the prompt before the completion. */
  echo?: boolean | null;
  stop?: string | string[] | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  n?: number | null;
  best_of?: number | null;
  /** The legacy API's logprobs: how many alternatives per token (not served). */
  logprobs?: number | null;
  /** Ollama's model options (num_ctx, top_k…), passed to an Ollama upstream as on the chat routes. */
  options?: Record<string, unknown> | null;
  keep_alive?: string | number | null;
  user?: string | null;
}

const orNull = (type: string | string[]) => (Array.isArray(type) ? [...type, 'null'] : [type, 'null']);

export const completionsBodySchema = {
  type: 'object',
  required: ['prompt'],
  properties: {
    model: { type: orNull('string'), maxLength: 256 },
    prompt: { type: ['string', 'array'], maxItems: 64 },
    suffix: { type: orNull('string') },
    echo: { type: orNull('boolean') },
    stop: { type: ['string', 'array', 'null'], maxItems: 16, items: { type: 'string' } },
    max_tokens: { type: orNull('integer'), minimum: 1 },
    temperature: { type: orNull('number'), minimum: 0, maximum: 2 },
    top_p: { type: orNull('number'), minimum: 0, maximum: 1 },
    seed: { type: orNull('integer') },
    frequency_penalty: { type: orNull('number'), minimum: -2, maximum: 2 },
    presence_penalty: { type: orNull('number'), minimum: -2, maximum: 2 },
    stream: { type: orNull('boolean') },
    stream_options: { type: orNull('object'), properties: { include_usage: { type: orNull('boolean') } } },
    n: { type: orNull('integer'), minimum: 1 },
    best_of: { type: orNull('integer'), minimum: 1 },
    logprobs: { type: orNull('integer'), minimum: 0 },
    options: { type: orNull('object') },
    keep_alive: { type: ['string', 'number', 'null'] },
    user: { type: orNull('string') },
  },
} as const;
