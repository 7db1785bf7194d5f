import type { ChatHistoryItem } from 'node-llama-cpp';
import { messageText, type BackendMessage } from '../types.js';

/**
 * The conversation as node-llama-cpp's chat history (docs/embedded.md "What
 * works"): system, user and assistant text in order, ending with the model's
 * reply to write. A last assistant message is continued, as Ollama does.
 * Images are left out (no vision models yet); a tool's result is read to the
 * model as a user message until tool calling comes through the template.
 */
export function chatHistory(messages: readonly BackendMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const message of messages) {
    const text = messageText(message);
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text });
        break;
      case 'user':
        history.push({ type: 'user', text });
        break;
      case 'assistant':
        history.push({ type: 'model', response: text === '' ? [] : [text] });
        break;
      case 'tool':
        history.push({ type: 'user', text: `Result of ${message.name ?? message.toolCallId ?? 'the tool'}: ${text}` });
        break;
    }
  }
  const last = history.at(-1);
  if (last?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}
