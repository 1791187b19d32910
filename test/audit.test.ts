import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { MASK, redactCommand, redactQuoted, redactSecrets } from '../src/core/redact.js';
import { createAudit, redactAuditEvent } from '../src/app/audit.js';
import { auditedGuard, type AuthorizeRequest } from '../src/app/guard.js';
import { REDACT_PATHS, redactLogFields } from '../src/core/logger.js';
import { Policy } from '../src/auth/policy.js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { validateDevice } from '../src/config/inventory.js';
import { loadConfig } from '../src/config/load.js';
import { startTestDaemon, simSpec, m } from './kit/daemon.js';
import { captureLogger } from './kit/http-fixtures.js';
import { waitFor } from './kit/wait.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** [command, the secrets it holds] */
const SECRET_COMMANDS: Array<[string, string[]]> = [
  ['enable secret Sx1-enable', ['Sx1-enable']],
  ['enable secret 5 $1$Sx2$hash', ['$1$Sx2$hash']],
  ['enable secret level 15 5 Sx3-level', ['Sx3-level']],
  ['enable password Sx4-pw', ['Sx4-pw']],
  ['username bob password Sx5-user', ['Sx5-user']],
  ['username bob privilege 15 password 0 Sx6-user', ['Sx6-user']],
  ['username bob secret 9 $9$Sx7', ['$9$Sx7']],
  ['snmp-server community Sx8-comm RO', ['Sx8-comm']],
  ['snmp-server community Sx9-comm rw 10', ['Sx9-comm']],
  ['set snmp community Sx10-comm authorization read-only', ['Sx10-comm']],
  ['snmp-server user u1 grp v3 auth sha Sx11-auth priv aes 128 Sx12-priv', ['Sx11-auth', 'Sx12-priv']],
  ['set system login user x authentication plain-text-password-value Sx13-junos', ['Sx13-junos']],
  ['set system login user x authentication encrypted-password "$6$Sx14 with space"', ['$6$Sx14', 'with space']],
  ['set system login user x authentication plain-text-password Sx15', ['Sx15']],
  ['tacacs-server key Sx16-tac', ['Sx16-tac']],
  ['tacacs-server host 10.0.0.9 key 7 Sx17-tac', ['Sx17-tac']],
  ['radius-server key 0 Sx18-rad', ['Sx18-rad']],
  ['radius-server host 10.0.0.9 auth-port 1812 key Sx19-rad', ['Sx19-rad']],
  ['key 7 Sx20-submode', ['Sx20-submode']],
  ['ppp chap password Sx21-chap', ['Sx21-chap']],
  ['ppp pap sent-username u password 7 Sx22-pap', ['Sx22-pap']],
  ['crypto isakmp key Sx23-ike address 10.0.0.1', ['Sx23-ike']],
  ['set security ike policy p pre-shared-key ascii-text "Sx24-psk"', ['Sx24-psk']],
  ['pre-shared-key Sx25-psk', ['Sx25-psk']],
  ['key-string 7 Sx26-ks', ['Sx26-ks']],
  ['ntp authentication-key 1 md5 Sx27-ntp 7', ['Sx27-ntp']],
  ['ip ospf message-digest-key 1 md5 Sx28-ospf', ['Sx28-ospf']],
  ['Authorization: Bearer Sx29.tok.en', ['Sx29.tok.en']],
  ['Authorization: Basic U3gzMDpwYXNz', ['U3gzMDpwYXNz']],
  ['curl -H "X-Auth-Token: Sx31" https://h/x?access_token=Sx32&a=1', ['Sx31', 'Sx32']],
  ['mysqladmin --password=Sx33 status', ['Sx33']],
  ['USERNAME Bob   PASSWORD\tSx34-case', ['Sx34-case']],
];

/** Commands with nothing to hide stay as they were. */
const HARMLESS = [
  'show version', 'show running-config | include hostname', 'crypto key generate rsa modulus 2048',
  'show crypto key mypubkey rsa', 'show ip interface brief', 'display current-configuration', 'ls -la /tmp',
];

