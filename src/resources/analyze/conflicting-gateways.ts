import type { Analyzer } from './context.js';

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: 'Gateways with the same selector, port and hosts (IST0145)',
  analyze() {
    // not written yet
  },
};
