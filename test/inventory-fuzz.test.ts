import t from 'tap';
import fc from 'fast-check';
import { inspect } from 'node:util';
import { validateDevice } from '../src/config/inventory.js';
import { loadConfig } from '../src/config/load.js';
import { isWarmpoolError } from '../src/core/errors.js';

const defaults = loadConfig({ argv: [], env: {} }).defaults;
const SECRET = 'fuzz-SECRET-value-91';

/** Either a DeviceSpec, or a WarmpoolError with the code for the source — never any other exception. */
let accepted = 0;
let rejected = 0;
function check(raw: unknown, source: 'file' | 'api'): void {
  try {
    const spec = validateDevice(raw, defaults, source, 'inventory fuzz.yaml');
    if (JSON.stringify(spec).includes(SECRET) || inspect(spec, { depth: 10 }).includes(SECRET)) throw new Error('secret printed');
    accepted++;
  } catch (err) {
    rejected++;
    if (!isWarmpoolError(err, source === 'api' ? 'INVALID_ARGUMENT' : 'CONFIG_INVALID')) throw err;
    if (err.message.includes(SECRET)) throw new Error(`secret in message: ${err.message}`);
  }
}

const anyValue = fc.oneof(
  fc.anything({ withNullPrototype: true, withObjectString: true, maxDepth: 2 }),
  fc.constantFrom('', '22', 0, -1, 1.5, 65536, 2 ** 31, true, null, [], {}, '([a-z', '.*', 'SHA256:abc', 'https://a:b@h/', 'https://192.0.2.1/x?y#z'),
);

// Mutations of a valid device reach deep into the validator; arbitrary objects probe its edges.
const fieldNames = ['id', 'host', 'port', 'platform', 'mode', 'username', 'password', 'passwordFile', 'privateKey', 'privateKeyFile',
  'passphrase', 'enableSecret', 'hostKey', 'prompt', 'pagingCommand', 'enableCommand', 'labels', 'pool', 'ssh', 'http', '__proto__', 'constructor'];
const valid = {
  id: 'fz-1', host: '192.0.2.1', platform: 'generic', prompt: '[>#]\\s*$', username: 'u', password: SECRET,
  hostKey: { fingerprints: ['SHA256:Ndn2nNQI3C/HRofmkAHuPkHxYutLZVwHJidfQ4IkyLY'] },
  http: { baseUrl: 'https://192.0.2.1', auth: { type: 'basic', username: 'a', password: SECRET } },
};
// The marker value appears only in credential fields, so finding it anywhere in output is a leak.
const secretValue = fc.oneof(fc.constant(SECRET), fc.constant([SECRET]), fc.constant({ v: SECRET }), fc.constant(` ${SECRET}\n`), anyValue);
const secrets = fc.dictionary(fc.constantFrom('password', 'privateKey', 'passphrase', 'enableSecret'), secretValue, { maxKeys: 2 });
const mutated = fc.tuple(
  fc.dictionary(fc.constantFrom(...fieldNames), anyValue, { maxKeys: 2 }),
  secrets,
  fc.option(fc.dictionary(fc.constantFrom('min', 'max', 'idleTimeoutMs', 'baseUrl', 'auth', 'tls', 'type', 'fingerprints', 'acceptAny', 'knownHostsFile', 'x'), anyValue, { maxKeys: 3 }), { nil: undefined }),
  fc.constantFrom('pool', 'ssh', 'http', 'hostKey', 'labels'),
).map(([top, secret, nested, group]) => ({ ...valid, ...top, ...secret, ...(nested === undefined ? {} : { [group]: nested }) }));
// Small valid edits, so accepted specs are checked for leaks too.
const benign = fc.record(
  {
    port: fc.integer({ min: 1, max: 65535 }),
    mode: fc.constantFrom('shell', 'exec'),
    password: fc.constantFrom(SECRET, ` ${SECRET}`),
    enableSecret: fc.constant(SECRET),
    labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), fc.stringMatching(/^[a-z0-9 ]{0,12}$/), { maxKeys: 3 }),
    pool: fc.record({ min: fc.integer({ min: 0, max: 2 }), max: fc.integer({ min: 2, max: 9 }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
).map((edit) => ({ ...valid, ...edit }));

t.test('validateDevice returns a spec or a WarmpoolError for any input, never leaking a secret', async (t) => {
  for (const source of ['file', 'api'] as const) {
    fc.assert(fc.property(fc.oneof(anyValue, fc.object({ maxDepth: 3 }), mutated, benign), (raw) => check(raw, source)), { numRuns: 1000, seed: 20261123 });
  }
  t.equal(accepted + rejected, 2000);
  // Both outcomes must occur, or the generators would be testing only one path.
  t.ok(accepted > 100, `accepted ${accepted}`);
  t.ok(rejected > 20, `rejected ${rejected}`);
});

t.test('the valid base device is accepted, so mutations start from a real spec', async (t) => {
  t.equal(validateDevice(valid, defaults, 'api').id, 'fz-1');
});
