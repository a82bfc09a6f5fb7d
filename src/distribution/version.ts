/**
 * Config versions are content hashes: two compilations that produce the same config get the same
 * version, which is how the server knows a change did not affect a proxy and sends it nothing,
 * and how a reconnecting proxy's `lastVersion` can be compared with what it would be sent now.
 */
import { createHash } from 'node:crypto';
import type { ProxyConfig } from '../proxy-config/index.js';
import { frameJson } from './protocol.js';

export interface VersionedConfig {
  version: string;
  /** The config as JSON, with `version` set to the hash. */
  json: string;
}

/**
 * Hashes the config without its own `version` field (whatever the compiler put there is
 * replaced). JSON.stringify keeps insertion order, which is stable because the compiler is a pure,
 * deterministic function; a reordering would at worst cause one needless push, never a missed one.
 * The config is serialised once: the text that is hashed is the text that is sent.
 */
export function versionConfig(config: ProxyConfig): VersionedConfig {
  const { version: _replaced, ...content } = config;
  const body = JSON.stringify(content);
  const version = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const json = body === '{}' ? `{"version":"${version}"}` : `{"version":"${version}",${body.slice(1)}`;
  return { version, json };
}

/** The `config` message for one push, built around the already-serialised config. */
export function configFrame(config: VersionedConfig, nonce: string, maxBytes: number): Buffer {
  return frameJson(`{"type":"config","version":${JSON.stringify(config.version)},"nonce":${JSON.stringify(nonce)},"config":${config.json}}`, maxBytes);
}
