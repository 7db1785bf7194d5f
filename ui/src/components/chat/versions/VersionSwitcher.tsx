// ‹ n/m › under a message with more than one version (docs/conversations.md "Branches"): an
// edited prompt's versions, or a regenerated answer's. Two real buttons (keyboard, screen
// readers), the count read out as "Version 2 of 3" when it changes, and both buttons off
// while an answer streams: switching then is refused, the answer would go on in a branch
// nobody sees.

import { useEffect, useRef, useState } from 'react';
import './versions.css';

export interface VersionSwitcherProps {
  /** The message shown, one of `versions`. */
  messageId: string;
  /** Its versions, oldest first. */
  versions: readonly string[];
  /** An answer streams in the conversation. */
  busy: boolean;
  /** Shows another version; resolves to null once shown, else to why not. */
  onSwitch: (messageId: string) => Promise<string | null>;
  /** What the versions are of, for the group's name: "prompt" or "answer". */
  of: string;
}

export function VersionSwitcher({ messageId, versions, busy, onSwitch, of }: VersionSwitcherProps) {
  const index = versions.indexOf(messageId);
  const [error, setError] = useState<string | null>(null);
  const pending = useRef(false);
  const previous = useRef<HTMLButtonElement>(null);
  const next = useRef<HTMLButtonElement>(null);
  const atFirst = index <= 0;
  const atLast = index < 0 || index >= versions.length - 1;

  // A button that turns off under the keyboard (the first or last version reached) hands its focus to the other one.
  useEffect(() => {
    const focused = document.activeElement;
    if (focused === previous.current && atFirst && !atLast) next.current?.focus();
    else if (focused === next.current && atLast && !atFirst) previous.current?.focus();
  }, [atFirst, atLast]);

  if (versions.length < 2 || index < 0) return null;
  const go = (step: -1 | 1) => {
    const target = versions[index + step];
    if (!target || busy || pending.current) return;
    pending.current = true;
    setError(null);
    void onSwitch(target)
      .then((why) => setError(why))
      .finally(() => {
        pending.current = false;
      });
  };
  const waitTitle = busy ? 'Wait for the answer to finish to switch versions' : undefined;
  return (
    <div className="versions" role="group" aria-label={`Versions of this ${of}`} data-versions={`${index + 1}/${versions.length}`}>
      <button type="button" ref={previous} className="version-button" aria-label="Previous version" title={waitTitle ?? 'Previous version'} disabled={busy || atFirst} onClick={() => go(-1)}>
        <span aria-hidden="true">‹</span>
      </button>
      <span className="version-count" aria-live="polite" aria-atomic="true">
        <span aria-hidden="true">
          {index + 1} / {versions.length}
        </span>
        <span className="visually-hidden">
          Version {index + 1} of {versions.length}
        </span>
      </span>
      <button type="button" ref={next} className="version-button" aria-label="Next version" title={waitTitle ?? 'Next version'} disabled={busy || atLast} onClick={() => go(1)}>
        <span aria-hidden="true">›</span>
      </button>
      {error ? (
        <span className="version-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}
