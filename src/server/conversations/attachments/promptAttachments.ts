import type { Config } from '../../../config.js';
import type { AttachmentInputJson } from '../../../shared/conversations.js';
import type { ConversationWithMessages, StoredAttachment } from '../../../store/types.js';
import { readAttachments } from './readAttachments.js';
import { checkVision, type VisionContext } from './vision.js';

export { attachmentBytes, attachmentsSchema } from './readAttachments.js';

/** What a prompt's route reads: the bounds, and the model's server for its capabilities. */
export type AttachmentContext = VisionContext & { config: Pick<Config, 'attachments' | 'images' | 'bodyLimitBytes' | 'modelAliases'> };

/**
 * The one call of the prompt routes (POST and PUT …/messages): the body's files read and
 * checked, and its images refused for a model without vision, all before anything is
 * stored. `editedId`: an edit, whose old version's files are kept when the body has none
 * (undefined is returned then, as the store's Turn wants), and checked against the model too.
 */
export async function promptAttachments(
  ctx: AttachmentContext,
  conversation: ConversationWithMessages,
  body: { attachments?: AttachmentInputJson[]; model?: string },
  editedId?: string,
): Promise<StoredAttachment[] | undefined> {
  const attachments = await readAttachments(ctx.config, body.attachments);
  const sent = attachments ?? (editedId === undefined ? undefined : conversation.messages.find((m) => m.id === editedId)?.attachments);
  // The model sees the branch's earlier images too (the history is sent whole).
  await checkVision(ctx, body.model ?? conversation.model, [...filesBefore(conversation, editedId), ...(sent ?? [])]);
  return attachments;
}

/** Regenerate: the images of the branch up to the answer made again (`answerId`; default: all of it) against the model asked for. */
export async function checkRegenerateVision(ctx: VisionContext, conversation: ConversationWithMessages, model: string | undefined, answerId?: string): Promise<void> {
  await checkVision(ctx, model ?? conversation.model, filesBefore(conversation, answerId));
}

/** The files of the current branch before `messageId` (all of them when it is absent or not on the branch). */
function filesBefore(conversation: ConversationWithMessages, messageId: string | undefined): StoredAttachment[] {
  const branch = conversation.messages;
  const at = messageId === undefined ? -1 : branch.findIndex((m) => m.id === messageId);
  return (at < 0 ? branch : branch.slice(0, at)).flatMap((m) => m.attachments ?? []);
}

/**
 * The body limit of the prompt routes: the usual one (JARVIS_BODY_LIMIT_BYTES) plus a
 * message's files as base64 (a third larger) and a little JSON around each. Only these
 * two routes take it; every other keeps the usual limit.
 */
export function promptBodyLimit(config: Pick<Config, 'attachments' | 'bodyLimitBytes'>): number {
  const { maxTotalBytes, maxFiles } = config.attachments;
  return config.bodyLimitBytes + Math.ceil((maxTotalBytes * 4) / 3) + maxFiles * 2048;
}
