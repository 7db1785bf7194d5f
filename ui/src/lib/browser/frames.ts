// The chat core's notification scheduler in the browser (docs/ui.md "Fast models"): the
// tokens of a fast model are rendered once per frame, however many arrive in it. A hidden
// tab gets no animation frames, so a timer flushes too: its state stays current to the DOM.

import type { NotifyScheduler } from '../../../../src/client/chat/chatSession.js';

/** The longest a change waits for its render when no frame comes (a hidden tab). */
const AT_MOST_MS = 100;

export const frameScheduler: NotifyScheduler = (flush) => {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    if (frame !== null) cancelAnimationFrame(frame);
    clearTimeout(timer);
    flush();
  };
  const frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(once) : null;
  const timer = setTimeout(once, AT_MOST_MS);
};
