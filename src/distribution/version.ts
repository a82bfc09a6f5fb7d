/**
 * Config versions are content hashes: two compilations that produce the same config get the same
 * version, which is how the server knows a change did not affect a proxy and sends it nothing,
 * and how a reconnecting proxy's `lastVersion` can be compared with what it would be sent now.
 * The hash is over the config's resources (resources.ts), so it is the version the push server sends.
 */
import type { ProxyConfig } from '../proxy-config/index.js';
import { configJson, indexConfig } from './resources.js';

export interface VersionedConfig {
  version: string;
  /** The config as JSON, with `version` set to the hash. */
  json: string;
}

/** Whatever `version` the config carries is replaced by the content hash. */
export function versionConfig(config: ProxyConfig): VersionedConfig {
  const index = indexConfig(config);
  return { version: index.version, json: configJson(index) };
}
