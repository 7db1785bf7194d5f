// The page: conversation list, header (title, model), banner, messages, composer.

import { useRef, useState, useSyncExternalStore } from 'react';
import { Banner } from './components/Banner.js';
import { Composer, type ComposerHandle } from './components/Composer.js';
import { MenuIcon } from './components/icons.js';
import { MessageList } from './components/MessageList.js';
import { ModelPicker } from './components/ModelPicker.js';
import { Sidebar } from './components/Sidebar.js';
import { SignIn } from './components/SignIn.js';
import { isLive, useChat } from './contexts/ChatContext.js';
import type { Api } from './lib/api.js';
import type { ApiKeyStore } from './lib/auth.js';
import { usePersistentState } from './hooks/usePersistentState.js';
import { useServerInfo } from './hooks/useServerInfo.js';

/** `api` sends the key (and reports 401s to `auth`); `signInApi` is the bare one the sign-in form tries keys with. */
export function App({ api, auth, signInApi }: { api: Api; auth: ApiKeyStore; signInApi: Api }) {
  const chat = useChat();
  const signInNeeded = useSyncExternalStore(auth.subscribe, () => auth.signInNeeded);
  const generation = useSyncExternalStore(auth.subscribe, () => auth.generation);
  const info = useServerInfo(api, generation);
  const [model, setModel] = usePersistentState('jarvis.model', '');
  const [drawerOpen, setDrawerOpen] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const selected = chat.selected;
  // Only send a model the server listed; otherwise let it use its default.
  const chosenModel = model && info.models?.includes(model) ? model : undefined;

  if (signInNeeded) return <SignIn api={signInApi} store={auth} />;

  return (
    <div className="app">
      <a className="skip-link" href="#composer-area">Skip to the message box</a>
      <Sidebar open={drawerOpen} onClose={() => { setDrawerOpen(false); composer.current?.focus(); }} />
      <main className="chat" data-session-id={selected?.id ?? ''}>
        <header className="chat-header">
          <button
            type="button"
            className="icon-button menu-button"
            aria-label="Show conversations"
            aria-controls="sidebar"
            aria-expanded={drawerOpen}
            onClick={() => setDrawerOpen(true)}
          >
            <MenuIcon />
          </button>
          <h1 className="chat-title">{selected?.title ?? 'New chat'}</h1>
          <ModelPicker models={info.models} value={model} defaultModel={info.health?.model ?? null} onChange={setModel} />
        </header>
        <Banner info={info} />
        <MessageList
          conversation={selected}
          onRetry={(id) => chat.retry(id, chosenModel)}
          onSuggestion={(text) => { composer.current?.setText(text); composer.current?.focus(); }}
        />
        <div id="composer-area">
          <Composer ref={composer} live={isLive(selected)} onSend={(text) => chat.send(text, chosenModel)} onStop={() => { chat.stop(); composer.current?.focus(); }} />
        </div>
      </main>
    </div>
  );
}
