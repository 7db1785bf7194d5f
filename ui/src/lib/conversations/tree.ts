// A conversation's messages as a tree (docs/conversations.md "Branches"): each message names
// the one it follows (`parent_id`), and `current_message_id` is the last message of the
// branch shown. Export version 2 writes the whole tree; Markdown shows the current branch.

export interface TreeMessage {
  id?: string;
  parent_id?: string | null;
}

/** Whether the messages form a tree (every one has an id); a version 1 file's are a plain list. */
export function isTree(messages: readonly TreeMessage[]): boolean {
  return messages.length > 0 && messages.every((m) => typeof m.id === 'string');
}

/**
 * The branch that ends at `currentId` (default: the last message of the list), first to
 * last; a plain list as it is.
 */
export function currentBranch<M extends TreeMessage>(messages: readonly M[], currentId?: string | null): M[] {
  if (!isTree(messages)) return [...messages];
  const byId = new Map(messages.map((m) => [m.id!, m]));
  const branch: M[] = [];
  let at = byId.get(currentId ?? '') ?? messages.at(-1);
  while (at && branch.length <= messages.length) {
    branch.unshift(at);
    at = at.parent_id ? byId.get(at.parent_id) : undefined;
  }
  return branch;
}

/**
 * The messages with every parent before its children, the list's order kept otherwise
 * (null: some messages are their own ancestors).
 */
export function parentsFirst<M extends TreeMessage>(messages: readonly M[]): M[] | null {
  const placed = new Set<string>();
  const out: M[] = [];
  let left = [...messages];
  while (left.length > 0) {
    const next: M[] = [];
    for (const m of left) {
      if (m.parent_id == null || placed.has(m.parent_id)) {
        out.push(m);
        placed.add(m.id!);
      } else {
        next.push(m);
      }
    }
    if (next.length === left.length) return null;
    left = next;
  }
  return out;
}

/** Why a file's tree cannot be imported, in words (null: it can): ids unique, every parent one of them, no cycles. */
export function treeProblem(messages: readonly TreeMessage[], currentId: string | undefined, where: string): string | null {
  const ids = new Set<string>();
  for (const [k, m] of messages.entries()) {
    if (typeof m.id !== 'string' || !m.id) return `${where}, message ${k + 1}: every message of a tree needs an id.`;
    if (ids.has(m.id)) return `${where}, message ${k + 1}: the id "${m.id}" is used twice.`;
    ids.add(m.id);
  }
  for (const [k, m] of messages.entries()) {
    if (m.parent_id != null && !ids.has(m.parent_id)) return `${where}, message ${k + 1}: its parent "${m.parent_id}" is not in the file.`;
  }
  if (!parentsFirst(messages)) return `${where}: some messages are their own ancestors.`;
  if (currentId !== undefined && !ids.has(currentId)) return `${where}: the current message "${currentId}" is not one of its messages.`;
  return null;
}
