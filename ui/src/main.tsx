import { StrictMode, Suspense, lazy, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { AdminApp } from './AdminApp.js';
import { App } from './App.js';
import { ErrorBoundary } from './components/shell/ErrorBoundary.js';
import { ChatProvider } from './contexts/ChatContext.js';
import { browserApi } from '../../src/client/api.js';
import { ApiKeyStore, withApiKey } from './lib/browser/auth.js';
import './styles.css';

// The live timeline is loaded only on /ops: the chat's first view does not carry it.
const OpsApp = lazy(() => import('./components/ops/OpsApp.js').then((m) => ({ default: m.OpsApp })));

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
// Every call carries the API key once there is one; a 401 brings up the sign-in screen.
const auth = new ApiKeyStore();
const api = withApiKey(browserApi, auth);

/** A sign-in starts the chat again: what was refused without a key (the list, the feed) is read with it. */
function Root() {
  const generation = useSyncExternalStore(auth.subscribe, () => auth.generation);
  // The admin page (docs/ui.md "Admin page") is a page of its own: a link, not a view of the chat.
  if (isAdminPath(location.pathname)) {
    return (
      <ErrorBoundary>
        <AdminApp api={api} auth={auth} signInApi={browserApi} />
      </ErrorBoundary>
    );
  }
  // The live timeline (docs/observability.md "The live timeline"), a page of its own too.
  if (isOpsPath(location.pathname)) {
    return (
      <ErrorBoundary>
        <Suspense fallback={null}>
          <OpsApp api={api} auth={auth} signInApi={browserApi} />
        </Suspense>
      </ErrorBoundary>
    );
  }
  return (
    <ErrorBoundary>
      <ChatProvider key={generation} api={api}>
        <App api={api} auth={auth} signInApi={browserApi} />
      </ChatProvider>
    </ErrorBoundary>
  );
}

function isAdminPath(path: string): boolean {
  return path === '/admin' || path === '/admin/';
}

function isOpsPath(path: string): boolean {
  return path === '/ops' || path === '/ops/';
}

createRoot(root).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
