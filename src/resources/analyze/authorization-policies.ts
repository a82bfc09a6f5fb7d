import type { Analyzer } from './context.js';

export const authorizationPolicyAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'AuthorizationPolicies match workloads (IST0127) and name existing namespaces (IST0101)',
  analyze() {
    // not written yet
  },
};
