import t from 'tap';
import { validateDevice } from '../src/config/inventory.js';
import { loadConfig } from '../src/config/load.js';
import { DEVICE_FIELDS } from '../src/config/device-fields.js';
import { FOREIGN_KEY_NAMES, foreignKeyHint } from '../src/config/foreign-keys.js';

/**
 * Inventory keys from Netmiko, Ansible, Nornir and Scrapli are answered with warmpool's name for
 * them, in the inventory file and over the Inventory API alike (one validator), and the table
 * only ever points at fields that exist.
 */

const defaults = loadConfig({ argv: [], env: {} }).defaults;
const base = { id: 'r1', host: '192.0.2.1', platform: 'cisco_ios', username: 'u', password: 'p', hostKey: { acceptAny: true } };

t.test('every hint names a real device field (or says there is none)', async (t) => {
  const groups = new Set(DEVICE_FIELDS.flatMap((f) => f.path.split('.').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('.'))));
  const fields = new Set([...DEVICE_FIELDS.map((f) => f.path), ...groups]);
  t.ok(FOREIGN_KEY_NAMES.length >= 20);
  for (const key of FOREIGN_KEY_NAMES) {
    const hint = foreignKeyHint(key)!;
    const named = /calls it "([^"]+)"/.exec(hint)?.[1];
    if (named !== undefined) t.ok(fields.has(named), `${key} → ${named} is a device field`);
    else t.match(hint, /has no such setting: \S/, `${key}: says what to do instead`);
    t.notOk(fields.has(key), `${key} is not itself a warmpool field`);
  }
  t.equal(foreignKeyHint('hostnme'), undefined, 'other unknown keys fall back to did-you-mean');
});

t.test('the API gets the same hint, as INVALID_ARGUMENT', async (t) => {
  t.throws(() => validateDevice({ ...base, device_type: 'cisco_ios' }, defaults, 'api'), {
    code: 'INVALID_ARGUMENT',
    field: 'device_type',
    message: /unknown field \(device_type is Netmiko's name; warmpool calls it "platform"\)/,
  });
  t.throws(() => validateDevice({ ...base, ansible_become: true }, defaults, 'file', 'inventory x.yaml'), {
    code: 'CONFIG_INVALID',
    message: /ansible_become is Ansible's; warmpool has no such setting: ask for privileged mode per request/,
  });
  t.throws(() => validateDevice({ ...base, hostKey: { ip: 'x', acceptAny: true } }, defaults, 'api'), {
    field: 'hostKey.ip',
    message: /hostKey\.ip: unknown field$/,
  }, 'hints are for top-level device keys only');
  t.throws(() => validateDevice({ ...base, usrname: 'u' }, defaults, 'api'), { message: /did you mean "username"\?/ });
});
