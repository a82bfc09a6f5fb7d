/** Weft's data plane: the sidecar and gateway proxy (`weft proxy`). */
export { Proxy, type ProxyOptions, type ApplyResult } from './proxy.js';
export { ConfigFile } from './config-source.js';
export { checkProxyConfig, type ConfigCheck } from './config-check.js';
export { DEFAULT_BOOTSTRAP, parseBootstrap, parsePortMap, type Bootstrap } from './bootstrap.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from '../lib/log.js';
export { requestChannel, connectionChannel, configChannel, type RequestEvent, type ConnectionEvent, type ConfigEvent } from './events.js';
export { Upstreams } from './upstream/index.js';
