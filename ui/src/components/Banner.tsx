// Tells a newcomer why answers are canned (demo backend) or why nothing works (server down).

import type { ServerInfo } from '../hooks/useServerInfo.js';

export function Banner({ info }: { info: ServerInfo }) {
  if (info.unreachable) {
    return (
      <div className="banner banner-error" role="alert">
        Jarvis's server is not answering. Is <code>npm start</code> still running?
      </div>
    );
  }
  if (info.health?.backend !== 'demo') return null;
  return (
    <div className="banner" role="status" data-testid="demo-banner">
      <strong>Demo mode:</strong> no model is connected, so Jarvis answers with a canned reply. Install{' '}
      <a href="https://ollama.com" target="_blank" rel="noopener noreferrer">Ollama</a>, run <code>ollama pull llama3.2</code>, then
      restart Jarvis.
    </div>
  );
}
