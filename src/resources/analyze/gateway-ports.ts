import type { Analyzer } from './context.js';

export const gatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: 'Gateway selectors match gateway workloads (IST0101) whose Service exposes the server ports (IST0162)',
  analyze() {
    // not written yet
  },
};
