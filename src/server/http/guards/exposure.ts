import type { Config } from '../../../config.js';
import { ConfigError } from '../../../config.js';
import { isLoopbackBind } from './hosts.js';

/**
 * What the operator must know about how exposed this configuration is. Listening
 * beyond loopback with no keys would hand the model to anyone on the network, so it
 * is refused unless JARVIS_ALLOW_NO_AUTH=1 says it is meant (then it is a warning,
 * repeated in the log, `/health` and the web UI). `authOn`: some caller can sign in
 * (environment keys, a stored key that is active, trusted users: auth/authSwitch.ts),
 * known once the store is open.
 */
export function exposureWarnings(config: Config, authOn: boolean = config.apiKeys.length > 0 || config.trustedUsers !== undefined): string[] {
  const warnings: string[] = [];
  const exposed = !isLoopbackBind(config.host);
  if (exposed && !authOn) {
    if (!config.allowNoAuth) {
      throw new ConfigError(
        `refusing to listen on HOST=${config.host} without API keys: anyone who can reach this machine could use Jarvis. ` +
          'Set JARVIS_API_KEYS=name:key (see docs/security.md), or create a key in the database with `jarvis keys create --name NAME --role admin` (docs/team.md), or listen on 127.0.0.1, ' +
          'or set JARVIS_ALLOW_NO_AUTH=1 if the network in front of Jarvis already restricts who reaches it.',
      );
    }
    warnings.push(`Jarvis listens on ${config.host} without API keys (JARVIS_ALLOW_NO_AUTH=1): anyone who can reach it can use it.`);
  }
  if (config.allowedHosts.includes('*')) warnings.push('JARVIS_ALLOWED_HOSTS=* turns off the Host check that stops DNS rebinding.');
  if (config.allowedOrigins.includes('*')) warnings.push('JARVIS_ALLOWED_ORIGINS=* lets any web page the user visits call Jarvis.');
  return warnings;
}
