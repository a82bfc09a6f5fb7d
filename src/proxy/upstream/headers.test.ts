import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flattenTrailers, http1RequestHeaders, http2RequestHeaders, responseHeaders } from './headers.js';

test('HTTP/1.1: hop-by-hop and Connection-named headers are dropped, te only as trailers', () => {
  const out = http1RequestHeaders({
    host: 'reviews:9080',
    connection: 'keep-alive, x-hop',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'x-hop': '1',
    te: 'gzip',
    expect: '100-continue',
    'x-request-id': 'abc',
    'set-cookie': ['a=1', 'b=2'],
  });
  assert.deepEqual(out, { host: 'reviews:9080', 'x-request-id': 'abc', 'set-cookie': ['a=1', 'b=2'] });
  assert.deepEqual(http1RequestHeaders({ ':authority': 'a.b', te: 'trailers' }), { te: 'trailers', host: 'a.b' });
});

test('HTTP/2: host becomes :authority and connection headers go', () => {
  const out = http2RequestHeaders('POST', '/pkg.Svc/Call', { host: 'grpc:50051', 'content-type': 'application/grpc', te: 'trailers', connection: 'close', upgrade: 'h2c' });
  assert.deepEqual(out, { ':method': 'POST', ':path': '/pkg.Svc/Call', ':scheme': 'http', ':authority': 'grpc:50051', 'content-type': 'application/grpc', te: 'trailers' });
});

test('response headers lose hop-by-hop and pseudo-headers; trailers flatten', () => {
  assert.deepEqual(responseHeaders({ ':status': '200', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'content-length': '3', 'x-a': undefined }), { 'content-length': '3' });
  assert.deepEqual(flattenTrailers({ 'grpc-status': '0', 'x-multi': ['a', 'b'] }), { 'grpc-status': '0', 'x-multi': 'a, b' });
});
