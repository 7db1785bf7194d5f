/**
 * A download that did not end with a model: its message is the whole story in words
 * (what happened, what is left on disk, what to do). Exit code 1; 130 after Ctrl-C.
 */
export class PullFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/** A filesystem error (mkdir, open, write, rename) in words, with the fix where there is one. */
export function fileErrorWords(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk is full (writing ${path})`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied writing ${path}`;
    case 'EROFS':
      return `${path} is on a read-only filesystem`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `${path}: a file is in the way where a directory should be`;
    default:
      return `${path}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
