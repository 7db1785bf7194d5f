import type { FastifyInstance } from 'fastify';
import type { PersonDeletedJson, PersonExportJson } from '../../shared/team/people.js';
import { userNameProblem } from '../../trustedUsers.js';
import type { JarvisContext } from '../context.js';
import { HttpError } from '../errors.js';
import { principalOf } from '../http/guards/principal.js';
import { storeCall } from '../storeErrors.js';
import { deletePerson, exportPerson } from './personData.js';

// A person's data through a running Jarvis (docs/team.md "7. A person's data: export and delete",
// docs/api.md "A person's data"): what `jarvis users export|delete --url` calls. Admins only.
// A person is an owner: a user name the sign-in proxy sends, an env key's name, a stored key's owner.

type Params = { Params: { name: string } };
type PeopleContext = Pick<JarvisContext, 'store' | 'log' | 'registry' | 'clusterStreams' | 'conversationFeed' | 'keys' | 'usage'>;

export function peopleRoutes(app: FastifyInstance, ctx: PeopleContext): void {
  app.get<Params>('/v1/admin/users/:name/export', { config: { access: 'admin' } }, async (request): Promise<PersonExportJson> => {
    const name = personName(request.params.name);
    // This instance's last requests are in the record before it is read.
    await ctx.usage.flush();
    const data = await storeCall(exportPerson(ctx.store, name));
    ctx.log.info('user_exported', { user: name, by: principalOf(request)?.keyName, ...data.counts });
    return data;
  });

  app.delete<Params>('/v1/admin/users/:name', { config: { access: 'admin' } }, async (request): Promise<PersonDeletedJson> => {
    const name = personName(request.params.name);
    // Their answers stop first: an answer still streaming would write into a deleted conversation,
    // or a background response would be stored again after its row went.
    const streamsStopped = await stopStreamsOf(ctx, name);
    // Their usage this instance holds is written first, or it would come back after the delete.
    await ctx.usage.flush();
    const deleted = await storeCall(
      deletePerson(ctx.store, name, {
        // Every instance refuses their keys at once (the others also see the change at their next look).
        keysRevoked: (keys) => keys.forEach((key) => ctx.keys.changed(key)),
        // Their open tabs drop the conversation at once, as after a delete of their own.
        conversationDeleted: (id) => ctx.conversationFeed.publish(name, { type: 'conversation', op: 'deleted', conversation_id: id }),
      }),
    );
    ctx.log.info('user_deleted', { user: name, by: principalOf(request)?.keyName, streams_stopped: streamsStopped, ...deleted });
    return { object: 'person_deleted', name, streams_stopped: streamsStopped, deleted };
  });
}

/** The path's name, decoded by the router; a name no sign-in or key could have is a 400 in words. */
function personName(raw: string): string {
  const name = raw.trim();
  const problem = userNameProblem(name);
  if (problem) throw new HttpError('invalid_request', `the user name ${problem} (a person is the name their sign-in proxy sends, or their key's owner)`);
  return name;
}

/** Stops every session of `owner` that streams, on this instance and (cluster mode) on the others; returns how many. */
async function stopStreamsOf(ctx: PeopleContext, owner: string): Promise<number> {
  const sessions = new Set(ctx.registry.list(owner).map((s) => s.sessionId));
  if (ctx.clusterStreams) {
    for (const row of await ctx.clusterStreams()) if (row.key === owner) sessions.add(row.session_id);
  }
  let stopped = 0;
  for (const session of sessions) if (await ctx.registry.stop(owner, session, 'stopped')) stopped++;
  return stopped;
}
