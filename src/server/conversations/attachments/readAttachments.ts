import type { Config } from '../../../config.js';
import type { AttachmentInputJson } from '../../../shared/conversations.js';
import type { StoredAttachment } from '../../../store/types.js';
import { sniffImageType } from '../../../backends/images/sniff.js';
import { mib } from '../../images/imageBounds.js';
import { httpError } from '../../errors.js';
import { dataUrlSize } from '../../../shared/dataUrl.js';
import { decodeDataUrl } from './dataUrl.js';
import { IMAGE_TYPES, isPdf } from './fileKinds.js';
import { textOf } from './fileText.js';
import { pdfText } from './pdfText.js';

// The files of a prompt, read before anything is stored (docs/conversations.md "Attachments"):
// an image is kept as it came (its type checked from its bytes) and goes to the model as an
// image part; a text file or a PDF is kept as its text, which the model gets after the prompt.
// Every bound is checked on the sizes first, before a byte is decoded.

/** Names go into the prompt (a fenced block's heading) and the UI: one line, bounded. */
const NAME_MAX = 255;

/** A `data_url` as long as this is a file far over any bound: the schema refuses it before the route reads it. */
export const attachmentsSchema = {
  type: 'array',
  // The count is checked by readAttachments, with the words of too_many_attachments; this only bounds the work.
  maxItems: 1000,
  items: {
    type: 'object',
    required: ['type', 'name', 'data_url'],
    additionalProperties: false,
    properties: {
      type: { enum: ['image', 'file'] },
      name: { type: 'string', minLength: 1, maxLength: 1000 },
      data_url: { type: 'string', minLength: 1 },
    },
  },
} as const;

type Limits = Pick<Config, 'attachments' | 'images'>;

/** The bytes a message's attachments add to its row, as the storage quota counts them (their JSON text). */
export function attachmentBytes(attachments: StoredAttachment[] | undefined): number {
  return attachments && attachments.length > 0 ? Buffer.byteLength(JSON.stringify(attachments), 'utf8') : 0;
}

/**
 * The attachments to store with the prompt: undefined when the body has none (an edit then
 * keeps the old version's), else each file read and checked. A 400/413 names the file and the bound.
 */
export async function readAttachments(config: Limits, inputs: AttachmentInputJson[] | undefined): Promise<StoredAttachment[] | undefined> {
  if (inputs === undefined) return undefined;
  checkBounds(config, inputs);
  const out: StoredAttachment[] = [];
  for (const input of inputs) {
    const name = cleanName(input.name);
    const { mime, bytes } = decodeDataUrl(name, input.data_url);
    if (input.type === 'image') {
      const type = sniffImageType(bytes.subarray(0, 16));
      if (!type || !IMAGE_TYPES.includes(type)) {
        throw httpError('invalid_attachment', { name, why: `it is not a PNG, JPEG, GIF or WebP image${type ? ` (it is ${type})` : ''}` });
      }
      // Its base64 as it came (decodeDataUrl checked it), under the type its bytes say: not encoded again.
      out.push({ type: 'image', name, mime: type, size: bytes.length, data_url: `data:${type};base64,${input.data_url.slice(input.data_url.indexOf(',') + 1)}` });
      continue;
    }
    const pdf = isPdf(name, mime, bytes);
    const { text, truncated } = pdf ? await pdfText(name, bytes, config.attachments.maxChars) : textOf(name, mime, bytes, config.attachments.maxChars);
    out.push({ type: 'file', name, mime: pdf ? 'application/pdf' : mime || 'text/plain', size: bytes.length, text, ...(truncated ? { truncated } : {}) });
  }
  return out;
}

/** Counts and sizes, from the data: URLs' lengths: nothing is decoded for a request that breaks one. */
function checkBounds(config: Limits, inputs: AttachmentInputJson[]): void {
  const { maxFiles, maxBytes, maxTotalBytes } = config.attachments;
  if (inputs.length > maxFiles) throw httpError('too_many_attachments', { count: inputs.length, max: maxFiles });
  const images = inputs.filter((a) => a.type === 'image').length;
  if (images > config.images.perRequest) throw httpError('too_many_images', { count: images, max: config.images.perRequest });
  let total = 0;
  let ordinal = 0;
  for (const input of inputs) {
    const size = dataUrlSize(input.data_url);
    total += size;
    if (input.type === 'image') {
      ordinal++;
      if (size > config.images.maxBytes) throw httpError('image_too_large', { ordinal, size: mib(size), max: mib(config.images.maxBytes) });
    } else if (size > maxBytes) {
      throw httpError('attachment_too_large', { name: cleanName(input.name), size: mib(size), max: mib(maxBytes) });
    }
    if (total > maxTotalBytes) throw httpError('attachment_too_large', { total: mib(maxTotalBytes) });
  }
}

/** One line of printable text: control characters (a newline would break the prompt's heading) become spaces. */
function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f`]+/g, ' ').trim().slice(0, NAME_MAX);
  return clean === '' ? 'file' : clean;
}
