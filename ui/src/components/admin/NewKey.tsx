// A key just created (docs/ui.md "Admin page"): shown this once with a Copy button. Jarvis
// keeps only its hash, so once this panel is closed nobody can show it again.

import { useEffect, useId, useRef } from 'react';
import type { CreatedApiKeyJson } from '../../../../src/shared/team/admin.js';
import { useCopy } from '../../hooks/useCopy.js';

export function NewKey({ created, onDone }: { created: CreatedApiKeyJson; onDone(): void }) {
  const ids = useId();
  const { copied, copy } = useCopy();
  const heading = useRef<HTMLHeadingElement>(null);
  // The keyboard (and a screen reader) goes to it at once: it is the one thing to act on now.
  useEffect(() => heading.current?.focus(), [created.id]);
  return (
    <section className="new-key" aria-labelledby={`${ids}-title`} data-testid="new-key">
      <h3 id={`${ids}-title`} ref={heading} tabIndex={-1}>
        New key “{created.name}” for {created.owner}
      </h3>
      <p className="new-key-warning" id={`${ids}-warning`}>
        <strong>Copy it now: you won’t see it again.</strong> Jarvis keeps only a hash of it; a lost key can only be revoked and replaced.
      </p>
      <div className="new-key-row">
        <input
          className="new-key-value"
          readOnly
          value={created.key}
          aria-label="The new key"
          aria-describedby={`${ids}-warning`}
          spellCheck={false}
          onFocus={(e) => e.currentTarget.select()}
          data-testid="new-key-value"
        />
        <button type="button" className="small-button primary" onClick={() => copy(created.key)}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p className="admin-note" role="status">{copied ? 'The key is on the clipboard.' : ''}</p>
      <button type="button" className="small-button" onClick={onDone}>
        I have copied it
      </button>
    </section>
  );
}
