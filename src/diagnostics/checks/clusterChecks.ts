import type { ClusterFacts, InstanceFacts, RedisRestart } from '../logAnalysis/clusterAnalyzer.js';
import { check, type Check, type DiagnoseInput, type Section } from '../report/report.js';
import { withRefs, type Evidence } from '../logAnalysis/samples.js';

// Several instances' logs read together (docs/clusters.md, docs/operations.md): what no single log shows.

const FIX_SPLIT_BRAIN =
  'Both instances must share one REDIS_URL (check `cluster_mode` lines: same redis= on every instance) and one Redis that keeps its data: ' +
  'a Redis restarted without persistence forgets which stream holds a session for a moment (run it with `appendonly yes`, and `appendfsync always` for the strictest rule). ' +
  'Keep the instances\' clocks in sync (NTP): diagnose orders lines from different machines by their times.';
const FIX_LEASE_LOST =
  'The instance did not renew its lease within JARVIS_LEASE_MS: the process was paused (SIGSTOP, a long GC or swap, a VM migration) or could not reach Redis. ' +
  'The stream ended with error/lost on the clients; see the instance\'s log around the line for redis_unavailable, and raise JARVIS_LEASE_MS if pauses are expected.';
const FIX_LOST =
  'The instance stopped renewing its leases (killed, crashed, or hung): the next reader, Stop or prompt recorded its streams `lost`, and their sessions were free again within JARVIS_LEASE_MS. ' +
  'Find why it died (`journalctl -k | grep -i oom`, its stderr); stop instances with SIGTERM so their streams end cleanly.';
const FIX_REDIS_EMPTY =
  'Redis came back without its data (no persistence): the instances wrote their streams\' logs back from memory (redis_log_restored), and readers waited for that. ' +
  'A reader gets error answer_log_lost when no instance wrote its stream back in time (its owner had died, or a newer prompt had taken the session): the answer itself is in the conversation (reload it). ' +
  'Run Redis with `appendonly yes` (as `npm run cluster` does) so a restart keeps the session rules and the logs.';
const FIX_RESTART =
  'The instance was killed (SIGKILL, OOM killer: `journalctl -k | grep -i oom`), crashed (its stderr) or its machine stopped; its streams live at that moment have no stream_end. Stop Jarvis with SIGTERM.';

export function clusterSection({ cluster }: DiagnoseInput): Section | undefined {
  if (!cluster?.clustered) return undefined;
  return { id: 'cluster', title: 'Several instances (cluster)', checks: [instances(cluster), splitBrain(cluster), leasesLost(cluster), lostWithInstance(cluster), restarts(cluster), redisRestarts(cluster)] };
}

function problemsOf(i: InstanceFacts): number {
  return i.splitBrains + i.leasesLost + i.lostWithIt + i.uncleanRestarts;
}

function instances(cluster: ClusterFacts): Check {
  const list = [...cluster.instances.values()].filter((i) => i.instance !== '' || cluster.instances.size === 1);
  const evidence: Evidence[] = list.map((i) => {
    const p = problemsOf(i);
    const parts = [
      i.splitBrains ? `${i.splitBrains} split-brain` : '',
      i.leasesLost ? `${i.leasesLost} leases lost` : '',
      i.lostWithIt ? `${i.lostWithIt} streams lost with it` : '',
      i.uncleanRestarts ? `${i.uncleanRestarts} restarts without shutdown_complete` : '',
    ].filter(Boolean);
    return {
      text: `${i.instance}: ${i.streamsStarted} streams, ${i.streamsEnded} ends, ${p} problems${parts.length ? ` (${parts.join(', ')})` : ''}; ${i.firstTime} → ${i.lastTime}${i.running ? ', log ends while running' : ', shut down'}`,
    };
  });
  const total = list.reduce((n, i) => n + problemsOf(i), 0);
  return check('cluster_instances', 'Instances in these logs', 'ok', `${list.length} instances, ${total === 0 ? 'no problems' : `${total} problems (below)`}`, { evidence });
}

function splitBrain(cluster: ClusterFacts): Check {
  const title = 'One stream per session across instances (no split brain)';
  const s = cluster.splitBrain;
  if (s.count === 0) return check('split_brain', title, 'ok', 'every stream that started while its session ran on another instance waited for it (prev_stream_*) or found it lost (stream_lost)');
  return check('split_brain', title, 'problem', `${s.count} streams ran alongside another stream of their session on another instance, with no handover`, { evidence: s.items, count: s.count, fix: FIX_SPLIT_BRAIN });
}

