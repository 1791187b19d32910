/**
 * The inventory file's `bastions:` list and the devices' `via:` (src/config/bastion.ts): every
 * mistake is refused with a message naming the entry and the key, never a secret.
 */
import t from 'tap';
import { parseInventoryDocument } from '../src/config/inventory.js';
import { loadConfig } from '../src/config/load.js';
import { WarmpoolError } from '../src/core/errors.js';

const defaults = loadConfig({ argv: [], env: {} }).defaults;
const FP = 'SHA256:' + 'A'.repeat(43);
const SECRET = 'hunter2-bastion-secret';

function bastion(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'jump1', host: '10.1.0.5', username: 'jump', password: SECRET, hostKey: { fingerprints: [FP] }, ...over };
}
function device(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'sw1', host: '10.0.0.1', platform: 'cisco_ios', username: 'u', password: 'p', hostKey: { acceptAny: true }, ...over };
}
function parse(doc: unknown) {
  return parseInventoryDocument(JSON.stringify(doc), 'inv.json', defaults);
}
function rejection(fn: () => unknown): WarmpoolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WarmpoolError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

t.test('bastions and via parse into specs with defaults', async (t) => {
  const inv = parse({ bastions: [bastion(), bastion({ id: 'jump2', via: 'jump1', maxConnections: 2, maxChannelsPerConnection: 10, ssh: { connectTimeoutMs: 3000 } })], devices: [device({ via: 'jump2' }), device({ id: 'sw2' })] });
  t.match(inv.bastions[0], { id: 'jump1', port: 22, maxConnections: 1, maxChannelsPerConnection: 64, idleTimeoutMs: defaults.pool.idleTimeoutMs });
  t.match(inv.bastions[1], { id: 'jump2', via: 'jump1', maxConnections: 2, maxChannelsPerConnection: 10, ssh: { connectTimeoutMs: 3000, keepaliveIntervalMs: defaults.ssh.keepaliveIntervalMs } });
  t.equal(inv.devices[0]!.via, 'jump2');
  t.equal(inv.devices[1]!.via, undefined);
  t.same(parse({ devices: [] }).bastions, [], 'no bastions: list is no bastions');
});

t.test('mistakes are refused naming the entry and the key, never the secret', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ devices: [device({ via: 'jumpx' })], bastions: [bastion()] }, /inv\.json: device "sw1": via: unknown bastion "jumpx" \(did you mean "jump1"\?\); known bastions: jump1/],
    [{ devices: [device({ via: 'jump1' })] }, /device "sw1": via: unknown bastion "jump1"; the file defines no bastions/],
    [{ devices: [], bastions: [bastion({ via: 'jump2' }), bastion({ id: 'jump2', via: 'jump1' })] }, /bastion "jump1": via: bastions form a cycle: jump1 -> jump2 -> jump1/],
    [{ devices: [], bastions: [bastion({ via: 'jump1' })] }, /bastion "jump1": via: names the bastion itself/],
    [{ devices: [], bastions: [bastion({ via: 'nowhere' })] }, /bastion "jump1": via: unknown bastion "nowhere"/],
    [{ devices: [], bastions: [bastion(), bastion()] }, /bastions\[1\]\.id: duplicate id "jump1" \(first used by bastions\[0\]\)/],
    [{ devices: [], bastions: [bastion({ hots: 'x' })] }, /bastion "jump1": hots: unknown field \(did you mean "host"\?\)/],
    [{ devices: [], bastions: [bastion({ ssh: { commandTimeoutMs: 5 } })] }, /bastion "jump1": ssh\.commandTimeoutMs: unknown field.*a bastion takes ssh\.connectTimeoutMs/],
    [{ devices: [], bastions: [bastion({ hostKey: undefined })] }, /bastion "jump1": hostKey: is required/],
    [{ devices: [], bastions: [bastion({ password: undefined })] }, /bastion "jump1": password: a credential is required/],
    [{ devices: [], bastions: [bastion({ maxConnections: 0 })] }, /bastion "jump1": maxConnections: must be an integer >= 1/],
    [{ devices: [], bastions: [{ host: 'x' }] }, /bastions\[0\]: id: is required/],
    [{ devices: [], bastions: {} }, /bastions: must be a list of bastions/],
    [{ devices: [], bastion: [] }, /bastion: unknown key \(did you mean "bastions"\?\)/],
    [{ devices: [device({ via: 'bad id!' })], bastions: [] }, /device "sw1": via: must be a bastion id/],
  ];
  for (const [doc, re] of cases) {
    const err = rejection(() => parse(doc));
    t.equal(err.code, 'CONFIG_INVALID');
    t.match(err.message, re);
    t.notMatch(err.message, SECRET);
  }
  const deep = Array.from({ length: 10 }, (_, i) => bastion({ id: `b${i}`, ...(i > 0 ? { via: `b${i - 1}` } : {}) }));
  t.match(rejection(() => parse({ devices: [], bastions: deep })).message, /chain is longer than 8 bastions/);
});
