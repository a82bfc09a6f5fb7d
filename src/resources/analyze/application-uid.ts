import type { Analyzer } from './context.js';

export const applicationUidAnalyzer: Analyzer = {
  name: 'deployment.ApplicationUIDAnalyzer',
  description: 'application containers must not run as UID 1337 (IST0144)',
  analyze() {
    // not written yet
  },
};
