// How an answer's Stop verdict reads (docs/ui.md "Stop"): a short line beside "Stopped", and
// what it rests on for the tooltip. Framework-free, so the words are tested without a browser.

import type { EngineVerdict } from '../../shared/stop.js';

/** What each `how` rests on, in words (docs/operations.md "Stop at the engine"). */
const RESTS_ON: Record<string, string> = {
  connection_closed: 'The model server closed its connection after Jarvis asked it to stop: it has stopped generating.',
  sequence_free: "Jarvis's built-in engine finished its last evaluation and freed the sequence.",
  slot_idle: "The llama.cpp server reports the answer's slot as no longer processing.",
  generator_ended: "The demo backend's generator ended.",
  not_started: 'The model had not started on this answer yet.',
  grace_expired: 'The model server did not acknowledge the stop within the cancel grace (JARVIS_CANCEL_TIMEOUT_MS), so Jarvis cut the connection.',
  no_probe: 'This model server gives Jarvis no way to check that generation stopped.',
  still_closing: 'The backend was still releasing the model when Jarvis answered the stop.',
};

export interface StopVerdictText {
  /** Follows "Stopped · ". */
  text: string;
  /** What the verdict rests on, and the engine's own figures. */
  title: string;
}

export function stopVerdictText(verdict: EngineVerdict): StopVerdictText {
  const restsOn = RESTS_ON[verdict.how] ?? `Verdict: ${verdict.how}.`;
  const slot = verdict.slot === undefined ? '' : ` (slot ${verdict.slot})`;
  if (verdict.verdict === 'confirmed') {
    const text = verdict.how === 'not_started' ? 'the model had not started' : `the model stopped in ${formatMs(verdict.ms)}`;
    return { text, title: `${restsOn}${slot}` };
  }
  return { text: 'Jarvis could not confirm the model stopped', title: `${restsOn}${slot} Waited ${formatMs(verdict.ms)}.` };
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
