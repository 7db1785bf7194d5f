import type { BackendRequest } from './types.js';

/** Characters per token of the estimate: the usual figure for English text and code with BPE tokenizers. */
const CHARS_PER_TOKEN = 4;
/** The role markers and separators a chat template adds per message. */
const PER_MESSAGE = 4;
/** An image, whatever its size: what a typical vision model's encoder spends on one. */
const PER_IMAGE = 1000;

/**
 * A prompt's tokens, ESTIMATED, on every backend: `POST /v1/messages/count_tokens`'s answer
 * (docs/anthropic.md "count_tokens"), and the prompt tokens of the usage record when the
 * model server reports none (docs/team.md "Usage and limits"). Ollama and OpenAI-compatible
 * servers offer no tokenizer route Jarvis can rely on, and the tokenizer of the model behind them is not Jarvis's to load;
 * Claude Code uses the count to decide when to compact a conversation, for which a
 * figure within some tens of percent serves. It counts the request as the backend
 * would receive it: the system prompt, every message's text, tool calls and results,
 * and the tool definitions.
 */
export function estimateInputTokens(request: BackendRequest): number {
  let chars = 0;
  let tokens = 0;
  for (const message of request.messages) {
    tokens += PER_MESSAGE;
    if (typeof message.content === 'string') chars += message.content.length;
    else {
      for (const part of message.content) {
        if (part.type === 'text') chars += part.text.length;
        else tokens += PER_IMAGE;
      }
    }
    for (const call of message.toolCalls ?? []) chars += call.name.length + call.arguments.length;
  }
  for (const tool of request.tools ?? []) chars += JSON.stringify(tool.function).length;
  return tokens + Math.ceil(chars / CHARS_PER_TOKEN);
}
