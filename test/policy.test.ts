import t from 'tap';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Policy, PolicyStore, loadPolicy, redactCommand, type AuthzRequest } from '../src/auth/policy.js';
import type { Caller } from '../src/auth/caller.js';
import type { DeviceSpec } from '../src/config/types.js';
import type { Clock } from '../src/core/clock.js';
import { isWarmpoolError } from '../src/core/errors.js';

/** A full DeviceSpec, as the inventory hands it to the API layer. */
function device(id: string, labels: Record<string, string> = {}, platform: DeviceSpec['platform'] = 'cisco_ios'): DeviceSpec {
  return {
    id,
    host: '127.0.0.1',
    port: 22,
    platform,
    mode: platform === 'linux' ? 'exec' : 'shell',
    username: 'netops',
    hostKey: { acceptAny: true },
    labels,
    pool: { min: 0, max: 2, idleTimeoutMs: 1, maxLifetimeMs: 1, acquireTimeoutMs: 1, maxWaiting: 1 },
    ssh: { connectTimeoutMs: 1, keepaliveIntervalMs: 1, keepaliveCountMax: 1, commandTimeoutMs: 1, appKeepaliveMs: 0, healthCheckAfterMs: 0, legacyAlgorithms: false, maxOutputBytes: 4 * 1024 * 1024 },
    source: 'file',
  };
}

const caller = (name: string, via: Caller['via'] = 'token'): Caller => ({ name, via });
const billing = caller('billing-svc');
const ops = caller('ops-alice');
const stranger = caller('stranger');
const core1 = device('core-sw1', { site: 'fra1', role: 'core' });
const edge1 = device('edge-sw1', { site: 'ams1', role: 'edge' });
const edge2 = device('edge-sw2', { site: 'fra1', role: 'edge' });
const lab = device('lab-1', { site: 'lab' });
const core2 = device('core-rtr2', { site: 'fra1' }, 'generic');
const linux1 = device('lnx-1', { site: 'lab' }, 'linux');
const nxos1 = device('nx-1', {}, 'cisco_nxos');
const junos1 = device('mx-1', {}, 'juniper_junos');

const POLICY = `
rules:
  # 1: billing reads show output on core switches and anything in fra1
  - callers: ["billing-svc"]
    rpcs: ["Run", "RunStream", "RunMany", "GetDevice", "ListDevices", "GetPoolStats", "Http"]
    devices: { ids: ["core-*"], labels: { site: fra1 } }
    presets: [read-only]
    commands: { allow: ["^show ", "^display "], deny: ["^show run"] }
    configure: false
    httpMethods: ["GET"]
    httpPaths: { allow: ["^/api/"], deny: ["^/api/admin"] }
  # 2: ops-* may configure edge switches, but never reload or erase
  - callers: ["ops-*"]
    rpcs: ["*"]
    devices: { ids: ["edge-*"] }
    commands: { deny: ["^rel", "^write erase", "^conf.* replace"] }
    configure: true
    privileged: true
  # 3: ops-* may only look at everything else
  - callers: ["ops-*"]
    rpcs: ["Run", "GetDevice", "ListDevices"]
    presets: [read-only]
`;

const policy = Policy.parse(POLICY, 'policy.yaml');

