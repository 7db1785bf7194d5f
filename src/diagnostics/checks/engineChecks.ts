import { check, noLog, type DiagnoseInput, type Section, type Check } from '../report/report.js';

// "Stop at the engine" (docs/backends.md): after a Stop, did the model server
// really stop generating? Jarvis asks the engine where it can (llama.cpp's
// /slots) and logs an engine that kept going.

const FIX_RUNAWAY =
  'The engine went on generating for a client that had gone, holding its slot and compute. ' +
  'llama.cpp server: its non-streaming path did not check the connection (ggml-org/llama.cpp#24496), and a request without a token limit runs until the context is full: ' +
  'have every client stream (Jarvis always does), upgrade llama-server, and set a limit (`n_predict` at the server, `max_tokens`/JARVIS limits on requests) so a runaway ends by itself. ' +
  'vLLM can go on producing tokens after the connection closed (vllm-project/vllm#54947): upgrade, and set `max_tokens`. ' +
  'The embedded engine stops after its current evaluation; a long prompt is evaluated in one go and can outlast the grace (engine_stopped verdict=unconfirmed, then engine_stopped_late): raise JARVIS_CANCEL_TIMEOUT_MS or send shorter prompts. ' +
  'Ollama stops when its connection closes; if it does not, Jarvis cuts the connection at JARVIS_CANCEL_TIMEOUT_MS (the "upstream ignored the abort" finding). ' +
  'Jarvis itself logs engine_still_generating with the slot, watches it until it stops (engine_stopped_late) or for 10 minutes (engine_watch_gave_up), and lists it in /debug/streams meanwhile (docs/backends.md "Stop at the engine").';

const FIX_UNCONFIRMED =
  'Jarvis could not establish that the engine stopped: a llama.cpp server whose /slots failed or did not show the request, or a backend that waited out the cancel grace. ' +
  'Check the stream_end lines (the verdict and how it was reached) and the upstream: docs/backends.md "Stop at the engine" says what each engine guarantees.';

export function engineSection(input: DiagnoseInput): Section {
  return { id: 'engine', title: 'Engine kept generating after a Stop', checks: [keptGenerating(input), unconfirmed(input)] };
}

function keptGenerating({ facts, engine }: DiagnoseInput): Check {
  const title = 'Every engine stopped when its stream was stopped';
  if (!facts || facts.lines === 0 || !engine) return noLog('engine_kept_generating', title);
  if (engine.stillGenerating === 0) {
    return check('engine_kept_generating', title, 'ok', engine.confirmed > 0 ? `${engine.confirmed} cancels confirmed by the engine; none still generating` : 'no engine_still_generating line');
  }
  const late = engine.stoppedLate > 0 ? `; ${engine.stoppedLate} stopped later` : '';
  const gaveUp = engine.gaveUp > 0 ? `; ${engine.gaveUp} still running when Jarvis stopped watching` : '';
  return check('engine_kept_generating', title, 'problem', `${engine.stillGenerating} engines kept generating past the cancel grace${late}${gaveUp}`, {
    evidence: engine.runaways.items,
    count: engine.stillGenerating,
    fix: FIX_RUNAWAY,
  });
}

function unconfirmed({ facts, engine }: DiagnoseInput): Check {
  const title = 'Cancels the engine confirmed';
  if (!facts || facts.lines === 0 || !engine) return noLog('engine_stop_unconfirmed', title);
  const asked = engine.unconfirmed - engine.unconfirmedNoProbe;
  const noProbe = engine.unconfirmedNoProbe > 0 ? `; ${engine.unconfirmedNoProbe} unconfirmed because the engine cannot be asked (no_probe)` : '';
  if (asked === 0) return check('engine_stop_unconfirmed', title, 'ok', `${engine.confirmed} confirmed${noProbe}`);
  return check('engine_stop_unconfirmed', title, 'problem', `${asked} cancels unconfirmed (${engine.confirmed} confirmed${noProbe})`, {
    evidence: engine.unconfirmedSamples.items,
    count: asked,
    fix: FIX_UNCONFIRMED,
  });
}
