// Who is signed in (docs/ui.md "Who is signed in"): the name Jarvis files this browser's
// conversations and usage under, and an Admin badge for an operator.

import type { MeJson } from '../../../../src/shared/team/admin.js';
import { displayName } from '../../hooks/useMe.js';

const VIA: Record<MeJson['via'], string> = {
  none: 'Jarvis runs without sign-in',
  env_key: 'Signed in with a key from Jarvis’s configuration',
  key: 'Signed in with a key',
  user: 'Signed in through the single sign-on proxy',
};

export function Who({ me }: { me: MeJson }) {
  const how = me.key_name && me.key_name !== me.name ? `${VIA[me.via]} (“${me.key_name}”)` : VIA[me.via];
  return (
    <span className="who" data-testid="who" title={how}>
      <span className="visually-hidden">Signed in as </span>
      <span className="who-name">{displayName(me)}</span>
      {me.admin ? <span className="badge admin-badge">Admin</span> : null}
    </span>
  );
}