t.test('the default patterns mask every secret in the table and leave harmless commands alone', async (t) => {
  for (const [cmd, secrets] of SECRET_COMMANDS) {
    const out = redactSecrets(cmd);
    for (const s of secrets) t.notOk(out.includes(s), `${cmd} → ${out}: ${s} masked`);
    t.ok(out.includes(MASK), `${cmd}: shows ${MASK}`);
  }
  for (const cmd of HARMLESS) t.equal(redactSecrets(cmd), cmd, cmd);
  t.equal(redactSecrets('username bob password Sx'), 'username bob password ***');
  t.equal(redactSecrets('snmp-server community Sx RO'), 'snmp-server community *** RO', 'only the value is masked');
  t.equal(redactSecrets('line one\nenable secret Sx\nline three'), 'line one\nenable secret ***\nline three', 'per line');
  t.equal(redactSecrets('password\nSx-next-line'), 'password\nSx-next-line', 'a value never runs past its line');
  t.equal(redactCommand(`  username   bob password Sx ${'x'.repeat(200)}`).length, 120);
  t.equal(redactQuoted('device r1: host key verification failed waiting for the prompt after "enable secret Sx"'),
    'device r1: host key verification failed waiting for the prompt after "enable secret ***"', 'prose outside quotes is untouched');
});

t.test('redaction is linear: multi-megabyte adversarial inputs finish in seconds, where a quadratic scan would take minutes', async (t) => {
  // WHY an absolute bound and no small/large time ratio: V8's GC makes small inputs (young
  // generation) disproportionately cheap, so ratios flap on a shared machine. At ~3 MB, linear
  // work is ~1 s even under load, while any per-word or per-quote rescan (n² ≈ 10^11..10^12 steps)
  // takes minutes: the bound separates the two with a wide margin either way.
  const shapes: Array<[string, (n: number) => string]> = [
    ['password ×n', (n) => 'password '.repeat(n)],
    ['open quote then words', (n) => `password "${'a '.repeat(n)}`],
    ['name=value pairs', (n) => `${'a=b&'.repeat(n)}password=x`],
    ['key 1 ×n', (n) => 'key 1 '.repeat(n)],
    ['quotes only', (n) => '"'.repeat(n * 8)],
    ['one quote then quotes of the other kind', (n) => `'${'"x'.repeat(n * 4)}`],
    ['spaces', (n) => `${' '.repeat(n * 8)}x`],
  ];
  for (const [name, shape] of shapes) {
    const s = shape(350_000);
    const t0 = performance.now();
    redactSecrets(s);
    redactQuoted(s);
    const ms = performance.now() - t0;
    t.ok(ms < 10_000, `${name}: ${(s.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`);
  }
});

t.test('the audit event is redacted whoever built it, and log lines carrying commands are too', async (t) => {
  const e = redactAuditEvent({
    caller: 'c', device: 'd', rpc: 'Run', outcome: 'error', command: 'username bob password Sx1 ; enable secret Sx2',
    error: 'device d: no prompt within 5 ms waiting for the prompt after "tacacs-server key Sx3"', output: 'snmp-server community Sx4 RO\n',
    path: '/x?token=Sx5',
  });
  t.notMatch(JSON.stringify(e), /Sx\d/);
  const line = redactLogFields({ command: 'enable secret Sx6', commands: ['key 7 Sx7'], msg: "may not run 'password Sx8'", device: 'd' });
  t.notMatch(JSON.stringify(line), /Sx\d/);
  t.equal(line.device, 'd');
  const same = { device: 'd', n: 1 };
  t.equal(redactLogFields(same), same, 'a line without command fields is passed through as is');

  const { logger, lines } = captureLogger('debug');
  const err = Object.assign(new Error('timed out after "enable secret Sx9"'), { code: 'COMMAND_TIMEOUT' });
  logger.warn({ command: 'username u password Sx10', err }, 'x');
  t.notMatch(lines.join('\n'), /Sx9|Sx10/);
  t.match(lines.join('\n'), /COMMAND_TIMEOUT/, 'the error is still serialised');
});

t.test('audit lines to the main log: values masked, no key a secret name, the line as key-path redaction would write it', async (t) => {
  const { logger, lines } = captureLogger('info');
  const audit = createAudit({ enabled: true, file: '', includeOutput: true, fallback: logger });
  const event = {
    caller: 'c', via: 'token', device: 'd', rpc: 'Run', outcome: 'error' as const, command: 'username bob password Sx1', sessionId: 's',
    durationMs: 1, exitStatus: 1, rule: 2, error: 'no prompt after "enable secret Sx2"', output: 'snmp-server community Sx3 RO\n',
    method: 'GET', path: '/x?token=Sx4', configure: true, privileged: true,
  };
  audit.record(event);
  t.equal(lines.length, 1);
  t.notMatch(lines[0], /Sx\d/, 'every value masked');
  const written = JSON.parse(lines[0] as string) as Record<string, unknown>;
  // Key-path redaction (REDACT_PATHS) is skipped for audit lines: it must have had nothing to do.
  const secretNames = new Set(REDACT_PATHS.map((p) => p.split('.').at(-1)));
  t.same(Object.keys(event).filter((k) => secretNames.has(k)), [], 'no AuditEvent field is named like a secret');
  t.ok(Object.values(written).every((v) => v === null || typeof v !== 'object'), 'the line is flat');
  t.equal(written.audit, true);
  t.equal(written.caller, 'c');
});

