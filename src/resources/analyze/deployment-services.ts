import type { Analyzer } from './context.js';

export const deploymentServiceAnalyzer: Analyzer = {
  name: 'deployment.ServiceAssociationAnalyzer',
  description: 'a Deployment selected by several Services with conflicting ports or protocols (IST0116, IST0137)',
  analyze() {
    // not written yet
  },
};
