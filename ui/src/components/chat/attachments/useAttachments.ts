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
  const held = useRef(files);
  held.current = files;

  const add = useCallback((list: File[]) => {
    if (list.length === 0) return;
    setReading((n) => n + 1);
    void readFiles(list, held.current)
      .then(({ added, problem: broken }) => {
        setFiles((now) => [...now, ...added]);
        setProblem(broken);
      })
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
      setFiles((now) => now.filter((f) => f.key !== key));
      setProblem(null);
    },
    clear: () => {
      setFiles([]);
      setProblem(null);
    },
    setProblem,
  };
}
