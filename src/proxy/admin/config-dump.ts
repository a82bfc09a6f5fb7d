/**
 * `/config_dump`: the applied config as the proxy holds it, with secret material printed as
 * `[redacted]` (Envoy Gateway's PrivateBytes), so a dump can be pasted into an issue.
 */
import type { ProxyConfig, Secret } from '../../proxy-config/index.js';

export const REDACTED = '[redacted]';

export function redactConfig(config: ProxyConfig): ProxyConfig {
  return { ...config, secrets: config.secrets.map(redactSecret) };
}

function redactSecret(s: Secret): Secret {
  const out: Secret = { ...s };
  if (s.certificateChain !== undefined) out.certificateChain = REDACTED;
  if (s.privateKey !== undefined) out.privateKey = REDACTED;
  if (s.trustedCa !== undefined) out.trustedCa = REDACTED;
  return out;
}
