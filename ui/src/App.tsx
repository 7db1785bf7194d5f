// The page: conversation list, header (title, model, settings), banners, messages, composer;
// the open conversation's address (/c/<id>), this browser's settings and the shortcuts (docs/ui.md).

import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Banner } from './components/shell/Banner.js';
import { Composer, type ComposerHandle } from './components/chat/Composer.js';
import { GearIcon, MenuIcon, SlidersIcon } from './components/shell/icons.js';
import { GlobalSettings } from './components/shell/GlobalSettings.js';
import { Unavailable } from './components/shell/Unavailable.js';
import { useConversationUrl } from './hooks/useConversationUrl.js';
import { usePreferences } from './hooks/usePreferences.js';
import { useShortcuts } from './hooks/useShortcuts.js';
import { MessageList } from './components/chat/MessageList.js';
import { ModelPicker } from './components/chat/ModelPicker.js';
import { type ConversationSettings, SettingsDialog } from './components/shell/SettingsDialog.js';
import { Sidebar } from './components/sidebar/Sidebar.js';
import { SignIn } from './components/shell/SignIn.js';
import { isLive, useChat } from './contexts/ChatContext.js';
import type { Api } from '../../src/client/api.js';
import type { ApiKeyStore } from './lib/browser/auth.js';
import type { Conversation } from '../../src/client/chat/types.js';
import { usePersistentState } from './hooks/usePersistentState.js';
import { readConversation } from './lib/conversations/conversationTools.js';
import type { SettingsPatch } from '../../src/client/conversationsApi.js';
import { download, fileNameFor, toExportFile, toMarkdown } from './lib/conversations/transfer.js';
import { useServerInfo } from './hooks/useServerInfo.js';
import { useMe } from './hooks/useMe.js';
import { Account } from './components/shell/Account.js';
import { UsageDialog } from './components/usage/UsageDialog.js';
import { conversationPath } from './lib/browser/storage.js';
import type { AttachmentInputJson } from '../../src/shared/conversations.js';

