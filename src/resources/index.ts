/** The resource model's public surface: load and validate files, analyze across resources. */
export { loadResources, type LoadResult, type SourceText, type LoadOptions } from './load.js';
export { readSources } from './files.js';
export { analyzeResources, ANALYZERS, type AnalyzeOptions } from './analyze/index.js';
export { KINDS, findKind, type AnyResource, type KindName, type KindSpecs, type ResourceOf } from './kinds.js';
export type { Resource, ResourceMeta, SourceRef } from './resource.js';
export { Messages, formatMessage, type MessageType } from './messages.js';
export { resolveHost, hostCovers, hostsIntersect } from './hosts.js';
