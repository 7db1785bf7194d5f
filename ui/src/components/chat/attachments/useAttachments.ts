// The composer's attached files: added from the picker, a paste or a drop (anywhere on the
// page: a file dropped beside the composer must not make the browser open it instead),
// removed one by one, cleared once sent.

import { useCallback, useEffect, useRef, useState } from 'react';
import { readFiles, type PendingFile } from './readFiles.js';

export interface Attachments {
  files: PendingFile[];
  /** The last limit a file broke, in words; null when none. */
  problem: string | null;
  reading: boolean;
  /** A file is dragged over the page. */
  dragging: boolean;
  add(files: File[]): void;
  remove(key: string): void;
  clear(): void;
  setProblem(problem: string | null): void;
}

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');

export function useAttachments(): Attachments {
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [reading, setReading] = useState(0);
  const [dragging, setDragging] = useState(false);
  // Reads run one after another, each after the files the previous one added: a paste right
  // after a pick must count them against the limits and must not reuse their names.
  const held = useRef<PendingFile[]>([]);
  const reads = useRef<Promise<void>>(Promise.resolve());
  const hold = (next: PendingFile[]) => {
    held.current = next;
    setFiles(next);
  };

  const add = useCallback((list: File[]) => {
    if (list.length === 0) return;
    setReading((n) => n + 1);
    reads.current = reads.current
      .then(async () => {
        const { added, problem: broken } = await readFiles(list, held.current);
        hold([...held.current, ...added]);
        setProblem(broken);
      })
      .catch(() => setProblem('The files could not be read.'))
      .finally(() => setReading((n) => n - 1));
  }, []);

  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      setDragging(false);
      add(Array.from(e.dataTransfer?.files ?? []));
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [add]);

  return {
    files,
    problem,
    reading: reading > 0,
    dragging,
    add,
    remove: (key) => {
      hold(held.current.filter((f) => f.key !== key));
      setProblem(null);
    },
    clear: () => {
      hold([]);
      setProblem(null);
    },
    setProblem,
  };
}
