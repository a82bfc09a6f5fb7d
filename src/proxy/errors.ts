/**
 * The typed failures of the request path. Each carries what the client is told (status and
 * body, Envoy's texts exactly) and what the access log says (response flag and code details);
 * rescue.ts is the one place that turns any of them into a response.
 */
export class ProxyError extends Error {
  readonly status: number;
  /** Envoy response flag (NR, NC, FI, ...); empty when the failure has none. */
  readonly flag: string;
  readonly body: string;
  /** Envoy's RESPONSE_CODE_DETAILS. */
  readonly details: string;
  readonly grpcStatus: number | undefined;

  constructor(status: number, flag: string, body: string, details: string, grpcStatus?: number) {
    super(`${status} ${flag || '-'} ${details}`);
    this.status = status;
    this.flag = flag;
    this.body = body;
    this.details = details;
    this.grpcStatus = grpcStatus;
  }
}

/** No virtual host for the Host, or no route in it: 404 with an empty body. */
export class NoRouteError extends ProxyError {
  constructor() {
    super(404, 'NR', '', 'route_not_found');
  }
}

/** The route names a cluster this proxy was not given (a subset no DestinationRule defines). */
export class ClusterNotFoundError extends ProxyError {
  constructor(readonly cluster: string) {
    super(503, 'NC', '', 'cluster_not_found');
  }
}

export class FaultAbortError extends ProxyError {
  constructor(status: number, grpcStatus?: number) {
    super(status, 'FI', 'fault filter abort', 'fault_filter_abort', grpcStatus);
  }
}

/** The path could not be normalized (a `%00` in a dot segment, a bad escape). */
export class PathRejectedError extends ProxyError {
  constructor() {
    super(400, '', '', 'path_normalization_failed');
  }
}

/** Malformed or unsupported request the parser accepted but the proxy will not forward. */
export class BadRequestError extends ProxyError {
  constructor(details: string) {
    super(400, 'DPE', 'Bad Request', details);
  }
}

/** No listener or filter chain serves the request's destination port. */
export class NoFilterChainError extends ProxyError {
  constructor() {
    super(404, 'NR', '', 'filter_chain_not_found');
  }
}

/** REGISTRY_ONLY and the destination is not in the registry: Istio's `block_all` direct 502. */
export class BlockedDestinationError extends ProxyError {
  constructor() {
    super(502, '', '', 'direct_response');
  }
}

/** The client went away (reset, closed mid-body): nothing is sent, the log says DC. */
export class DownstreamGoneError extends ProxyError {
  constructor() {
    super(0, 'DC', '', 'downstream_remote_disconnect');
  }
}

/** HTTP/1.0 (Envoy's accept_http_10 is off in Istio unless PILOT_HTTP10 is set). */
export class UpgradeRequiredError extends ProxyError {
  constructor() {
    super(426, '', '', 'low_version');
  }
}

/** A request the HTTP/1 codec does not implement (a transfer coding other than chunked). */
export class NotImplementedError extends ProxyError {
  constructor(details: string) {
    super(501, 'DPE', 'Not Implemented', details);
  }
}

/** An AuthorizationPolicy denied the request: Envoy RBAC's 403, no response flag, the policy in the details. */
export class AuthzDeniedError extends ProxyError {
  constructor(policy: string) {
    super(403, '', 'RBAC: access denied', `rbac_access_denied_matched_policy[${policy}]`);
  }
}
