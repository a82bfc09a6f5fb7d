import type { Analyzer } from './context.js';

export const serviceEntryAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.ProtocolAddressesAnalyzer',
  description: 'ServiceEntry TCP ports need addresses (IST0134)',
  analyze() {
    // not written yet
  },
};
