import { isLoopbackBind } from '../http/guards/hosts.js';

// When Jarvis asks who is calling (docs/security.md "Who may do what", docs/team.md "3. Keys").

export interface AuthSources {
  /** Keys of JARVIS_API_KEYS and JARVIS_ADMIN_KEYS. */
  envKeys: number;
  /** Stored keys neither revoked nor expired, now. */
  storedKeys: () => number;
  /** Set when an authenticating proxy names the user (JARVIS_TRUSTED_USER_HEADER). */
  trustedUserHeader?: string | undefined;
}

/** Authentication is on when any source of callers exists; with none, Jarvis is open as it always was. */
export function authenticationOn(sources: AuthSources): boolean {
  return sources.envKeys > 0 || sources.storedKeys() > 0 || Boolean(sources.trustedUserHeader);
}

/**
 * Whether a request needs a key right now. On a network address without
 * JARVIS_ALLOW_NO_AUTH, yes even when no key is left (the last stored one revoked or
 * expired): revoking keys must never open a server that started closed.
 */
export class AuthSwitch {
  private readonly closedWithoutKeys: boolean;

  constructor(
    private readonly sources: AuthSources,
    exposure: { host: string; allowNoAuth: boolean },
  ) {
    this.closedWithoutKeys = !isLoopbackBind(exposure.host) && !exposure.allowNoAuth;
  }

  /** Some caller can sign in (a key, a trusted user). */
  on(): boolean {
    return authenticationOn(this.sources);
  }

  /**
   * How many callers may share Jarvis now: the keys, stored and of the environment, and "many"
   * (2) behind a sign-in proxy. What the per-client shares follow (fairShare/perClientShares.ts).
   */
  callers(): number {
    return this.sources.envKeys + this.sources.storedKeys() + (this.sources.trustedUserHeader ? 2 : 0);
  }

  required(): boolean {
    return this.closedWithoutKeys || this.on();
  }
}
