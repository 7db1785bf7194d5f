// The sidebar's tools over all conversations: search (titles and text, on the server),
// export all as JSON, and import such a file back.

import { useRef, useState } from 'react';
import type { Api } from '../../../../src/client/api.js';
import { importConversation, listAll, readConversation, searchConversations } from '../../lib/conversations/conversationTools.js';
import { download, parseImport, toExportFile } from '../../lib/conversations/transfer.js';
import { plainSnippet } from './plainSnippet.js';
import { findRange, focusSnippet, Highlighted, SearchBox, useConversationSearch } from './SearchBox.js';

export function useLibrary(api: Api) {
  const [query, setQuery] = useState('');
  const search = useConversationSearch(query, (q, signal) => searchConversations(api, q, signal));
  return { query, setQuery, search };
}

export function SearchResults({ query, search, selectedId, onSelect }: {
  query: string;
  search: ReturnType<typeof useConversationSearch>;
  selectedId: string | null;
  onSelect(id: string): void;
}) {
  const pending = search.query !== query.trim();
  return (
    <>
      <p className="sidebar-note" role="status" aria-live="polite">
        {pending || search.hits === null ? 'Searching…' : search.error ? `Search failed: ${search.error}` : `${search.hits.length} found`}
      </p>
      <ul className="conversation-list" aria-label="Search results">
        {(search.hits ?? []).map((hit) => {
          // The match is marked in the title; a match in a message shows under it, unless that
          // message is the title (a chat is named after its first prompt).
          const plain = hit.match?.message_id && hit.match.snippet !== hit.title ? plainSnippet(hit.match.snippet, hit.match.highlight) : undefined;
          const inText = plain ? focusSnippet(plain.text, plain.range) : undefined;
          const role = hit.match?.role;
          return (
            <li key={hit.id} className={`conversation search-hit${selectedId === hit.id ? ' selected' : ''}`}>
              <button
                type="button"
                className="conversation-select"
                title={hit.title}
                onClick={() => onSelect(hit.id)}
                aria-current={selectedId === hit.id ? 'page' : undefined}
              >
                <span className="conversation-title">
                  <Highlighted text={hit.title} range={findRange(hit.title, search.query)} />
                </span>
                {inText ? (
                  <span className="search-snippet">
                    {role === 'assistant' ? <span className="snippet-role">Jarvis: </span> : null}
                    <Highlighted text={inText.text} range={inText.range} />
                  </span>
                ) : null}
              </button>
            </li>
          );
        })}
      </ul>
    </>
  );
}

export { SearchBox };

export function LibraryActions({ api }: { api: Api }) {
  const file = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const exportAll = async () => {
    setBusy(true);
    setStatus('Exporting…');
    try {
      const list = await listAll(api);
      const conversations = [];
      for (const c of list) conversations.push(await readConversation(api, c.id));
      download(`jarvis-conversations-${new Date().toISOString().slice(0, 10)}.json`, 'application/json', JSON.stringify(toExportFile(conversations), null, 2));
      setStatus(`Exported ${conversations.length} conversation${conversations.length === 1 ? '' : 's'}.`);
    } catch (err) {
      setStatus(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };

  const importFile = async (chosen: File) => {
    setBusy(true);
    setStatus('Importing…');
    try {
      const conversations = parseImport(await chosen.text());
      let done = 0;
      for (const c of conversations) {
        await importConversation(api, c);
        done++;
      }
      setStatus(`Imported ${done} conversation${done === 1 ? '' : 's'}.`);
    } catch (err) {
      setStatus(`Import failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
      if (file.current) file.current.value = '';
    }
  };

  return (
    <div className="sidebar-foot">
      <button type="button" className="small-button" disabled={busy} onClick={() => void exportAll()}>
        Export all
      </button>
      <button type="button" className="small-button" disabled={busy} onClick={() => file.current?.click()}>
        Import
      </button>
      <input
        ref={file}
        type="file"
        accept="application/json,.json"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Import conversations from a JSON file"
        onChange={(e) => {
          const chosen = e.target.files?.[0];
          if (chosen) void importFile(chosen);
        }}
      />
      {status ? (
        <p className="import-status" role="status">
          {status}
        </p>
      ) : null}
    </div>
  );
}
