// Who is signed in, with the way to their own usage and, for an admin, to the admin page
// (docs/ui.md "Who is signed in"). Under the conversations and at the top of Settings.

import type { MeJson } from '../../../../src/shared/team/admin.js';
import { Who } from './Who.js';

export function Account({ me, onUsage, className = 'account' }: { me: MeJson; onUsage(): void; className?: string }) {
  return (
    <div className={className} data-testid="account">
      <Who me={me} />
      <button type="button" className="small-button" aria-haspopup="dialog" onClick={onUsage}>
        Usage
      </button>
      {me.admin ? (
        <a className="small-button" href="/admin">
          Admin page
        </a>
      ) : null}
    </div>
  );
}
