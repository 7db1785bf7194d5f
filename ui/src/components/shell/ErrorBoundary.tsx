// The last line of defence: a render error shows a way out instead of a blank page.
// Conversations are on the server, so reloading loses nothing.

import { Component, type ErrorInfo, type ReactNode } from 'react';

export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('[ui] The page failed to render', error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="crash" role="alert">
        <h1>Something went wrong on this page</h1>
        <p>Your conversations are kept by the server: reloading brings them back.</p>
        <p className="crash-detail">{this.state.error.message}</p>
        <button type="button" className="small-button" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
