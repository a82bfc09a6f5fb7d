/** Config sources: where the control plane's resources come from, each change all-or-nothing. */
export type { ConfigSource, SourceEvent } from './source.js';
export { FileSource, type FileSourceOptions } from './files.js';
