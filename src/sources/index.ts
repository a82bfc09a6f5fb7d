/** Config sources: where the control plane's resources come from, each change all-or-nothing. */
export type { ConfigSource, SourceEvent } from './source.js';
export { FileSource, type FileSourceOptions } from './files.js';
// The Kubernetes source is imported from './kubernetes/index.js' by `weft control-plane
// --kubernetes` alone, so nothing else (the local runtime above all) loads it; types only here.
export type { KubernetesSourceOptions, Connection, ConnectionOptions } from './kubernetes/index.js';
