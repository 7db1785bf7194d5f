import type { MessagesTable } from '../schema.js';

// A conversation's messages form a tree (docs/conversations.md "Branches"): each message
// knows its parent, an edited prompt or a regenerated answer is a new child of the same
// parent, and the conversation names its current branch by its last message. These are
// the walks over one conversation's rows, read whole (as the linear history was): the
// store loads them once per call and every walk is linear in their number.

type Row = Pick<MessagesTable, 'id' | 'parent_id' | 'position'>;

export class MessageTree<R extends Row> {
  private readonly byId = new Map<string, R>();
  /** Children by parent id ('' for the first messages), oldest first. */
  private readonly children = new Map<string, R[]>();

  /** `rows` in `position` order (the order they were made). */
  constructor(readonly rows: readonly R[]) {
    for (const row of rows) {
      this.byId.set(row.id, row);
      const key = row.parent_id ?? '';
      const list = this.children.get(key);
      if (list) list.push(row);
      else this.children.set(key, [row]);
    }
  }

  get(id: string): R | undefined {
    return this.byId.get(id);
  }

  /** The messages that follow `parentId` (null: the first messages), oldest first. */
  childrenOf(parentId: string | null): R[] {
    return this.children.get(parentId ?? '') ?? [];
  }

  /** The versions of a message: its parent's children, oldest first, itself included. */
  siblingsOf(row: R): R[] {
    return this.children.get(row.parent_id ?? '') ?? [row];
  }

  /** The branch ending at `id`, first to last; [] for null. A missing parent ends the walk (nothing is lost: the rest is shown). */
  pathTo(id: string | null): R[] {
    const path: R[] = [];
    const seen = new Set<string>();
    for (let row = id === null ? undefined : this.byId.get(id); row && !seen.has(row.id); row = row.parent_id === null ? undefined : this.byId.get(row.parent_id)) {
      seen.add(row.id);
      path.push(row);
    }
    return path.reverse();
  }

  /** The last message of the newest branch below `row` (row itself when it has no children): where a switch to it lands. */
  newestLeafUnder(row: R): R {
    let at = row;
    for (let next = this.children.get(at.id)?.at(-1); next; next = this.children.get(at.id)?.at(-1)) at = next;
    return at;
  }

  /** The current branch's last message: the stored one, or (a conversation written before branches kept one) the newest message. */
  currentLeaf(currentId: string | null): R | undefined {
    return (currentId === null ? undefined : this.byId.get(currentId)) ?? this.rows.at(-1);
  }

  /** The next free `position`. */
  nextPosition(): number {
    return (this.rows.at(-1)?.position ?? -1) + 1;
  }
}
