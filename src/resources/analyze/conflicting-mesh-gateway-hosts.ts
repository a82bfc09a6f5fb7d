import type { Analyzer } from './context.js';

export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'several VirtualServices bound to the mesh gateway define one host (IST0109)',
  analyze() {
    // not written yet
  },
};
