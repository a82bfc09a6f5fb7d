/**
 * The ext_authz outcomes that end a request: the provider's own denial (its status, body and
 * allowed headers), a failed check (`statusOnError`, empty body), and a body too large to
 * buffer. All carry Envoy's UAEX response flag (UnauthorizedExternalService) except the 413.
 */
import { ProxyError } from '../errors.js';

export class ExtAuthzDeniedError extends ProxyError {
  /** Sent with the reply (handler.ts copies an error's `headers`). */
  readonly headers: Record<string, string>;

  constructor(status: number, body: string, headers: Record<string, string>) {
    super(status, 'UAEX', body, 'ext_authz_denied');
    this.headers = headers;
  }
}

export class ExtAuthzFailedError extends ProxyError {
  constructor(status: number) {
    super(status, 'UAEX', '', 'ext_authz_error');
  }
}

/** includeRequestBodyInCheck without allowPartialMessage and a longer body: Envoy's 413. */
export class ExtAuthzBodyTooLargeError extends ProxyError {
  constructor() {
    super(413, '', 'Payload Too Large', 'request_payload_too_large');
  }
}
