import type { Analyzer } from './context.js';

export const serviceEntryProtocolAnalyzer: Analyzer = {
  name: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  description: 'ServiceEntries defining one host and port with different protocols (IST0177)',
  analyze() {
    // not written yet
  },
};
