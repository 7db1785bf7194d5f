import type { PersonCounts, PersonDeletedJson, PersonExportJson } from '../../shared/team/people.js';

/** Where `jarvis users` reads and deletes a person's data: the database itself, or a running Jarvis. */
export interface PersonSource {
  export(name: string): Promise<PersonExportJson>;
  /** What a delete would remove (a delete without --yes). */
  counts(name: string): Promise<PersonCounts>;
  delete(name: string): Promise<PersonDeletedJson>;
  /** Said after a delete (what this way of deleting could not do). */
  readonly note?: string;
  close(): Promise<void>;
}
