import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './kit/cli.js';
import { ROOT } from './kit/proc.js';

/**
 * `warmpool check` as users run it (the built CLI, a separate process): every problem of every
 * class is printed as FILE:LINE:COL: key: message (docs/api.md, "Process, signals and exit status"),
 * exit 0 when valid and 2 when not, and nothing is connected.
 */

const dir = mkdtempSync(join(tmpdir(), 'warmpool-check-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The problem lines of a run (stdout), each parsed. */
function problems(stdout: string): Array<{ file: string; line: number; col: number; key: string; message: string }> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(.+?):(\d+):(\d+): ([^:]+): (.*)$/.exec(l);
      if (!m) throw new Error(`not FILE:LINE:COL: key: message: ${l}`);
      return { file: m[1]!, line: Number(m[2]), col: Number(m[3]), key: m[4]!, message: m[5]! };
    });
}

const GOOD_DEVICE = `  - id: r1
    host: 192.0.2.1
    platform: cisco_ios
    username: netops
    password: not-a-real-one
    hostKey: { acceptAny: true }
`;

t.test('the shipped examples are valid: exit 0, nothing on stdout', async (t) => {
  const r = await cli(['check', '--config', join(ROOT, 'examples', 'warmpool.yaml'), '--inventory', join(ROOT, 'examples', 'devices.yaml')]);
  t.equal(r.code, 0, r.out);
  t.equal(r.stdout, '');
  t.match(r.stderr, /valid/);
});

t.test('YAML syntax errors: every one, with its line and column', async (t) => {
  const p = file('syntax.yaml', 'devices:\n  - id: a\n    host: [1, 2\n  - id: b\nkey: 1\nkey: 2\n');
  const r = await cli(['check', '--inventory', p]);
  t.equal(r.code, 2);
  const ps = problems(r.stdout);
  t.ok(ps.length >= 2, `${ps.length} syntax problems: ${r.stdout}`);
  for (const x of ps) {
    t.equal(x.file, p);
    t.equal(x.key, 'syntax');
    t.match(x.message, /^not valid YAML: /);
  }
  t.ok(ps.some((x) => x.line === 6), 'the duplicate key on line 6 is one of them');
});

t.test('JSON syntax error: its line and column, never the text around it', async (t) => {
  const p = file('bad.json', '{\n  "devices": [\n    {"id": "a", "password": "hunter2",}\n  ]\n}\n');
  const r = await cli(['check', '--inventory', p]);
  t.equal(r.code, 2);
  t.same(problems(r.stdout).map((x) => [x.line, x.key, x.message]), [[3, 'syntax', 'not valid JSON']]);
  t.notMatch(r.out, 'hunter2', 'the secret on that line is not quoted');
});

t.test('JSON inventories are located too', async (t) => {
  const p = file('inv.json', JSON.stringify({ devices: [{ id: 'a', host: '192.0.2.1', platform: 'linux', username: 'u', password: 'p', hostKey: { acceptAny: 'yes' } }] }, null, 2));
  const r = await cli(['check', '--inventory', p]);
  t.equal(r.code, 2);
  const [x] = problems(r.stdout);
  t.equal(x?.key, 'devices[0].hostKey.acceptAny');
  t.equal(x?.line, 10);
  t.match(x?.message, 'must be true or false (got "yes")');
});

t.test('unknown config keys and wrong types: all of them, with did-you-mean', async (t) => {
  const p = file('cfg.yaml', [
    'grpc:',
    '  listen: "127.0.0.1:99999"',
    '  maxConcurentStreams: 10',
    'metrics:',
    '  perDeviceLabels: maybe',
    'defaults:',
    '  pool: { max: 0 }',
    'loggg: {}',
    '',
  ].join('\n'));
  const r = await cli(['check', '--config', p]);
  t.equal(r.code, 2);
  t.same(problems(r.stdout).map((x) => `${x.line}:${x.col} ${x.key}`), [
    '2:11 grpc.listen',
    '3:3 grpc.maxConcurentStreams',
    '5:20 metrics.perDeviceLabels',
    '7:16 defaults.pool.max',
    '8:1 loggg',
  ]);
  t.match(r.stdout, 'did you mean "grpc.maxConcurrentStreams"?');
  t.match(r.stdout, 'did you mean "log"?');
  t.match(r.stdout, 'metrics.perDeviceLabels: must be true or false (got "maybe")');
  t.match(r.stderr, '5 problems');
});

t.test('cross-key rules are reported at the key, with its line', async (t) => {
  const p = file('cross.yaml', 'defaults:\n  pool:\n    min: 5\n    max: 2\n');
  const r = await cli(['check', '--config', p]);
  t.equal(r.code, 2);
  t.same(problems(r.stdout).map((x) => [x.line, x.key]), [[3, 'defaults.pool.min']]);
  t.match(r.stdout, 'must be <= defaults.pool.max');

  // max is invalid itself: the min <= max rule would only judge max's default, so it is not reported.
  const both = file('cross-bad.yaml', 'defaults:\n  pool: { min: 4, max: 0 }\n');
  const r2 = await cli(['check', '--config', both]);
  t.equal(r2.code, 2);
  t.same(problems(r2.stdout).map((x) => [x.line, x.col, x.key, x.message]), [[2, 24, 'defaults.pool.max', 'must be an integer >= 1 (got 0)']]);
});

