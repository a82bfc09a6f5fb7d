/** `weft analyze` as a user runs it: the real CLI in a child process, its output and exit code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoPath, sharedPath } from '../../lib/repo.js';

// The CLI compiled beside this test (bin/weft.js loads the same file from dist/).
const main = fileURLToPath(new URL('../main.js', import.meta.url));

function weft(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', cwd: repoPath() });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("the seed's HTTPS Gateway without tls fails with file, line, field path and the missing TLS settings", () => {
  const file = sharedPath('seed-configs', '03-gateway-https.yaml');
  const { code, stdout } = weft('analyze', '-f', file);
  assert.equal(code, 1);
  assert.match(stdout, /^Error \[IST0106\] \(Gateway istio-system\/default-gateway .*03-gateway-https\.yaml:12:7\) spec\.servers\[0\]: Schema validation error: server must have TLS settings for HTTPS\/TLS protocols/m);
});

test('the bookinfo samples with a bookinfo platform analyze without errors (exit 0)', () => {
  const { code, stdout } = weft('analyze', '-f', repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml'), '-f', sharedPath('istio-samples', 'bookinfo-networking'));
  assert.equal(code, 0, stdout);
  assert.doesNotMatch(stdout, /^Error/m);
});

test('-o json gives code, level, origin, message and the reference with file, line, column and path', () => {
  const { code, stdout } = weft('analyze', sharedPath('seed-configs', '03-gateway-https.yaml'), '-o', 'json');
  assert.equal(code, 1);
  const messages = JSON.parse(stdout) as { code: string; level: string; origin: string; message: string; reference: { file: string; line: number; column: number; path: string } }[];
  assert.equal(messages.length, 1);
  const [m] = messages;
  assert.equal(m?.code, 'IST0106');
  assert.equal(m?.level, 'Error');
  assert.equal(m?.origin, 'Gateway istio-system/default-gateway');
  assert.deepEqual({ line: m?.reference.line, column: m?.reference.column, path: m?.reference.path }, { line: 12, column: 7, path: 'spec.servers[0]' });
});

test('warnings fail only with --fail-on warning; --output-threshold hides lower levels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-analyze-'));
  try {
    const file = join(dir, 'vs.yaml');
    // Istio warns (IST0130) that a rule after a catch-all rule is never used.
    writeFileSync(file, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews.example.com]
  http:
  - route:
    - destination: {host: reviews.example.com}
  - route:
    - destination: {host: reviews.example.com}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: reviews
spec:
  hosts: [reviews.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`);
    const plain = weft('analyze', '-f', file);
    assert.equal(plain.code, 0, plain.stdout);
    assert.match(plain.stdout, /^Warning \[IST0130\] \(VirtualService default\/reviews .*vs\.yaml:10:\d+\) spec\.http\[1\]/m);
    const strict = weft('analyze', '-f', file, '--fail-on', 'warning');
    assert.equal(strict.code, 1);
    const quiet = weft('analyze', '-f', file, '--output-threshold', 'error');
    assert.equal(quiet.code, 0);
    assert.match(quiet.stdout, /No validation issues/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that does not exist is an error naming it', () => {
  const { code, stderr } = weft('analyze', '-f', '/nonexistent/weft.yaml');
  assert.equal(code, 1);
  assert.match(stderr, /nonexistent\/weft\.yaml/);
});
