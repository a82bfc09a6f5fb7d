import type { Analyzer } from './context.js';

export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'JWT claim routing needs a RequestAuthentication on the gateway pods (IST0149)',
  analyze() {
    // not written yet
  },
};