t.test('caller x device x command matrix', async (t) => {
  const run = (device: DeviceSpec, ...commands: string[]): AuthzRequest => ({ rpc: 'Run', device, commands });
  const cases: Array<[Caller, AuthzRequest, string | null]> = [
    [billing, run(core1, 'show version'), null],
    [billing, run(edge2, 'show interfaces'), null], // by label site=fra1
    [billing, run(core2, 'display version'), null],
    [billing, run(core1, '  SHOW   version  '), null], // case and whitespace are normalised
    [billing, run(edge1, 'show version'), 'no rule allows caller billing-svc to call Run on edge-sw1'],
    [billing, run(core1, 'show running-config'), "caller billing-svc may not run 'show running-config' on core-sw1: denied by rule 1 (commands.deny '^show run')"],
    [billing, run(core1, 'show run'), "caller billing-svc may not run 'show run' on core-sw1: denied by rule 1 (commands.deny '^show run')"],
    [billing, run(core1, 'ping 10.0.0.1'), "caller billing-svc may not run 'ping 10.0.0.1' on core-sw1: not allowed by rule 1 (no commands.allow pattern matches)"],
    [billing, run(core1, 'configure terminal'), "caller billing-svc may not run 'configure terminal' on core-sw1: denied by rule 1 (configure: false: \"configure\" is a configuration command)"],
    [billing, run(core1, 'show version', 'reload'), "caller billing-svc may not run 'reload' on core-sw1: denied by rule 1 (configure: false: \"reload\" is a command that changes the device or the session)"],
    [billing, { rpc: 'Run', device: core1, commands: ['show version'], configure: true }, 'caller billing-svc may not use configure mode on core-sw1: denied by rule 1 (configure: false)'],
    [billing, { rpc: 'DrainDevice', device: core1 }, 'no rule allows caller billing-svc to call DrainDevice on core-sw1'],
    [ops, run(edge1, 'configure terminal', 'interface Gi0/1', 'shutdown'), null],
    [ops, { rpc: 'Run', device: edge1, commands: ['interface Gi0/1'], configure: true, privileged: true }, null],
    [ops, run(edge1, 'reload in 5'), "caller ops-alice may not run 'reload in 5' on edge-sw1: denied by rule 2 (commands.deny '^rel')"],
    [ops, run(edge1, 'Write  Erase'), "caller ops-alice may not run 'Write Erase' on edge-sw1: denied by rule 2 (commands.deny '^write erase')"],
    [ops, { rpc: 'DeleteDevice', device: edge1 }, null],
    [ops, run(core1, 'show version'), null], // rule 3
    [ops, run(lab, 'show ip route | include 10.'), null],
    [ops, run(core1, 'conf t'), "caller ops-alice may not run 'conf t' on core-sw1: denied by rule 3 (preset read-only: \"conf\" may abbreviate \"configure\", a configuration command)"],
    [ops, run(core1, 'show run | redirect flash:x'), "caller ops-alice may not run 'show run | redirect flash:x' on core-sw1: denied by rule 3 (preset read-only: \"| redirect\" writes, sends or runs something)"],
    [ops, run(linux1, 'id | sort -o /tmp/x'), "caller ops-alice may not run 'id | sort -o /tmp/x' on lnx-1: denied by rule 3 (preset read-only: character '|' is not allowed (read-only exec commands are plain words of [A-Za-z0-9._/:=,@%+-]))"],
    [ops, { rpc: 'RunStream', device: core1, commands: ['show version'] }, 'no rule allows caller ops-alice to call RunStream on core-sw1'],
    [ops, { rpc: 'DeleteDevice', device: core1 }, 'no rule allows caller ops-alice to call DeleteDevice on core-sw1'],
    [stranger, run(core1, 'show version'), 'no rule allows caller stranger to call Run on core-sw1'],
    [stranger, { rpc: 'ListDevices' }, 'no rule allows caller stranger to call ListDevices'],
    [billing, { rpc: 'ListDevices' }, null], // no device: the devices selector does not apply
  ];
  for (const [who, req, expected] of cases) {
    const label = `${who.name} ${req.rpc} ${req.device?.id ?? '-'} ${JSON.stringify(req.commands ?? [])}`;
    const d = policy.check(who, req);
    if (expected === null) {
      t.ok(d.allowed, `${label} allowed${d.allowed ? '' : `: ${d.message}`}`);
      t.doesNotThrow(() => policy.authorize(who, req));
    } else {
      t.notOk(d.allowed, `${label} denied`);
      t.throws(() => policy.authorize(who, req), { code: 'PERMISSION_DENIED', message: expected, device: req.device?.id }, label);
    }
  }
});

t.test('the first matching rule decides, even when it denies', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    commands: { deny: ["^show"] }\n  - callers: ["*"]\n', 'p.yaml');
  t.throws(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: ['show version'] }), { message: /rule 1/ });
  t.doesNotThrow(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: ['dir'] }));
});

t.test('deny patterns win over allow patterns', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    commands: { allow: ["^show"], deny: ["secret"] }\n', 'p.yaml');
  t.throws(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: ['show secret-stuff'] }), { message: /commands.deny 'secret'/ });
});

