import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { SystemLog } from '../../log/systemLog.js';
import type { ConversationStore } from '../../store/types.js';
import type { SessionCoordinator } from '../../streams/coordinator.js';
import { AuthSwitch } from './authSwitch.js';
import { KeyDirectory } from './keyDirectory.js';
import { redisKeySignals } from './keySignals.js';

/** How often an instance on a shared database looks for keys changed elsewhere: a revocation reaches it within this without Redis. */
export const KEYS_POLL_MS = 500;

export interface OpenedKeys {
  directory: KeyDirectory;
  auth: AuthSwitch;
  close(): void;
}

export interface KeysDeps {
  config: Config;
  log: SystemLog;
  store: ConversationStore;
  /** This instance's streams: a revoked key's end `revoked` here (every instance ends its own). */
  registry: Pick<SessionCoordinator, 'list'>;
  /** Cluster mode: the connection the key changes are announced on. */
  redis?: Redis | undefined;
  /** JARVIS_TRUSTED_USER_HEADER, when an authenticating proxy names the users: authentication is on. */
  trustedUserHeader?: string | undefined;
}

/** Reads the stored keys and keeps them current (docs/team.md "3. Keys"). */
export async function openKeys(deps: KeysDeps): Promise<OpenedKeys> {
  const { config, log, registry } = deps;
  const directory = new KeyDirectory(deps.store.keys, {
    log,
    // SQLite is held by this process alone (store/faults/sqliteOpen.ts): every change passes through it.
    poll: deps.store.kind !== 'sqlite',
    pollMs: KEYS_POLL_MS,
    onEnded: (key, why) => {
      let streams = 0;
      for (const stream of registry.list()) if (stream.keyId === key.id && stream.cancel('revoked')) streams++;
      log.info('key_ended', { key_id: key.id, key: key.name, why, streams });
    },
  });
  await directory.start();
  // A stream that started in the instant its key was revoked (past the guard, not yet registered) ends at the next look.
  const strays = setInterval(() => {
    for (const stream of registry.list()) if (stream.keyId.startsWith('key_') && directory.hasEnded(stream.keyId)) stream.cancel('revoked');
  }, KEYS_POLL_MS);
  strays.unref();
  const signals = deps.redis ? redisKeySignals(deps.redis, config.instanceId, (id) => void directory.refresh(id)) : undefined;
  if (signals) directory.announce = (id) => signals.publish(id);
  const auth = new AuthSwitch({ envKeys: config.apiKeys.length, storedKeys: () => directory.activeCount(), trustedUserHeader: deps.trustedUserHeader }, config);
  return {
    directory,
    auth,
    close() {
      clearInterval(strays);
      directory.close();
      signals?.close();
    },
  };
}
