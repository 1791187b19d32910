import t from 'tap';
import fc from 'fast-check';
import { posix } from 'node:path';
import { checkMethod, cleanHeaders, isIdempotent, joinPath } from '../src/drivers/http/url.js';

const base = new URL('https://10.0.0.1/api/');

t.test('joinPath keeps the base path prefix and the query', async (t) => {
  t.equal(joinPath('d', base, '/v1/x'), '/api/v1/x');
  t.equal(joinPath('d', new URL('https://h/api'), '/v1/x?a=1&b=%2F'), '/api/v1/x?a=1&b=%2F');
  t.equal(joinPath('d', new URL('https://h'), '/command-api'), '/command-api');
  t.equal(joinPath('d', new URL('https://h'), '/'), '/');
  t.equal(joinPath('d', base, '/a/b/../c'), '/api/a/c', 'dot segments inside the base are applied before sending (http/path.ts)');
});

t.test('no accepted path escapes the base path, however a server decodes and normalizes it', async (t) => {
  const seg = fc.constantFrom('..', '.', 'a', 'b', '%2e%2e', '%2E%2e', '.%2e', '%2e', 'x%2f..', '..%2f..', '%2f', '%5c..', '', 'c%2Fd');
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.array(seg, { maxLength: 8 }), (segs) => {
      const path = '/' + segs.join('/');
      let out: string;
      try {
        out = joinPath('d', base, path);
      } catch (err) {
        return (err as { code?: string; field?: string }).code === 'INVALID_ARGUMENT' && (err as { field?: string }).field === 'path';
      }
      // The most lenient server: decode everything (%2F and %5C included), then normalize.
      const decoded = decodeURIComponent(out).replace(/\\/g, '/');
      const normalized = posix.normalize(decoded);
      return normalized === '/api' || normalized.startsWith('/api/');
    }),
    { numRuns: 2000 },
  ), 'property held for 2000 generated paths');
});

t.test('method allow-list and idempotency', async (t) => {
  t.equal(checkMethod('d', 'get'), 'GET');
  t.throws(() => checkMethod('d', 'TRACE'), { code: 'INVALID_ARGUMENT', field: 'method', message: /device d: invalid method: "TRACE" is not one of GET HEAD POST PUT PATCH DELETE OPTIONS/ });
  t.same(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'POST', 'PATCH'].map(isIdempotent), [true, true, true, true, true, false, false]);
});

t.test('cleanHeaders drops hop-by-hop, host, content-length and auth-owned headers', async (t) => {
  const out = cleanHeaders('d', {
    Connection: 'close', 'Keep-Alive': '1', 'Transfer-Encoding': 'chunked', Upgrade: 'h2c', Host: 'x', 'Content-Length': '5',
    TE: 'trailers', 'Proxy-Authorization': 'x', Authorization: 'Bearer caller', Cookie: 'a=b', Accept: 'application/json', 'X-Request-Id': '7',
  }, new Set(['authorization', 'cookie']));
  t.same(out, { accept: 'application/json', 'x-request-id': '7' });
  t.same(cleanHeaders('d', { Authorization: 'Bearer caller' }, new Set()), { authorization: 'Bearer caller' }, 'no device auth: the caller may authenticate');
});
