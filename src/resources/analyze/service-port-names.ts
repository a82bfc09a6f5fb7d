import type { Analyzer } from './context.js';

export const servicePortNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Service port names follow the protocol naming convention (IST0118, IST0150)',
  analyze() {
    // not written yet
  },
};
