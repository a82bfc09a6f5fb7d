import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKEN_KEY_FILE, loadTokenKey, mintToken, verifyToken } from './token.js';

function stateDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the key is created once with mode 0600 and reused by later loads (every replica accepts the same tokens)', (t) => {
  const dir = stateDir(t);
  const key = loadTokenKey(dir);
  assert.equal(statSync(join(dir, TOKEN_KEY_FILE)).mode & 0o777, 0o600);
  assert.deepEqual(loadTokenKey(dir), key);
  assert.equal(readFileSync(join(dir, TOKEN_KEY_FILE), 'utf8').trim().length, 64);
});

test('a token is valid for its own node id and service account only', (t) => {
  const key = loadTokenKey(stateDir(t));
  const token = mintToken(key, 'reviews-v1-0.default', 'bookinfo-reviews');
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(verifyToken(key, token, 'reviews-v1-0.default', 'bookinfo-reviews'), true);
  assert.equal(verifyToken(key, token, 'ratings-v1-0.default', 'bookinfo-reviews'), false);
  assert.equal(verifyToken(key, token, 'reviews-v1-0.default', 'default'), false);
  assert.equal(verifyToken(key, token.slice(0, 63), 'reviews-v1-0.default', 'bookinfo-reviews'), false);
  assert.equal(verifyToken(key, '', 'reviews-v1-0.default', 'bookinfo-reviews'), false);
  assert.equal(verifyToken(key, token.toUpperCase(), 'reviews-v1-0.default', 'bookinfo-reviews'), false);
});

test('the encoding is unambiguous: moving bytes between node id and service account changes the token', (t) => {
  const key = loadTokenKey(stateDir(t));
  assert.notEqual(mintToken(key, 'a.b', 'c'), mintToken(key, 'a', '.bc'));
  assert.notEqual(mintToken(key, 'a.b', ''), mintToken(key, 'a.', 'b'));
  assert.equal(verifyToken(key, mintToken(key, 'pod.ns', 'sa'), 'pod.nss', 'a'), false);
});

test('a token minted with another state directory\'s key is refused', (t) => {
  const a = loadTokenKey(stateDir(t));
  const b = loadTokenKey(stateDir(t));
  assert.equal(verifyToken(b, mintToken(a, 'ingress.istio-system', 'default'), 'ingress.istio-system', 'default'), false);
});

test('a key file others can read is refused rather than used', (t) => {
  const dir = stateDir(t);
  loadTokenKey(dir);
  chmodSync(join(dir, TOKEN_KEY_FILE), 0o644);
  assert.throws(() => loadTokenKey(dir), /readable by other users.*0600/);
});
