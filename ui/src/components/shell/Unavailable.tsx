// What a link to a conversation shows when this key cannot open it (docs/ui.md "Links").
// Never whether it exists: the API answers 404 alike for a missing one and another key's.

export function Unavailable({ state, onNewChat }: { state: 'checking' | 'unavailable'; onNewChat(): void }) {
  if (state === 'checking') {
    return (
      <div className="messages-pane unavailable" role="status">
        <p>Opening the conversation…</p>
      </div>
    );
  }
  return (
    <div className="messages-pane unavailable" data-testid="conversation-unavailable">
      <div className="unavailable-card" role="alert">
        <h2>Conversation not available</h2>
        <p>This conversation isn't available to you: it doesn't exist, or it belongs to another key.</p>
        <button type="button" className="small-button primary" onClick={onNewChat}>
          Start a new chat
        </button>
      </div>
    </div>
  );
}