/** `api` sends the key (and reports 401s to `auth`); `signInApi` is the bare one the sign-in form tries keys with. */
export function App({ api, auth, signInApi }: { api: Api; auth: ApiKeyStore; signInApi: Api }) {
  const chat = useChat();
  const signInNeeded = useSyncExternalStore(auth.subscribe, () => auth.signInNeeded);
  const generation = useSyncExternalStore(auth.subscribe, () => auth.generation);
  const info = useServerInfo(api, generation);
  const who = useMe(api, generation);
  const me = who.state === 'ok' ? who.me : null;
  // The last model chosen: new conversations take it (and keep it, on the server).
  const [lastModel, setLastModel] = usePersistentState('jarvis.model', '');
  const [prefs, setPrefs] = usePreferences();
  const url = useConversationUrl(chat, api);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [searchRequest, setSearchRequest] = useState(0);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [prefsOpen, setPrefsOpen] = useState(false);
  // Your usage (docs/ui.md "Usage"): opened from Settings or the account line; focus goes back there.
  const [usageFrom, setUsageFrom] = useState<HTMLElement | null>(null);
  const openUsage = () => {
    const from = prefsOpen ? prefsButton.current : document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setPrefsOpen(false);
    setUsageFrom(from ?? document.body);
  };
  // A new chat's settings, set before its first message (as in Open WebUI and LibreChat): held
  // here, not on the server, so that no empty conversation is stored; the first prompt creates
  // the conversation with them. Its model is `lastModel`, as for any new chat. Null: the
  // defaults of the settings dialog (a default system prompt).
  const [newChatOverride, setNewChatSettings] = useState<Omit<ConversationSettings, 'model'> | null>(null);
  const newChatSettings = newChatOverride ?? { ...NO_SETTINGS, system: prefs.defaultSystem || null };
  const settingsButton = useRef<HTMLButtonElement>(null);
  const prefsButton = useRef<HTMLButtonElement>(null);
  const composer = useRef<ComposerHandle>(null);
  const selected = chat.selected;
  // A default model: every new chat starts with it (the header's picker can still change it for that chat).
  useEffect(() => {
    if (prefs.defaultModel) setLastModel(prefs.defaultModel);
  }, [prefs.defaultModel, setLastModel]);
  const newChat = useCallback(() => {
    url.newChat();
    setNewChatSettings(null);
    if (prefs.defaultModel) setLastModel(prefs.defaultModel);
    composer.current?.focus();
  }, [url, prefs.defaultModel, setLastModel]);
  useShortcuts({
    newChat,
    search: () => {
      if (matchMedia('(max-width: 760px)').matches) setDrawerOpen(true);
      setSearchRequest((n) => n + 1);
    },
    stop: isLive(selected) ? () => chat.stop() : undefined,
    focusComposer: () => composer.current?.focus(),
  });
  useEffect(() => {
    document.title = url.link === 'unavailable' ? 'Not available · Jarvis' : selected ? `${selected.title} · Jarvis` : 'Jarvis';
  }, [selected, url.link]);
  const onServer = !!selected && !selected.id.startsWith('draft-');
  // A conversation's model is its own (the server applies it); a new chat gets the last one
  // chosen, if the server lists it (else the server's default).
  const newChatModel = lastModel && info.models?.includes(lastModel) ? lastModel : undefined;
  const shownModel = selected ? (selected.model ?? '') : lastModel;
  const sendModel = selected ? undefined : newChatModel;
  const pickModel = (next: string) => {
    setLastModel(next);
    if (selected && onServer) void chat.updateSettings(selected.id, { model: next || null }).catch((err: unknown) => console.warn('[ui] Could not change the model', err));
  };

  const settings = selected ? settingsOf(selected) : { ...newChatSettings, model: lastModel || null };
  const canSetUp = !selected || onServer;
  const send = (text: string, attachments?: AttachmentInputJson[]) => {
    // Typed under "not available": a new chat, at `/` (the address must not keep the other one's id).
    if (url.link !== 'ok') url.newChat();
    if (selected) return chat.send(text, undefined, undefined, attachments);
    chat.send(text, sendModel, withoutNulls(newChatSettings), attachments);
    setNewChatSettings(null);
  };
  const exportSelected = useCallback(
    async (kind: 'markdown' | 'json') => {
      if (!selected) return;
      const conversation = await readConversation(api, selected.id);
      if (kind === 'markdown') download(fileNameFor(conversation.title, 'md'), 'text/markdown', toMarkdown(conversation));
      else download(fileNameFor(conversation.title, 'json'), 'application/json', JSON.stringify(toExportFile([conversation]), null, 2));
    },
    [api, selected],
  );

  if (signInNeeded) return <SignIn api={signInApi} store={auth} />;

  return (
    <div className="app">
      <a className="skip-link" href="#composer-area">Skip to the message box</a>
      <Sidebar
        api={api}
        open={drawerOpen}
        searchRequest={searchRequest}
        onOpen={url.open}
        onNewChat={newChat}
        onClose={() => { setDrawerOpen(false); composer.current?.focus(); }}
        footer={me ? <Account me={me} onUsage={openUsage} /> : null}
      />
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
          <h1 className="chat-title" title={selected?.title ?? undefined}>
            {url.link === 'unavailable' ? 'Not available' : (selected?.title ?? 'New chat')}
          </h1>
          <div className="header-actions">
            <ModelPicker models={info.models} servers={info.servers} value={shownModel} defaultModel={info.health?.model ?? null} onChange={pickModel} onOpen={info.refreshModels} />
            <button
              type="button"
              ref={settingsButton}
              className="icon-button"
              aria-label="Conversation settings"
              aria-haspopup="dialog"
              aria-disabled={!canSetUp}
              title={canSetUp ? 'System prompt, model, temperature, max tokens; export' : 'Saving the new conversation…'}
              onClick={() => canSetUp && setSettingsOpen(true)}
            >
              <SlidersIcon />
            </button>
            <button
              type="button"
              ref={prefsButton}
              className="icon-button"
              aria-label="Settings"
              aria-haspopup="dialog"
              title="Theme, defaults for new chats, sign-out, shortcuts"
              onClick={() => setPrefsOpen(true)}
            >
              <GearIcon />
            </button>
          </div>
        </header>
        <SettingsDialog
          open={settingsOpen}
          settings={settings}
          models={info.models}
          servers={info.servers}
          defaultModel={info.health?.model ?? null}
          defaultMaxTokens={info.health?.max_tokens_default ?? null}
          onOpenModels={info.refreshModels}
          onSave={async (next) => {
            if (selected) {
              await chat.updateSettings(selected.id, next);
              if (next.model) setLastModel(next.model);
            } else {
              const { model, ...rest } = next;
              setNewChatSettings(rest);
              setLastModel(model ?? '');
            }
          }}
          onClose={() => {
            setSettingsOpen(false);
            settingsButton.current?.focus();
          }}
          onExport={selected && selected.messages.length > 0 ? (kind) => void exportSelected(kind) : undefined}
          link={selected && onServer ? new URL(conversationPath(selected.id), location.origin).href : undefined}
        />
        <GlobalSettings
          open={prefsOpen}
          prefs={prefs}
          models={info.models}
          me={me}
          onUsage={openUsage}
          onChange={setPrefs}
          onSignOut={auth.current() ? () => { setPrefsOpen(false); auth.signOut(); } : undefined}
          onClose={() => {
            setPrefsOpen(false);
            prefsButton.current?.focus();
          }}
        />
        <UsageDialog
          open={usageFrom !== null}
          api={api}
          me={me}
          onClose={() => {
            usageFrom?.focus();
            setUsageFrom(null);
          }}
        />
        <Banner info={info} />
        {url.link !== 'ok' ? <Unavailable state={url.link} onNewChat={newChat} /> : null}
        {url.link === 'ok' ? <MessageList
          conversation={selected}
          onRetry={(id) => chat.retry(id, sendModel)}
          onRegenerate={() => chat.regenerate()}
          onEdit={(id, content) => chat.edit(id, content)}
          onSuggestion={(text) => { composer.current?.setText(text); composer.current?.focus(); }}
        /> : null}
        <div id="composer-area">
          {!selected && describeSettings(newChatSettings) ? (
            <p className="new-chat-settings" data-testid="new-chat-settings">
              For this chat: {describeSettings(newChatSettings)}
            </p>
          ) : null}
          <Composer ref={composer} live={isLive(selected)} api={api} model={shownModel || info.health?.model || undefined} onSend={send} onStop={() => { chat.stop(); composer.current?.focus(); }} />
        </div>
      </main>
    </div>
  );
}

const NO_SETTINGS = { system: null, temperature: null, max_tokens: null };

function settingsOf(c: Conversation): ConversationSettings {
  return { system: c.system ?? null, model: c.model ?? null, temperature: c.temperature ?? null, max_tokens: c.max_tokens ?? null };
}

/** What a new chat was set up with, in words ('' for nothing). */
function describeSettings(s: Omit<ConversationSettings, 'model'>): string {
  const parts = [s.system !== null ? 'system prompt' : '', s.temperature !== null ? `temperature ${s.temperature}` : '', s.max_tokens !== null ? `at most ${s.max_tokens} tokens` : ''];
  return parts.filter(Boolean).join(' · ');
}

/** Only what was set: a new conversation takes the server's defaults for the rest. */
function withoutNulls(s: Omit<ConversationSettings, 'model'>): Omit<SettingsPatch, 'model'> {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null));
}
