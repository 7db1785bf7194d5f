import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { ChatProvider } from './contexts/ChatContext.js';
import { browserApi } from './lib/api.js';
import { ApiKeyStore, withApiKey } from './lib/auth.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
// Every call carries the API key once there is one; a 401 brings up the sign-in screen.
const auth = new ApiKeyStore();
const api = withApiKey(browserApi, auth);
createRoot(root).render(
  <StrictMode>
    <ChatProvider api={api}>
      <App api={api} auth={auth} signInApi={browserApi} />
    </ChatProvider>
  </StrictMode>,
);
