// The page: conversation list, header (title, model), banner, messages, composer.

import { useRef, useState } from 'react';
import { Banner } from './components/Banner.js';
import { Composer, type ComposerHandle } from './components/Composer.js';
import { MenuIcon } from './components/icons.js';
import { MessageList } from './components/MessageList.js';
import { ModelPicker } from './components/ModelPicker.js';
import { Sidebar } from './components/Sidebar.js';
import { isLive, useChat } from './contexts/ChatContext.js';
import type { Api } from './lib/api.js';
import { usePersistentState } from './hooks/usePersistentState.js';
import { useServerInfo } from './hooks/useServerInfo.js';

export function App({ api }: { api: Api }) {
  const chat = useChat();
  const info = useServerInfo(api);
  const [model, setModel] = usePersistentState('jarvis.model', '');
  const [drawerOpen, setDrawerOpen] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const selected = chat.selected;
  // Only send a model the server listed; otherwise let it use its default.
  const chosenModel = model && info.models?.includes(model) ? model : undefined;

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
