import { formatMs } from '../logAnalysis/distribution.js';
import { check, needsUrl, noLog, type Check, type DiagnoseInput, type Section } from '../report/report.js';

// "No logs at all" (docs/operations.md): is there a log, does the running server
// write to it, and does the streaming endpoint answer at all.

const FIX_LOCATION =
  'Jarvis writes JARVIS_LOG_FILE (default logs/system.log, relative to the directory `npm start` ran in; the directory is created). ' +
  'Run diagnose from that directory or pass --log PATH; the server prints its log path when it starts.';

export function logSection(input: DiagnoseInput): Section {
  return { id: 'logs', title: 'No logs at all (silent failure)', checks: [fileReadable(input), fileHasLines(input), fileWritable(input), logGaps(input), serverReachable(input), serverWritesHere(input), endpointAnswers(input)] };
}

function fileReadable({ file }: DiagnoseInput): Check {
  const title = 'Log file exists and is readable';
  if (file.exists && file.readable && !file.error) return check('log_file', title, 'ok', `${file.path}: ${file.size} bytes`);
  return check('log_file', title, 'problem', `${file.path}: ${file.error ?? (file.exists ? 'not readable (permissions)' : 'no such file')}`, { fix: FIX_LOCATION });
}

function fileHasLines({ file, facts, nowMs }: DiagnoseInput): Check {
  const title = 'Log file has log lines';
  if (!facts) return check('log_lines', title, 'skipped', 'no log file to read');
  if (facts.lines === 0) {
    return check('log_lines', title, 'problem', `${file.path} is empty`, {
      fix: 'The server logs server_listening as soon as it starts: an empty file means no server has written here since it was created. Check JARVIS_LOG_FILE of the running server and JARVIS_LOG_LEVEL (debug|info|warn|error).',
    });
  }
  const age = facts.lastTime ? ` (${formatMs(nowMs - Date.parse(facts.lastTime))} ago)` : '';
  const unparsed = facts.unparsed > 0 ? `; ${facts.unparsed} lines not in the log format, e.g. ${JSON.stringify(facts.firstUnparsed)}` : '';
  return check('log_lines', title, 'ok', `${facts.lines} lines from ${facts.firstTime} to ${facts.lastTime}${age}${unparsed}`);
}

function fileWritable({ file }: DiagnoseInput): Check {
  const title = 'Log file is writable';
  if (!file.exists) return check('log_writable', title, 'skipped', 'no log file');
  if (file.writable) return check('log_writable', title, 'ok', `${file.path} is writable by this user`);
  return check('log_writable', title, 'problem', `${file.path} is not writable by this user`, {
    fix: 'The server cannot append to a log it may not write: fix the ownership or mode (`chmod u+w`), or set JARVIS_LOG_FILE to a writable path.',
  });
}

function logGaps({ facts, cluster }: DiagnoseInput): Check {
  const title = 'The log has no gaps (dropped lines, runs that never shut down)';
  if (!facts || facts.lines === 0) return noLog('log_gaps', title);
  const dropped = facts.droppedLines;
  // Several instances: their restarts are judged per instance, in the cluster section.
  const unclean = cluster?.clustered ? 0 : facts.uncleanRestarts.count;
  if (dropped === 0 && unclean === 0) {
    const starts = cluster?.clustered ? `${facts.restarts} server starts (per instance: see "Several instances")` : `${facts.restarts} server starts, each after a shutdown_complete`;
    return check('log_gaps', title, 'ok', `no dropped lines reported; ${starts}`);
  }
  const parts = [
    dropped > 0 ? `${dropped} lines dropped (the log could not be written; ${facts.droppedLineReports.count} log_lines_dropped reports)` : '',
    unclean > 0 ? `${unclean} restarts without shutdown_complete (the previous run was killed or crashed: its last lines may be missing)` : '',
  ].filter(Boolean);
  return check('log_gaps', title, 'problem', parts.join('; '), {
    evidence: [...facts.droppedLineReports.items, ...(unclean > 0 ? facts.uncleanRestarts.items : [])].slice(0, 5),
    count: dropped + unclean,
    fix:
      'Dropped lines: the disk was full or failing, or the file was not writable (see the stderr warning, /health "log" and jarvis_log_lines_dropped_total); free space or fix permissions: logging resumes by itself. ' +
      'A restart without shutdown_complete: the process was killed (SIGKILL, OOM killer: `journalctl -k | grep -i oom`), crashed (its stderr) or the machine stopped; stop Jarvis with SIGTERM, and streams live at that moment have no stream_end.',
  });
}

function serverReachable({ live }: DiagnoseInput): Check {
  const title = 'Server reachable, /health answers';
  if (!live) return needsUrl('server_reachable', title);
  const h = live.health;
  if (h.ok) return check('server_reachable', title, 'ok', `${live.url}/health: ${JSON.stringify(h.body)}`);
  if (h.status === 0 && h.error?.startsWith('no answer')) return check('server_reachable', title, 'skipped', 'connected, but no answer: the server is hung (see System deadlock)');
  return check('server_reachable', title, 'problem', `${live.url}/health: ${h.error ?? `HTTP ${h.status}`}`, {
    fix: 'Is the server running (`ps aux | grep jarvis`, `npm start`)? Check the URL: PORT and HOST (default 127.0.0.1:8000).',
  });
}

function serverWritesHere({ live, file }: DiagnoseInput): Check {
  const title = 'The running server writes to this log';
  if (!live) return needsUrl('server_writes_log', title);
  if (!live.probeLogged) return check('server_writes_log', title, 'skipped', 'no probe stream to look for');
  const id = live.probe?.outcome.streamId ?? '?';
  if (live.probeLogged.found) return check('server_writes_log', title, 'ok', `the probe's stream_start (trace=${id}) appeared in ${file.path} within ${formatMs(live.probeLogged.ms)}`);
  return check('server_writes_log', title, 'problem', `the probe stream ${id} did not appear in ${file.path} within ${formatMs(live.probeLogged.ms)}: the server logs elsewhere, or this log is stale`, {
    fix: FIX_LOCATION,
  });
}

function endpointAnswers({ live }: DiagnoseInput): Check {
  const title = 'The streaming endpoint answers';
  if (!live) return needsUrl('endpoint_answers', title);
  if (!live.probe) return check('endpoint_answers', title, 'skipped', 'the server did not answer /health, so no probe was sent');
  const o = live.probe.outcome;
  const terminal = o.events.at(-1)?.event;
  const first = o.events.find((e) => e.event.type === 'token');
  if (o.status === 200 && terminal?.type === 'done') {
    return check('endpoint_answers', title, 'ok', `POST /v1/chat/completions: 200, first token after ${formatMs(first ? first.at - o.sentAt : undefined)}, done in ${formatMs(o.endedAt - o.sentAt)}`);
  }
  const why = o.status !== 200 ? `HTTP ${o.status || 'no answer'}: ${o.error ?? o.errorBody ?? ''}` : terminal ? `ended with ${JSON.stringify(terminal)}` : `no terminal event${o.error ? `: ${o.error}` : ''}`;
  return check('endpoint_answers', title, 'problem', `POST /v1/chat/completions: ${why}`, {
    fix: 'An error event names its cause: upstream_unavailable (start Ollama or fix OLLAMA_HOST), model_not_found / no_model (`ollama pull <model>` or JARVIS_MODEL), timeout (the model is slow to load). `curl -N http://HOST:PORT/v1/chat/completions -d \'{"messages":[{"role":"user","content":"hello"}]}\'` shows the same.',
  });
}