t.test('read-only preset', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    presets: [read-only]\n', 'p.yaml');
  const allowed = (req: AuthzRequest): boolean => p.check(billing, req).allowed;
  const on = (d: DeviceSpec) => (c: string): boolean => allowed({ rpc: 'Run', device: d, commands: [c] });
  const perDevice: Array<[DeviceSpec, string[], string[]]> = [
    [core1,
      ['show version', 'show running-config', 'ping 10.0.0.1', 'traceroute 10.0.0.1', 'dir flash:', 'more flash:notes.txt',
        'show ip route | include 10.', 'show run | i hostname', 'show log | begin Nov', 'show run | section router bgp'],
      ['configure terminal', 'conf t', 'reload', 'write memory', 'copy run start', 'clear counters', 'terminal length 24',
        'sh run', 'show run | redirect flash:x', 'show run | tee flash:x', 'show run | append flash:x', 'show run > bootflash:x',
        'delete flash:x', 'debug all', 'enable', 'exit', 'uname -a', 'display version', 'show interfaces | json']],
    [core2, ['display interface brief', 'get system status', 'show version | include up', 'tracert 10.0.0.1'],
      ['sh -c id', 'ls | sh', 'show x | find / -exec id', 'show x | sort -o /tmp/x', 'system-view', 'undo shutdown']],
    [nxos1, ['show interfaces | json', 'show version | grep uptime', 'show log | last 10', 'ping6 ::1'],
      ['show run > bootflash:x', 'show run | python', 'run bash id', 'bash', 'guestshell', 'show run ; conf t']],
    [junos1, ['show version | display xml', 'show configuration | display set', 'show route | match 10.0 | count'],
      ['show configuration | save /tmp/x', 'start shell', 'request system reboot', 'set cli screen-length 24', 'edit', 'configure']],
    [linux1, ['uname -a', 'ls /tmp', 'cat /etc/os-release', 'hostname', 'date', 'ip -br addr show', 'ps aux', 'df -h', 'free -m'],
      ['cat /etc/passwd; rm -rf /', 'ls && reboot', 'cat $(id)', 'cat `id`', 'ls | sh', 'hostname evil', 'date -s 2020-01-01',
        'show version', 'sh -c id', 'cat ~/.ssh/id_rsa']],
  ];
  for (const [d, yes, no] of perDevice) {
    for (const c of yes) t.ok(on(d)(c), `${d.platform}: allows ${c}`);
    for (const c of no) t.notOk(on(d)(c), `${d.platform}: denies ${c}`);
  }
  t.notOk(allowed({ rpc: 'Run', device: core1, commands: ['show version'], configure: true }), 'denies configure mode');
  t.ok(allowed({ rpc: 'Http', device: core1, httpMethod: 'GET', httpPath: '/x' }), 'allows HTTP GET');
  t.ok(allowed({ rpc: 'Http', device: core1, httpMethod: 'head', httpPath: '/x' }), 'allows HTTP HEAD');
  for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    t.throws(() => p.authorize(billing, { rpc: 'Http', device: core1, httpMethod: m, httpPath: '/x' }), {
      code: 'PERMISSION_DENIED',
      message: `caller billing-svc may not send HTTP ${m} /x on core-sw1: denied by rule 1 (preset read-only: HTTP GET/HEAD only)`,
    });
  }
  for (const rpc of ['PutDevice', 'DeleteDevice', 'DrainDevice']) t.notOk(allowed({ rpc, device: core1 }), `denies ${rpc}`);
  for (const rpc of ['GetDevice', 'ListDevices', 'GetPoolStats']) t.ok(allowed({ rpc }), `allows ${rpc}`);
});

t.test('HTTP methods and paths of a rule', async (t) => {
  const req = (httpMethod: string, httpPath: string): AuthzRequest => ({ rpc: 'Http', device: core1, httpMethod, httpPath });
  t.ok(policy.check(billing, req('GET', '/api/v1/interfaces')).allowed);
  t.throws(() => policy.authorize(billing, req('GET', '/api/admin/users')), { message: "caller billing-svc may not send HTTP GET /api/admin/users on core-sw1: denied by rule 1 (httpPaths.deny '^/api/admin')" });
  t.throws(() => policy.authorize(billing, req('GET', '/other')), { message: /no httpPaths.allow pattern matches/ });
  t.throws(() => policy.authorize(billing, req('HEAD', '/api/x')), { message: /denied by rule 1 \(httpMethods: GET\)/ });
});

t.test('privileged: false refuses enable mode', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    privileged: false\n', 'p.yaml');
  t.throws(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: ['show version'], privileged: true }), { message: /privileged \(enable\) mode.*privileged: false/ });
  t.doesNotThrow(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: ['show version'] }));
});

