// Tells a newcomer why answers are canned (demo backend), everyone when nothing can
// work right now (Jarvis or its model server down: cleared as soon as it is back),
// and the operator what the server warns about (e.g. running exposed without API keys).

import type { ServerInfo } from '../../hooks/useServerInfo.js';

export function Banner({ info }: { info: ServerInfo }) {
  if (info.unreachable) {
    return (
      <div className="banner banner-error" role="alert" data-testid="status-banner" data-status="jarvis-down">
        <strong>Jarvis is not answering.</strong> Checking again every few seconds… Is <code>npm start</code> still running?
      </div>
    );
  }
  const warnings = info.health?.warnings ?? [];
  return (
    <>
      {info.health?.upstream === 'unreachable' ? (
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

function DemoBanner() {
  return (
    <div className="banner" role="status" data-testid="demo-banner">
      <strong>Demo mode:</strong> no model is connected, so Jarvis answers with a canned reply. Install{' '}
      <a href="https://ollama.com" target="_blank" rel="noopener noreferrer">Ollama</a>, run <code>ollama pull llama3.2</code>, or put a
      GGUF model in Jarvis's <code>models/</code> folder (<code>npx jarvis pull &lt;url&gt;</code>): with the default{' '}
      <code>JARVIS_BACKEND=auto</code>, Jarvis switches to it within seconds (Ollama first, then the models folder).
    </div>
  );
}
