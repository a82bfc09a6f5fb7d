/**
 * meshConfig.extensionProviders that CUSTOM AuthorizationPolicies name (Istio's
 * EnvoyExternalAuthorizationHttpProvider and ...GrpcProvider), kept as the mesh config gave them:
 * the compiler resolves the service to a cluster per proxy and reports what it cannot use.
 */
import type { ResourceOf } from '../resources/index.js';

type ExtensionProvider = NonNullable<NonNullable<ResourceOf<'IstioOperator'>['spec']['meshConfig']>['extensionProviders']>[number];

type HttpProvider = NonNullable<ExtensionProvider['envoyExtAuthzHttp']>;
type GrpcProvider = NonNullable<ExtensionProvider['envoyExtAuthzGrpc']>;

export type AuthzProviderOption =
  | { kind: 'http'; index: number; spec: HttpProvider }
  | { kind: 'grpc'; index: number; spec: GrpcProvider }
  /** A name used twice: Istio rejects the provider list ("extension provider name must be unique"). */
  | { kind: 'duplicate'; index: number };

/** The ext_authz providers of one meshConfig, added to (and overriding by name) `into`. */
export function authzProviders(providers: readonly ExtensionProvider[] | undefined, into: Record<string, AuthzProviderOption>): void {
  const seen = new Set<string>();
  (providers ?? []).forEach((p, index) => {
    if (seen.has(p.name)) {
      into[p.name] = { kind: 'duplicate', index };
      return;
    }
    seen.add(p.name);
    if (p.envoyExtAuthzHttp) into[p.name] = { kind: 'http', index, spec: p.envoyExtAuthzHttp };
    else if (p.envoyExtAuthzGrpc) into[p.name] = { kind: 'grpc', index, spec: p.envoyExtAuthzGrpc };
    else delete into[p.name];
  });
}
