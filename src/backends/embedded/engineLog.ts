import type { SystemLog } from '../../log/systemLog.js';

/** The embedded engine's log lines (docs/operations.md): the system log, or nothing when built without one. */
export type EngineLog = Pick<SystemLog, 'info' | 'warn' | 'debug'>;

export const noEngineLog: EngineLog = {
  info() {},
  warn() {},
  debug() {},
};
