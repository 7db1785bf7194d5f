import type { JarvisContext } from '../context.js';
import { guardError } from '../errors.js';
import { storeCall } from '../storeErrors.js';

// JARVIS_STORAGE_QUOTA_BYTES (docs/security.md "Retained answers and storage"): what
// one key's conversations may take in the store. Checked before a write that adds
// text; an answer that crosses the quota while it streams is finished and stored
// whole (nothing is cut or lost), and the key's next write is refused.

export interface QuotaCheck {
  /** The bytes the request adds at most (quota.ts counts them the same way). */
  adds: number;
  /** The request starts an answer, which adds more as it streams: refused once the key is at its quota. */
  startsAnswer?: boolean;
}

/** Refuses the request with 403 storage_quota_exceeded when `owner` has no room for it. */
export async function checkStorageQuota(ctx: Pick<JarvisContext, 'config' | 'store'>, owner: string, check: QuotaCheck): Promise<void> {
  const quota = ctx.config.storageQuotaBytes;
  if (quota === 0 || (check.adds === 0 && !check.startsAnswer)) return;
  const used = await storeCall(ctx.store.storageUsed(owner));
  const over = (check.adds > 0 && used + check.adds > quota) || (check.startsAnswer === true && used >= quota);
  if (!over) return;
  throw guardError('storage_quota_exceeded', { used: size(used), quota: size(quota), ...(check.adds > 0 ? { adds: size(check.adds) } : {}) });
}

function size(bytes: number): string {
  const text = bytes >= 1 << 30 ? `${(bytes / (1 << 30)).toFixed(1)} GiB` : bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : '';
  return text ? `${text} (${bytes} bytes)` : `${bytes} bytes`;
}