t.test('caller globs match token names, SPIFFE IDs and anonymous callers alike', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["spiffe://*/sa/billing-svc", "ops-?", "anonymous"]\n', 'p.yaml');
  t.ok(p.check(caller('spiffe://cluster.local/ns/b/sa/billing-svc', 'mtls'), { rpc: 'Run' }).allowed);
  t.notOk(p.check(caller('spiffe://cluster.local/ns/b/sa/billing-svc2', 'mtls'), { rpc: 'Run' }).allowed);
  t.ok(p.check(caller('ops-1'), { rpc: 'Run' }).allowed);
  t.notOk(p.check(caller('ops-12'), { rpc: 'Run' }).allowed);
  t.ok(p.check({ name: 'anonymous', via: 'none' }, { rpc: 'Run' }).allowed);
  t.notOk(p.check(caller('ops.1'), { rpc: 'Run' }).allowed, 'glob characters other than * and ? are literal');
});

t.test('no policy file allows every authenticated caller everything; an empty rule list denies everything', async (t) => {
  const store = new PolicyStore('');
  t.same(store.check(stranger, { rpc: 'DeleteDevice', device: core1 }), { allowed: true, rule: 0 });
  const empty = Policy.parse('rules: []\n', 'p.yaml');
  t.notOk(empty.check(billing, { rpc: 'GetDevice' }).allowed);
});

t.test('denied commands are shown with secrets masked', async (t) => {
  t.equal(redactCommand('username admin secret 0 S3cr3t!'), 'username admin secret 0 ***');
  t.equal(redactCommand('snmp-server community public RO'), 'snmp-server community *** RO');
  t.equal(redactCommand('set system login user x authentication plain-text-password hunter2'), 'set system login user x authentication plain-text-password ***');
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    commands: { deny: ["^username"] }\n', 'p.yaml');
  t.throws(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: ['username admin password 7 ABCDEF'] }), {
    message: "caller billing-svc may not run 'username admin password 7 ***' on core-sw1: denied by rule 1 (commands.deny '^username')",
  });
  t.equal(redactCommand(`show ${'x'.repeat(300)}`).length, 120);
});

t.test('invalid policy files are CONFIG_INVALID naming the file and the rule', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['bad regex', 'rules:\n  - callers: ["*"]\n  - callers: ["*"]\n    commands: { deny: ["^(show"] }\n', /rule 2: commands.deny\[0\] '\^\(show' is not a valid regular expression/],
    ['bad path regex', 'rules:\n  - callers: ["*"]\n    httpPaths: { allow: ["["] }\n', /rule 1: httpPaths.allow\[0\]/],
    ['lookahead (not RE2)', 'rules:\n  - callers: ["*"]\n    commands: { allow: ["^show (?!run)"] }\n', /rule 1: commands.allow\[0\] .* lookahead \(\?!\.\.\.\) is not supported/],
    ['unknown key (typo)', 'rules:\n  - callers: ["*"]\n    command: { deny: ["^conf"] }\n', /rule 1: unknown key "command"/],
    ['unknown nested key', 'rules:\n  - callers: ["*"]\n    commands: { denied: ["^conf"] }\n', /rule 1: unknown key "commands.denied"/],
    ['unknown rpc', 'rules:\n  - callers: ["*"]\n    rpcs: [run]\n', /rule 1: unknown rpc "run"/],
    ['unknown preset', 'rules:\n  - callers: ["*"]\n    presets: [readonly]\n', /rule 1: unknown preset "readonly"/],
    ['no callers', 'rules:\n  - rpcs: ["*"]\n', /rule 1: "callers" is required/],
    ['configure not boolean', 'rules:\n  - callers: ["*"]\n    configure: "no"\n', /rule 1: "configure" must be true or false/],
    ['empty devices', 'rules:\n  - callers: ["*"]\n    devices: {}\n', /rule 1: "devices" needs "ids" or "labels"/],
    ['label not string', 'rules:\n  - callers: ["*"]\n    devices: { labels: { rack: 3 } }\n', /devices.labels/],
    ['no rules', 'allow: everything\n', /unknown top-level key "allow"/],
    ['rules not a list', 'rules: yes\n', /"rules" must be a list/],
    ['bad yaml', 'rules: [\n', /not valid YAML/],
  ];
  for (const [name, text, re] of cases) {
    const dir = t.testdir({ 'policy.yaml': text });
    const file = join(dir, 'policy.yaml');
    try {
      loadPolicy(file);
      t.fail(`${name}: should throw`);
    } catch (err) {
      t.ok(isWarmpoolError(err, 'CONFIG_INVALID'), name);
      t.match((err as Error).message, re, name);
      t.match((err as Error).message, `policy file ${file}`, `${name}: names the file`);
    }
  }
  t.throws(() => new PolicyStore('/nonexistent/policy.yaml'), { code: 'CONFIG_INVALID', field: 'grpc.auth.policyFile' });
});

