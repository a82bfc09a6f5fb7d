/** The contract between control plane and proxy: plain, JSON-serialisable config types. */
export type * from './types.js';
