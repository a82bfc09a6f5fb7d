/** The control plane (`weft control-plane`): wiring of sources, registry, compiler and push server. */
export { ControlPlane, type ControlPlaneOptions, type RejectedChange } from './control-plane.js';
export { startMonitoring, monitoringPort } from './monitoring.js';
export { loadTokenKey, mintToken, verifyToken, TOKEN_KEY_FILE } from './token.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from '../lib/log.js';
export { loadSelfSignedCa, loadPluggedInCa, MAX_WORKLOAD_CERT_TTL_MS } from '../ca/index.js';
export { meshRootCert } from './mesh-root.js';
export { servingNames, type ServingNames } from './serving-certificate.js';
export { watchCaFiles, type CaFilesOptions } from './certificates-watch.js';
