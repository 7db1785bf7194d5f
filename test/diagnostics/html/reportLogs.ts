import { join } from 'node:path';
import { SystemLog } from '../../../src/log/systemLog.js';
import { chat } from '../../helpers/chatClient.js';
import { startTestJarvis } from '../../helpers/jarvisServer.js';

// The logs the `jarvis diagnose --html` tests read: a real Jarvis run (a supersede whose old
// stream ignores the abort, then a calm prompt on another session), and before it a second
// instance's log written by the real SystemLog with a planted orphan (a stream_start that
// never gets its stream_end) whose session is hostile markup.

export const HOSTILE = '</script><script>alert(1)</script><!-- \u2028 $& done';
export const ORPHAN = 'planted-orphan';

export interface ReportLogs {
  jarvisLog: string;
  orphanLog: string;
  ids: { a: string; b: string; c: string };
}

const slow = (prompt: string, extra: object = {}) => ({ tokens: Array.from({ length: 500 }, (_, i) => `${prompt}#${i} `), tokenMs: 10, ...extra });

export async function writeReportLogs(dir: string): Promise<ReportLogs> {
  // The orphan first: the oldest stream of the two logs.
  const orphanLog = join(dir, 'i2.log');
  const log = new SystemLog({ file: orphanLog, instance: 'i2' });
  log.info('server_listening', { url: 'http://127.0.0.1:8001', backend: 'ollama' });
  log.info('stream_start', { trace: ORPHAN, session: HOSTILE, stream_id: ORPHAN, model: 'fake', backend: 'ollama' });
  log.info('stream_registry_pop_success', { trace: 'other' });
  await log.close();
  const j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '300' });
  try {
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow('A', { ignoreAbort: true }) : { tokens: [`${prompt}1 `, `${prompt}2`], tokenMs: 5 });
    const a = chat(j.url, { session: 'rapid', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'rapid', prompt: 'B' });
    await Promise.all([a.finished, b.finished]);
    const c = chat(j.url, { session: 'calm', prompt: 'C' });
    await c.finished;
    return { jarvisLog: j.logFile, orphanLog, ids: { a: await a.streamId, b: await b.streamId, c: await c.streamId } };
  } finally {
    await j.close();
  }
}