t.test('PolicyStore follows its file and keeps the old policy when the new one is invalid', async (t) => {
  const dir = t.testdir({ 'policy.yaml': 'rules:\n  - callers: ["billing-svc"]\n' });
  const file = join(dir, 'policy.yaml');
  let now = 0;
  const clock: Clock = { now: () => now, wallNow: () => now, setTimeout: () => ({ __timer: null }), clearTimeout: () => {} };
  const store = new PolicyStore(file, { clock, recheckMs: 1000 });
  const replace = (text: string): void => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  t.ok(store.check(billing, { rpc: 'Run' }).allowed);
  t.notOk(store.check(ops, { rpc: 'Run' }).allowed);
  replace('rules:\n  - callers: ["ops-*"]\n');
  t.ok(store.check(billing, { rpc: 'Run' }).allowed, 'not re-checked before the interval');
  now += 1000;
  t.notOk(store.check(billing, { rpc: 'Run' }).allowed, 'the new policy applies after the interval');
  t.ok(store.check(ops, { rpc: 'Run' }).allowed);
  replace('rules:\n  - callers: ["*"]\n    commands: { deny: ["(("] }\n');
  now += 1000;
  t.notOk(store.check(billing, { rpc: 'Run' }).allowed, 'an invalid file keeps the previous policy (not allow-all)');
  t.ok(store.check(ops, { rpc: 'Run' }).allowed);
  replace('rules:\n  - callers: ["billing-svc"]\n');
  t.equal(store.reload(), true, 'reload() (SIGHUP) reads at once');
  t.ok(store.check(billing, { rpc: 'Run' }).allowed);
});

t.test('the example policy in docs/security.md loads and behaves as documented', async (t) => {
  const doc = readFileSync(new URL('../docs/security.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Authorization policy'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  t.ok(yaml, 'found the example');
  const p = Policy.parse(yaml!, 'docs/security.md');
  t.equal(p.ruleCount, 4);
  const fra = device('dist-1', { site: 'fra1' });
  t.ok(p.check(billing, { rpc: 'Run', device: fra, commands: ['show version'] }).allowed);
  t.notOk(p.check(billing, { rpc: 'Run', device: core1, commands: ['show running-config'] }).allowed);
  t.notOk(p.check(billing, { rpc: 'Run', device: edge1, commands: ['show version'] }).allowed);
  t.ok(p.check(ops, { rpc: 'Run', device: edge1, commands: ['conf t', 'interface Gi0/1', 'no shutdown'], configure: true }).allowed);
  t.notOk(p.check(ops, { rpc: 'Run', device: edge1, commands: ['wr erase'] }).allowed);
  t.notOk(p.check(ops, { rpc: 'Run', device: edge1, commands: ['reload'] }).allowed);
  t.ok(p.check(ops, { rpc: 'Run', device: core1, commands: ['show ip bgp summary'] }).allowed);
  t.notOk(p.check(ops, { rpc: 'Run', device: core1, commands: ['conf t'] }).allowed);
  t.ok(p.check(caller('inventory-sync'), { rpc: 'PutDevice', device: lab }).allowed);
  t.notOk(p.check(caller('inventory-sync'), { rpc: 'Run', device: lab, commands: ['show version'] }).allowed);
});

t.test('an operator pattern that backtracks catastrophically in JavaScript costs a caller nothing', async (t) => {
  const p = Policy.parse('rules:\n  - callers: ["*"]\n    commands: { deny: ["^(a+a+)+b$"] }\n', 'p.yaml');
  const t0 = performance.now();
  // JavaScript's RegExp needs on the order of 2^40 steps for this; RE2 answers in one linear pass.
  t.doesNotThrow(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: [`${'a'.repeat(40)}c`] }));
  t.throws(() => p.authorize(billing, { rpc: 'Run', device: core1, commands: [`${'a'.repeat(40)}b`] }), { code: 'PERMISSION_DENIED' });
  t.ok(performance.now() - t0 < 2000, 'decided at once');
});
