import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { ChatProvider } from './contexts/ChatContext.js';
import { browserApi } from './lib/api.js';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ChatProvider api={browserApi}>
      <App api={browserApi} />
    </ChatProvider>
  </StrictMode>,
);