function leasesLost(cluster: ClusterFacts): Check {
  const title = 'No instance lost a lease (lease_lost)';
  const s = cluster.leaseLost;
  if (s.count === 0) return check('lease_lost', title, 'ok', 'no lease_lost lines');
  return check('lease_lost', title, 'problem', `${s.count} streams stopped because their instance lost its lease`, { evidence: s.items, count: s.count, fix: FIX_LEASE_LOST });
}

function lostWithInstance(cluster: ClusterFacts): Check {
  const title = 'No streams lost with a dead instance (stream_lost)';
  const lost = [...cluster.lost.values()];
  const count = lost.reduce((n, l) => n + l.count, 0);
  if (count === 0) return check('streams_lost', title, 'ok', 'no stream_lost lines');
  const evidence: Evidence[] = lost.map((l) => ({
    text: `instance ${l.instance} died or hung: ${l.count} streams recorded lost: ${l.streams.join(', ')}${l.count > l.streams.length ? ` … ${l.count - l.streams.length} more` : ''}`,
    lines: l.lines,
    ...(l.refs.some((r) => r !== undefined) ? { refs: l.refs } : {}),
    streams: l.streams,
  }));
  const by = lost.map((l) => `${l.count} of ${l.instance}`).join(', ');
  return check('streams_lost', title, 'problem', `${count} streams lost with their instance (${by})`, { evidence, count: lost.length, fix: FIX_LOST });
}

function restarts(cluster: ClusterFacts): Check {
  const title = 'Every instance shut down before it started again';
  const s = cluster.uncleanRestarts;
  if (s.count === 0) return check('instance_restarts', title, 'ok', 'no restart without shutdown_complete');
  const by = [...cluster.instances.values()].filter((i) => i.uncleanRestarts > 0).map((i) => `${i.instance} ×${i.uncleanRestarts}`).join(', ');
  return check('instance_restarts', title, 'problem', `${s.count} restarts without shutdown_complete (${by})`, { evidence: s.items, count: s.count, fix: FIX_RESTART });
}

function redisRestarts(cluster: ClusterFacts): Check {
  const title = 'Redis kept its data (no restart that lost the streams\' logs)';
  const { restarts, more } = cluster.redis;
  if (restarts.length === 0) return check('redis_restarted', title, 'ok', 'no redis_restarted, redis_log_lost or answer_log_lost lines');
  const bad = restarts.filter((r) => r.empty || r.readersLost > 0 || r.answersLost > 0);
  const evidence = restarts.map(describeRestart);
  const summary = `${restarts.length + more} Redis restarts, ${bad.length} that lost data: ${(bad[0] ? describeRestart(bad[0]) : evidence[0])?.text ?? ''}`;
  return check('redis_restarted', title, bad.length > 0 ? 'problem' : 'ok', summary, { evidence, count: bad.length, fix: FIX_REDIS_EMPTY });
}

/** The operator's sentence for one restart. */
export function describeRestart(r: RedisRestart): Evidence {
  const restored = [...r.restored.values()].reduce((n, c) => n + c, 0);
  const by = [...r.restored.entries()].map(([i, n]) => `${i}: ${n}`).join(', ');
  const parts = [
    r.runId === '' ? `stream logs vanished from Redis at ${r.time} with no redis_restarted line before (flushed, evicted, or a restart no instance saw)` : `Redis restarted ${r.empty ? 'EMPTY' : 'with its data'} at ${r.time} (run_id ${r.runId}, seen by ${r.instances.join(', ')})`,
    `${restored} streams' logs were written back from their owners' memory${by ? ` (${by})` : ''}`,
    `${r.resumed} readers on other instances resumed`,
    `${r.readersLost} readers got answer_log_lost${r.answersLost ? `, ${r.answersLost} stored answers lost their log` : ''}${r.lostStreams.length ? ` (${r.lostStreams.join(', ')})` : ''}`,
  ];
  return withRefs({ text: parts.join('; '), lines: r.lines, streams: r.lostStreams }, ...r.refs);
}
