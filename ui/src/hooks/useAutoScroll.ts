// Follows a growing answer down the page, but only while the reader is at the bottom:
// scrolling up to read something stops the following until they come back down.

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

/** Within this many pixels of the bottom counts as "at the bottom". */
const STICK_PX = 48;

/** `content` changes whenever the messages grow; `resetKey` (the conversation) jumps to the end. */
export function useAutoScroll<T extends HTMLElement>(content: unknown, resetKey: unknown) {
  const ref = useRef<T | null>(null);
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(true);
  // The content height at the last render: where "the bottom" was before this growth.
  const lastHeight = useRef(0);

  const follow = useCallback((value: boolean) => {
    followingRef.current = value;
    setFollowing(value);
  }, []);

  // Following whenever the reader is at the bottom, or there is nothing to scroll (then
  // "↓ Latest" would lead nowhere: content that shrank, a window that grew).
  const onScroll = useCallback(() => {
    const el = ref.current;
    if (el) follow(distanceToBottom(el) <= STICK_PX);
  }, [follow]);

  const scrollToBottom = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    follow(true);
  }, [follow]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
    follow(true);
  }, [resetKey, follow]);

  // After each render that changed the content, before paint. The reader's own scroll
  // may not have produced its scroll event yet, so check where they are against where
  // the bottom was: if they moved up, stop following instead of yanking them back.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (followingRef.current) {
      const wasAtBottom = el.scrollTop + el.clientHeight >= lastHeight.current - STICK_PX;
      if (wasAtBottom || distanceToBottom(el) <= STICK_PX) el.scrollTop = el.scrollHeight;
      else follow(false);
    }
    lastHeight.current = el.scrollHeight;
  }, [content, follow]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.addEventListener('scroll', onScroll, { passive: true });
    // A resize (window, banner, composer growing) can bring the bottom into view without a scroll event.
    const resized = typeof ResizeObserver === 'function' ? new ResizeObserver(() => !followingRef.current && onScroll()) : undefined;
    resized?.observe(el);
    if (el.firstElementChild) resized?.observe(el.firstElementChild);
    return () => {
      el.removeEventListener('scroll', onScroll);
      resized?.disconnect();
    };
  }, [onScroll]);

  return { ref, following, scrollToBottom };
}

function distanceToBottom(el: HTMLElement): number {
  return el.scrollHeight - el.scrollTop - el.clientHeight;
}
