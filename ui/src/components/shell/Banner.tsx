// Tells a newcomer why answers are canned (demo backend), everyone when nothing can
// work right now (Jarvis or its model server down: cleared as soon as it is back; with
// several model servers, each one that is down, by name),
// and the operator what the server warns about (e.g. running exposed without API keys).

import type { UpstreamStatus } from '../../../../src/shared/events.js';
import { usePersistentState } from '../../hooks/usePersistentState.js';
import type { ServerInfo } from '../../hooks/useServerInfo.js';
import { CloseIcon } from './icons.js';

// How a sentence names each kind of model server (the server's registry says it for the single one: backend_label).
const KIND_LABEL: Record<string, string> = { ollama: 'Ollama', openai: 'OpenAI-compatible server', embedded: 'embedded engine', demo: 'demo' };

export function Banner({ info }: { info: ServerInfo }) {
  if (info.unreachable) {
    return (
      <div className="banner banner-error" role="alert" data-testid="status-banner" data-status="jarvis-down">
        <strong>Jarvis is not answering.</strong> Checking again every few seconds… Is <code>npm start</code> still running?
      </div>
    );
  }
  const warnings = info.health?.warnings ?? [];
  const servers = info.health?.upstreams ?? [];
  return (
    <>
      {servers.length > 1 ? (
        <ServersDown servers={servers} />
      ) : info.health?.upstream === 'unreachable' ? (
        <div className="banner banner-error" role="alert" data-testid="status-banner" data-status="model-server-down">
          <strong>The model server is not answering</strong> ({info.health.backend_label}). Answers fail until it is back; this
          banner goes when it is.
        </div>
      ) : null}
      {warnings.map((w) => (
        <div key={w} className="banner banner-error" role="alert" data-testid="security-warning">
          <strong>Warning:</strong> {w}
        </div>
      ))}
      {info.health?.backend === 'demo' && <DemoBanner />}
    </>
  );
}

/** Several model servers (docs/upstreams.md): each one that is down, by name, and where the prompts go meanwhile. */
function ServersDown({ servers }: { servers: UpstreamStatus[] }) {
  const down = servers.filter((s) => s.state === 'down');
  if (down.length === 0) return null;
  const others = servers.some((s) => s.state === 'up');
  return (
    <div className="banner banner-error" role="alert" data-testid="status-banner" data-status="model-server-down">
      {down.map((s) => (
        <div key={s.name} data-upstream={s.name}>
          <strong>
            {s.name} ({KIND_LABEL[s.kind] ?? s.kind}
            {s.target ? ` at ${s.target}` : ''}) is down
          </strong>
          {s.last_error ? `: ${sentence(s.last_error)}` : '.'} {others ? 'New prompts go to the other servers.' : 'Answers fail until a server is back; this banner goes when one is.'}
        </div>
      ))}
    </div>
  );
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** One line on a phone, the how-to behind "Connect a model"; dismissed once per browser (localStorage). */
function DemoBanner() {
  const [dismissed, setDismissed] = usePersistentState('jarvis.demoBannerDismissed', '');
  if (dismissed) return null;
  return (
    <div className="banner banner-demo" role="status" data-testid="demo-banner">
      <details>
        <summary>
          <strong>Demo mode:</strong> canned replies, no model connected. <span className="banner-more">Connect a model</span>
        </summary>
        <p>
          Install <a href="https://ollama.com" target="_blank" rel="noopener noreferrer">Ollama</a>, run <code>ollama pull llama3.2</code>, or put a
          GGUF model in Jarvis's <code>models/</code> folder (<code>npx jarvis pull &lt;url&gt;</code>): with the default{' '}
          <code>JARVIS_BACKEND=auto</code>, Jarvis switches to it within seconds (Ollama first, then the models folder).
        </p>
      </details>
      <button type="button" className="icon-button banner-dismiss" aria-label="Dismiss the demo notice" onClick={() => setDismissed('1')}>
        <CloseIcon />
      </button>
    </div>
  );
}