t.test('auditedGuard records every denial with caller and rule, and allowed calls that reach a device', async (t) => {
  const policy = Policy.parse('rules:\n  - callers: ["ops"]\n    commands: { deny: ["^reload"] }\n', 'p.yaml');
  const events: Any[] = [];
  const guard = auditedGuard({ authenticate: () => ({ name: 'ops', via: 'token' }), authorize: (c, r) => policy.authorize(c, r), check: (c, r) => policy.check(c, r) }, { record: (e) => events.push(redactAuditEvent(e)), includeOutput: false });
  const dev = { id: 'r1' } as AuthorizeRequest['device'];
  t.throws(() => guard.authorize({ name: 'ops', via: 'token' }, { rpc: 'Run', device: dev, commands: ['reload in 5 password Sx1'] }), { code: 'PERMISSION_DENIED', device: 'r1' });
  t.throws(() => guard.authorize({ name: 'eve', via: 'token' }, { rpc: 'GetDevice', device: dev }), { code: 'PERMISSION_DENIED' });
  guard.authorize({ name: 'ops', via: 'token' }, { rpc: 'Run', device: dev, commands: ['show clock'] });
  guard.authorize({ name: 'ops', via: 'token' }, { rpc: 'GetDevice', device: dev });
  t.equal(guard.check!({ name: 'eve', via: 'token' }, { rpc: 'ListDevices', device: dev }).allowed, false);
  t.match(events, [
    { caller: 'ops', via: 'token', device: 'r1', rpc: 'Run', outcome: 'denied', rule: 1, command: 'reload in 5 password ***', error: /denied by rule 1/ },
    { caller: 'eve', rpc: 'GetDevice', outcome: 'denied', rule: 0, error: /no rule allows caller eve/ },
    { caller: 'ops', rpc: 'Run', outcome: 'allowed', rule: 1, command: 'show clock' },
  ]);
  t.equal(events.length, 3, 'an allowed GetDevice and a check() are not audited');
});

