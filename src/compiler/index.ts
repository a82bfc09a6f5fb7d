/** The compiler's public surface: index once per change, then compile per proxy (pure, deterministic). */
export { buildSnapshot, type Snapshot } from './snapshot.js';
export { compileProxyConfig, contentVersion } from './compile.js';
export { proxyNodeFor, proxyRoleOf } from './proxy-node.js';
export { simulate, type SimulatedRequest, type SimulationResult } from './simulate.js';
export { describeChange, isEmptyChange, proxyAffected, type ConfigChange } from './dependencies.js';
