/**
 * Proxy credentials: a proxy proves which pod it is, and which identity that pod runs as, with
 * HMAC-SHA256(key, node id + service account), a token the local runtime mints when it starts the
 * proxy (`weft control-plane token NODE_ID --service-account SA`). The node id is
 * `<pod>.<namespace>` and the control plane checks the hello's namespace against it, so a token
 * covers exactly one SPIFFE identity (namespace + service account): the CA signs that and nothing
 * else. The key never leaves the state directory, so a token for one pod is useless for any other,
 * and every replica started on the same state directory accepts the same tokens. Kubernetes will
 * use service account tokens instead; this is the one-machine equivalent.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readOrCreateSecret } from '../lib/secret-file.js';
import { join } from 'node:path';

export const TOKEN_KEY_FILE = 'control-plane-token.key';
const KEY_BYTES = 32;

/** Reads the key, creating it (mode 0600) when missing. Refuses a key others can read. */
export function loadTokenKey(stateDir: string): Buffer {
  const path = join(stateDir, TOKEN_KEY_FILE);
  const text = readOrCreateSecret(path, () => randomBytes(KEY_BYTES).toString('hex') + '\n', 'the proxy token key');
  const key = Buffer.from(text.trim(), 'hex');
  if (key.length < 16) throw new Error(`${path} does not hold a key (expected at least 32 hex digits)`);
  return key;
}

/** Domain separation, so a token can never be confused with another HMAC made with this key. */
const TOKEN_CONTEXT = 'weft proxy token v2';

export function mintToken(key: Buffer, nodeId: string, serviceAccount: string): string {
  // Each field length-prefixed: ('a.b', 'c') and ('a', 'b.c') must not share a token.
  const hmac = createHmac('sha256', key).update(TOKEN_CONTEXT, 'utf8');
  for (const field of [nodeId, serviceAccount]) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length, 0);
    hmac.update(length).update(bytes);
  }
  return hmac.digest('hex');
}

/** Constant-time comparison, so response timing does not reveal how much of a guess was right. */
export function verifyToken(key: Buffer, token: string, nodeId: string, serviceAccount: string): boolean {
  const expected = Buffer.from(mintToken(key, nodeId, serviceAccount), 'hex');
  const given = /^[0-9a-f]{64}$/.test(token) ? Buffer.from(token, 'hex') : Buffer.alloc(0);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
