/**
 * HTTP/2 PING keepalive, as gRPC's keepalive does for istiod and Envoy: a peer whose machine died
 * or whose network was cut never closes its TCP connection, so without pings a proxy would sit on
 * a dead stream (never failing over) and the server would list a ghost proxy.
 * Client-safe: node built-ins only.
 */
import type { Http2Session } from 'node:http2';
import type { CancelTimer, SetTimer } from './clock.js';

/**
 * Pings every `intervalMs`; a ping still unanswered at the next tick means the peer is gone and
 * `onDead` is called once. Returns a function that stops the pings. `intervalMs` 0 disables.
 */
export function keepAlive(session: Http2Session, intervalMs: number, setTimer: SetTimer, onDead: (reason: string) => void): CancelTimer {
  if (intervalMs <= 0) return () => {};
  let outstanding = false;
  let cancel: CancelTimer = () => {};
  let stopped = false;
  const tick = (): void => {
    if (stopped || session.destroyed) return;
    if (outstanding) {
      stopped = true;
      onDead(`no keepalive response within ${intervalMs} ms`);
      return;
    }
    outstanding = true;
    try {
      // false: too many pings in flight on a session shared by several streams; theirs will tell.
      if (!session.ping((error) => error || (outstanding = false))) outstanding = false;
    } catch {
      outstanding = false;
    }
    cancel = setTimer(tick, intervalMs);
  };
  cancel = setTimer(tick, intervalMs);
  return () => {
    stopped = true;
    cancel();
  };
}
