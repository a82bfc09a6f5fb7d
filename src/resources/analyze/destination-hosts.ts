import type { Analyzer } from './context.js';

export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'VirtualService destinations name existing hosts (IST0101) and a port when the service has several (IST0112)',
  analyze() {
    // not written yet
  },
};
