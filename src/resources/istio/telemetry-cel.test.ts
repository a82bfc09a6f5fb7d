/**
 * CEL in Telemetry is checked with the parser proxies evaluate with: an access-log filter or a
 * metric tag value that does not parse is an error naming the file, line and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';

function errors(spec: string): string[] {
  const r = loadResources([{ file: 'telemetry.yaml', text: `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t, namespace: default}\nspec:\n${spec}` }]);
  return r.diagnostics.filter((d) => d.level === 'Error').map((d) => `${d.location?.file}:${d.location?.line} ${d.location?.path}: ${d.message.replace(/^Schema validation error: /, '')}`);
}

test('documented expressions parse', () => {
  assert.deepEqual(errors(`  accessLogging:
  - providers: [{name: envoy}]
    filter: {expression: "response.code >= 400 || request.headers['x-debug'] == 'on' && !connection.mtls"}
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNT}
      tagOverrides:
        destination_port: {value: string(destination.port)}
        user: {value: "has(request.headers.user) ? request.headers['user'] : 'none'"}
        team: {value: "'bookstore'"}
`), []);
});

test('an expression the token check lets through but CEL does not parse is an error at its field', () => {
  const got = errors(`  accessLogging:
  - providers: [{name: envoy}]
    filter: {expression: "response.code 400"}
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNT}
      tagOverrides:
        user: {value: "request.headers['user'"}
`);
  assert.equal(got.length, 2, got.join('\n'));
  assert.match(got.find((e) => e.includes('accessLogging')) ?? '', /^telemetry\.yaml:7 spec\.accessLogging\[0\]\.filter\.expression: must be a valid CEL expression, /);
  assert.match(got.find((e) => e.includes('metrics')) ?? '', /^telemetry\.yaml:12 spec\.metrics\[0\]\.overrides\[0\]\.tagOverrides\.user\.value: must be a valid CEL expression, /);
});
