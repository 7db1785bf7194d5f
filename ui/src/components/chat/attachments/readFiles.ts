// Files picked, pasted or dropped into the composer, read as the data: URLs the server takes
// (docs/conversations.md "Attachments"). The limits here are the server's defaults, checked
// first so that a file too large is refused at once, before it is read or sent; the server
// checks again with its own settings and has the last word.

import type { AttachmentInputJson } from '../../../../../src/shared/conversations.js';

export const MAX_FILES = 10;
/** JARVIS_ATTACHMENT_MAX_BYTES's default: a text file or a PDF. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** JARVIS_IMAGE_MAX_BYTES's default. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** JARVIS_ATTACHMENTS_MAX_TOTAL_BYTES's default. */
export const MAX_TOTAL_BYTES = 32 * 1024 * 1024;
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** A file ready to send, with what the composer shows of it. */
export interface PendingFile {
  key: string;
  input: AttachmentInputJson;
  size: number;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsDataURL(file);
  });
}

/** A pasted image has no name of its own ("image.png" in every browser): one that tells them apart. */
function nameOf(file: File, index: number): string {
  if (file.name && file.name !== 'image.png') return file.name;
  const ext = file.type.split('/')[1]?.replace('jpeg', 'jpg') ?? 'png';
  return `pasted-image-${index + 1}.${ext}`;
}

/**
 * Reads `files` after the `held` ones already attached: the ones that fit, and the first
 * limit broken, in words (null when all fit).
 */
export async function readFiles(files: File[], held: PendingFile[]): Promise<{ added: PendingFile[]; problem: string | null }> {
  const added: PendingFile[] = [];
  let problem: string | null = null;
  let total = held.reduce((n, f) => n + f.size, 0);
  for (const [i, file] of files.entries()) {
    const name = nameOf(file, held.length + i);
    const image = file.type.startsWith('image/');
    if (held.length + added.length >= MAX_FILES) {
      problem = `A message takes at most ${MAX_FILES} files.`;
      break;
    }
    if (image && !IMAGE_TYPES.includes(file.type)) {
      problem = `${name} is not a PNG, JPEG, GIF or WebP image.`;
      continue;
    }
    const max = image ? MAX_IMAGE_BYTES : MAX_FILE_BYTES;
    if (file.size > max) {
      problem = `${name} is ${formatSize(file.size)}; files of up to ${formatSize(max)} can be attached.`;
      continue;
    }
    if (total + file.size > MAX_TOTAL_BYTES) {
      problem = `The files of one message can take up to ${formatSize(MAX_TOTAL_BYTES)} together.`;
      continue;
    }
    try {
      const dataUrl = await readAsDataUrl(file);
      total += file.size;
      added.push({ key: `${Date.now()}-${held.length + i}-${name}`, size: file.size, input: { type: image ? 'image' : 'file', name, data_url: dataUrl } });
    } catch {
      problem = `${name} could not be read.`;
    }
  }
  return { added, problem };
}