t.test('end to end: the audit file of a real daemon holds no secret, and holds the denials with caller and rule', async (t) => {
  const ios = await startSimDevice({ platform: 'cisco_ios', hostname: 'r1' });
  t.teardown(() => ios.close());
  const api = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => api.close());
  const defaults = loadConfig({ argv: [], env: {} }).defaults;
  const httpDev = validateDevice({
    id: 'h1', host: '127.0.0.1', platform: 'arista_eos', username: 'x', password: 'unused-pass', hostKey: { acceptAny: true }, http: { baseUrl: api.url },
  }, defaults, 'api');
  const dir = t.testdir({
    'tokens.yaml': [
      'callers:',
      '  - name: ops-alice',
      '    token: "token-for-ops-alice-0123456789"',
      '  - name: billing',
      '    token: "token-for-billing-0123456789"',
      '  - name: stranger',
      '    token: "token-for-stranger-0123456789"',
      '',
    ].join('\n'),
    'policy.yaml': [
      'rules:',
      '  - callers: ["billing"]',
      '    commands: { allow: ["^show "] }',
      '    privileged: false',
      '    httpPaths: { allow: ["^/restconf/data/interfaces"] }',
      '  - callers: ["ops-*"]',
      '    commands: { deny: ["^reload"] }',
      '',
    ].join('\n'),
  });
  const auditFile = join(dir, 'audit.log');
  const { logger, lines } = captureLogger('debug');
  const td = await startTestDaemon({
    devices: [simSpec(ios, 'r1'), httpDev], logger,
    argv: ['--grpc.auth.tokensFile', join(dir, 'tokens.yaml'), '--grpc.auth.policyFile', join(dir, 'policy.yaml'), '--log.audit.file', auditFile, '--log.audit.includeOutput', 'true'],
  });
  t.teardown(() => td.stop());
  const as = (who: string) => {
    const md = new Metadata();
    md.set('authorization', `Bearer token-for-${who}-0123456789`);
    return { metadata: md };
  };
  const run = m(td.proxy, 'Run');
  const secrets = SECRET_COMMANDS.flatMap(([, s]) => s);
  const errors: string[] = [];

  // ops-alice may run them: allowed decisions and per-command lines (the simulator refuses most: "failed").
  const cmds = SECRET_COMMANDS.map(([c]) => c).filter((c) => !/[\t]/.test(c));
  const r: Any = await td.call(run, { device: 'r1', commands: cmds }, as('ops-alice'));
  t.equal(r.results.length, cmds.length);
  // A command that times out: the error quotes it.
  const hung: Any = await td.call(run, { device: 'r1', commands: ['hang password Sx35-hang'], command_timeout_ms: 300 }, as('ops-alice')).catch((e) => e);
  t.ok(hung.code === status.DEADLINE_EXCEEDED || hung.code === status.UNAVAILABLE || hung.code === status.INTERNAL || hung.code === status.ABORTED, `timeout: ${hung.code} ${hung.details}`);
  errors.push(hung.details);
  secrets.push('Sx35-hang');
  // Denials: by a rule's deny list, by an allow list, for a caller no rule names, and an HTTP path.
  const denied1: Any = await td.call(run, { device: 'r1', commands: ['reload in 5 password Sx36-deny'] }, as('ops-alice')).catch((e) => e);
  const denied2: Any = await td.call(run, { device: 'r1', commands: ['username eve password Sx37-deny'] }, as('billing')).catch((e) => e);
  const denied3: Any = await td.call(m(td.inventory, 'GetDevice'), { id: 'r1' }, as('stranger')).catch((e) => e);
  const denied4: Any = await td.call(m(td.proxy, 'Http'), { device: 'h1', method: 'GET', path: '/restconf/data/../data/secret?access_token=Sx38-q' }, as('billing')).catch((e) => e);
  const denied5: Any = await td.call(run, { device: 'r1', commands: ['show clock'], privileged: true }, as('billing')).catch((e) => e);
  t.match(denied5.details, /privileged \(enable\) mode.*rule 1 \(privileged: false\)/, 'the request\'s privileged flag reaches the policy');
  secrets.push('Sx36-deny', 'Sx37-deny', 'Sx38-q');
  for (const d of [denied1, denied2, denied3, denied4, denied5]) {
    t.equal(d.code, status.PERMISSION_DENIED, d.details);
    errors.push(d.details);
  }
  const allowedHttp: Any = await td.call(m(td.proxy, 'Http'), { device: 'h1', method: 'GET', path: '/restconf/data/interfaces' }, as('billing'));
  t.equal(allowedHttp.status, 200);

  for (const e of errors) for (const s of secrets) t.notOk(e.includes(s), `error returned to the caller hides ${s}: ${e}`);

  await waitFor(() => existsSync(auditFile) && readFileSync(auditFile, 'utf8').includes('"path":"/restconf/data/interfaces"'), 'the audit lines to be written', 10_000);
  const text = readFileSync(auditFile, 'utf8');
  for (const s of secrets) t.notOk(text.includes(s), `audit file hides ${s}`);
  const logText = lines.join('\n');
  for (const s of secrets) t.notOk(logText.includes(s), `daemon log hides ${s}`);
  const events: Any[] = text.trim().split('\n').map((l) => JSON.parse(l));
  t.ok(events.every((e) => e.audit === true && typeof e.time === 'string'), 'every line is an audit event');

  const denied = events.filter((e) => e.outcome === 'denied');
  t.match(denied, [
    { caller: 'ops-alice', via: 'token', device: 'r1', rpc: 'Run', rule: 2, command: 'reload in 5 password ***', error: /denied by rule 2 \(commands.deny '\^reload'\)/ },
    { caller: 'billing', via: 'token', device: 'r1', rpc: 'Run', rule: 1, command: 'username eve password ***', error: /not allowed by rule 1/ },
    { caller: 'stranger', via: 'token', device: 'r1', rpc: 'GetDevice', rule: 0, error: /no rule allows caller stranger/ },
    { caller: 'billing', device: 'h1', rpc: 'Http', rule: 1, method: 'GET', path: '/restconf/data/secret' },
    { caller: 'billing', device: 'r1', rpc: 'Run', rule: 1, privileged: true, command: 'show clock' },
  ]);
  t.equal(denied.length, 5, 'each refused call is audited once');
  t.ok(events.some((e) => e.outcome === 'allowed' && e.caller === 'ops-alice' && e.rule === 2 && e.rpc === 'Run'), 'allowed decisions carry the rule');
  t.ok(events.some((e) => e.outcome === 'allowed' && e.caller === 'billing' && e.rpc === 'Http' && e.path === '/restconf/data/interfaces'));
  const perCommand = events.filter((e) => e.rpc === 'Run' && (e.outcome === 'ok' || e.outcome === 'failed'));
  t.ok(perCommand.length >= cmds.length, 'one line per executed command');
  t.ok(perCommand.every((e) => !e.command || e.command.includes('***') || !/password|secret|key|community/i.test(e.command)), 'commands are masked');
  const hangLine = events.find((e) => e.outcome === 'error');
  t.ok(hangLine, 'the failed batch is audited');
  t.match(hangLine?.command, 'hang password ***');
});
