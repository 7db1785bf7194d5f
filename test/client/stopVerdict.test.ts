import { describe, expect, it } from 'vitest';
import { stopVerdictText } from '../../src/client/chat/stopVerdict.js';
import { engineVerdictOf } from '../../src/shared/stop.js';

// The words beside a stopped answer (docs/ui.md "Stop"), and the client's reading of the stop answer.

describe('the Stop verdict in words', () => {
  it('confirmed: how long the model took, and what that rests on', () => {
    expect(stopVerdictText({ verdict: 'confirmed', ms: 12, how: 'connection_closed' })).toEqual({
      text: 'the model stopped in 12 ms',
      title: 'The model server closed its connection after Jarvis asked it to stop: it has stopped generating.',
    });
    expect(stopVerdictText({ verdict: 'confirmed', ms: 1530, how: 'slot_idle', slot: 2 }).text).toBe('the model stopped in 1.5 s');
    expect(stopVerdictText({ verdict: 'confirmed', ms: 1530, how: 'slot_idle', slot: 2 }).title).toContain('(slot 2)');
    expect(stopVerdictText({ verdict: 'confirmed', ms: 0, how: 'not_started' }).text).toBe('the model had not started');
  });

  it('unconfirmed: says Jarvis could not confirm it, and why', () => {
    const grace = stopVerdictText({ verdict: 'unconfirmed', ms: 2001, how: 'grace_expired' });
    expect(grace.text).toBe('Jarvis could not confirm the model stopped');
    expect(grace.title).toMatch(/JARVIS_CANCEL_TIMEOUT_MS.*Waited 2\.0 s\.$/);
    expect(stopVerdictText({ verdict: 'unconfirmed', ms: 3, how: 'something_new' }).title).toBe('Verdict: something_new. Waited 3 ms.');
  });

  it('reads only a well-formed engine verdict from the stop answer', () => {
    expect(engineVerdictOf({ verdict: 'confirmed', ms: 5, how: 'sequence_free', slot: 1 })).toEqual({ verdict: 'confirmed', ms: 5, how: 'sequence_free', slot: 1 });
    expect(engineVerdictOf({ verdict: 'maybe', ms: 5, how: 'x' })).toBeUndefined();
    expect(engineVerdictOf({ verdict: 'confirmed', how: 'x' })).toBeUndefined();
    expect(engineVerdictOf(undefined)).toBeUndefined();
    expect(engineVerdictOf('confirmed')).toBeUndefined();
  });
});
