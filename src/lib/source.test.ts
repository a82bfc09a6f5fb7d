import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSource } from './source.js';
import { formatPath } from './field-path.js';

const text = `# comment
apiVersion: v1
kind: Thing
spec:
  http:
  - route:
    - weight: 50
    - weight: "x"
---
{"apiVersion": "v1", "kind": "Json", "spec": {"a": [1, 2]}}
`;

test('maps field paths to 1-based line and column in multi-document YAML and JSON', () => {
  const { documents, problems } = parseSource('f.yaml', text);
  assert.deepEqual(problems, []);
  assert.equal(documents.length, 2);
  const [yamlDoc, jsonDoc] = documents;
  assert.ok(yamlDoc && jsonDoc);
  assert.deepEqual(yamlDoc.start, { line: 2, column: 1 });
  assert.deepEqual(yamlDoc.locate(['spec', 'http', 0, 'route', 1, 'weight']), { line: 8, column: 15 });
  assert.deepEqual(yamlDoc.locate(['spec', 'http', 0, 'route', 1, 'weight'], 'key'), { line: 8, column: 7 });
  // A missing field resolves to the deepest ancestor that exists.
  assert.deepEqual(yamlDoc.locate(['spec', 'http', 0, 'route', 7]), { line: 7, column: 5 });
  assert.deepEqual(jsonDoc.locate(['spec', 'a', 1]), { line: 10, column: 56 });
});

test('reports syntax errors with their position and keeps the good documents', () => {
  const { documents, problems } = parseSource('bad.yaml', 'a: 1\n---\nb: [1,\n---\nc: 3\nc: 4\n');
  assert.equal(documents.length, 1);
  assert.equal(problems.length >= 2, true);
  assert.deepEqual(problems.map((p) => p.line), [4, 6]);
  assert.match(problems.map((p) => p.message).join('\n'), /unique/);
});

test('formats field paths as Istio prints them', () => {
  assert.equal(formatPath(['spec', 'http', 0, 'route', 1, 'weight']), 'spec.http[0].route[1].weight');
  assert.equal(formatPath(['spec', 'http', 0, 'match', 0, 'headers', '@request.auth.claims.groups']), 'spec.http[0].match[0].headers["@request.auth.claims.groups"]');
  assert.equal(formatPath([]), '');
});