t.test('Netmiko and Ansible key names get the warmpool name as a hint', async (t) => {
  const p = file('netmiko.yaml', [
    'devices:',
    '  - id: r1',
    '    device_type: cisco_ios',
    '    ip: 192.0.2.1',
    '    username: netops',
    '    password: x',
    '    secret: y',
    '    hostKey: { acceptAny: true }',
    '  - id: r2',
    '    ansible_host: 192.0.2.2',
    '    ansible_network_os: cisco_ios',
    '    ansible_user: netops',
    '    ansible_password: x',
    '    hostKey: { acceptAny: true }',
    '',
  ].join('\n'));
  const r = await cli(['check', '--inventory', p]);
  t.equal(r.code, 2);
  const ps = problems(r.stdout);
  const hint = (key: string) => ps.find((x) => x.key === key);
  t.match(hint('devices[0].device_type'), { line: 3, col: 5, message: 'unknown field (device_type is Netmiko\'s name; warmpool calls it "platform")' });
  t.match(hint('devices[0].ip')?.message, 'warmpool calls it "host"');
  t.match(hint('devices[0].secret')?.message, 'warmpool calls it "enableSecret"');
  t.match(hint('devices[1].ansible_host'), { line: 10, message: /Ansible's name; warmpool calls it "host"/ });
  t.match(hint('devices[1].ansible_network_os')?.message, 'warmpool calls it "platform"');
  t.match(hint('devices[1].ansible_user')?.message, 'warmpool calls it "username"');
  t.match(hint('devices[1].ansible_password')?.message, 'warmpool calls it "password"');
  t.notMatch(r.out, /"x"|"y"/, 'no credential value is echoed');
});

t.test('semantic errors: duplicate id at the second one, bad pattern, unknown platform, wrong type, missing file', async (t) => {
  const p = file('semantic.yaml', [
    'devices:',
    GOOD_DEVICE.trimEnd(),
    '  - id: r2',
    '    host: 192.0.2.2',
    '    platform: cisco_iosx',
    '    port: "22a"',
    '    username: netops',
    '    passwordFile: no-such-secret',
    '    prompt: "(a+"',
    '    hostKey: { acceptAny: true }',
    '  - id: r1',
    '    host: 192.0.2.3',
    '    platform: linux',
    '    username: netops',
    '    password: x',
    '    hostKey: { fingerprints: ["SHA256:short"] }',
    '',
  ].join('\n'));
  const r = await cli(['check', '--inventory', p]);
  t.equal(r.code, 2);
  const ps = problems(r.stdout);
  const at = (key: string) => ps.find((x) => x.key === key);
  t.match(at('devices[1].platform'), { line: 10, col: 15, message: /must be .*\(got "cisco_iosx"\)/ });
  t.match(at('devices[1].port'), { line: 11, message: 'must be a port number 1..65535 (got "22a")' });
  t.match(at('devices[1].passwordFile'), { line: 13, message: /no-such-secret" does not exist/ });
  t.match(at('devices[1].prompt'), { line: 14, message: /not a valid pattern.*RE2/ });
  t.match(at('devices[2].id'), { line: 16, col: 9, message: 'duplicate id "r1" (first used by devices[0] at line 2)' });
  t.match(at('devices[2].hostKey.fingerprints[0]'), { line: 21, message: /must be "SHA256:"/ });
  t.equal(ps.length, 6, `exactly these six, nothing caused by the checking itself:\n${r.stdout}`);
  t.same(ps.map((x) => x.line), [...ps.map((x) => x.line)].sort((a, b) => a - b), 'in file order');
});

t.test('a missing required field points at its device; set-aside values cause no second report', async (t) => {
  const p = file('required.yaml', 'devices:\n  - id: r1\n    host: "bad host!"\n    platform: linux\n    password: x\n    hostKey: { acceptAny: true }\n');
  const r = await cli(['check', '--inventory', p]);
  t.equal(r.code, 2);
  t.same(problems(r.stdout).map((x) => [x.line, x.key]), [[2, 'devices[0].username'], [3, 'devices[0].host']]);
  t.notMatch(r.stdout, 'host: is required', 'the bad host is reported once, not again as missing');
});

t.test('missing files: the file named on the command line, and inventory.file in the config', async (t) => {
  const gone = join(dir, 'gone.yaml');
  const r = await cli(['check', '--inventory', gone]);
  t.equal(r.code, 2);
  t.equal(r.stdout, `${gone}:1:1: file: the file does not exist\n`);

  const cfg = file('with-inv.yaml', 'log:\n  level: info\ninventory:\n  file: nowhere.yaml\n');
  const r2 = await cli(['check', '--config', cfg]);
  t.equal(r2.code, 2);
  t.same(problems(r2.stdout).map((x) => [x.file, x.line, x.col, x.key]), [[cfg, 4, 9, 'inventory.file']]);
  t.match(r2.stdout, /nowhere\.yaml" does not exist/);
});

t.test('--config also checks the inventory it names, even when the config has problems of its own', async (t) => {
  const inv = file('named.yaml', 'devices:\n  - id: r1\n    host: 192.0.2.1\n');
  const cfg = file('names-inv.yaml', 'log: { level: loud }\ninventory: { file: named.yaml }\n');
  const r = await cli(['check', '--config', cfg]);
  t.equal(r.code, 2);
  const ps = problems(r.stdout);
  t.ok(ps.some((x) => x.file === cfg && x.key === 'log.level'), 'the config problem');
  t.ok(ps.some((x) => x.file === inv && x.key === 'devices[0].platform'), 'and the inventory\'s');
  t.match(r.stderr, /problems in .*names-inv\.yaml, .*named\.yaml/);
});

t.test('wrong use of check itself is a usage error (exit 2)', async (t) => {
  const none = await cli(['check']);
  t.equal(none.code, 2);
  t.match(none.stderr, 'nothing to check');
  const typo = await cli(['check', '--inventry', 'x.yaml']);
  t.equal(typo.code, 2);
  t.match(typo.stderr, 'did you mean --inventory?');
});
