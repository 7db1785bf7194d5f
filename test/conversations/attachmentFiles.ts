import { readFileSync } from 'node:fs';

// The files the attachment tests send (docs/conversations.md "Attachments"), as a browser's
// FileReader makes them: data: URLs.

/** A 1×1 PNG. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
export const PNG_URL = `data:image/png;base64,${PNG_BASE64}`;

export const dataUrl = (mime: string, bytes: Buffer | string) => `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;

export const image = (name = 'dot.png', url = PNG_URL) => ({ type: 'image', name, data_url: url });
export const textFile = (name: string, text: string, mime = 'text/markdown') => ({ type: 'file', name, data_url: dataUrl(mime, text) });
export const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
export const pdfFile = (name = 'plan.pdf', file = 'plan.pdf') => ({ type: 'file', name, data_url: dataUrl('application/pdf', fixture(file)) });

/** A PNG of about `bytes` (its signature, then padding: Jarvis checks the type from the first bytes). */
export function bigPng(bytes: number): string {
  const body = Buffer.alloc(bytes, 7);
  Buffer.from(PNG_BASE64, 'base64').copy(body);
  return dataUrl('image/png', body);
}

/** The body of the last `/api/chat` the fake Ollama answered. */
export interface OllamaChat {
  model: string;
  messages: Array<{ role: string; content: string; images?: string[] }>;
}
