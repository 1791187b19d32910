/**
 * Interactive answers (RunRequest.answers, docs/api.md "Interactive answers") through the real gRPC
 * API against simulated devices over SSH: each confirmation style, secrets kept out of output, logs
 * and audit, validation, the policy for read-only callers, exec mode, and the result cache.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { startSimDevice, type SimDevice } from '../src/sim/ssh-device.js';
import { startTestDaemon, simSpec, m, type TestDaemon } from './kit/daemon.js';
import { captureLogger } from './kit/http-fixtures.js';
import { waitFor } from './kit/wait.js';
import { WarmpoolClient } from '../src/client/index.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Tap = { teardown(fn: () => unknown): void };

const CONFIRM = { pattern: '\\[confirm\\]', reply: '' };
const SECRET_PW = 'Sx-answer-pw-4711';

async function sim(t: Tap, opts: Parameters<typeof startSimDevice>[0]): Promise<SimDevice> {
  const s = await startSimDevice(opts);
  t.teardown(() => s.close());
  return s;
}

async function daemon(t: Tap, devices: Parameters<typeof startTestDaemon>[0]): Promise<TestDaemon> {
  const td = await startTestDaemon(devices);
  t.teardown(() => td.stop());
  return td;
}

const run = (td: TestDaemon, req: Any, opts?: Any): Promise<Any> => td.call(m(td.proxy, 'Run'), req, opts);
const refusal = (p: Promise<unknown>): Promise<Any> => p.then(() => ({ code: 'resolved' }), (e) => e);

t.test('each confirmation style is answered and the command ends at the prompt', async (t) => {
  const ios = await sim(t, { platform: 'cisco_ios', hostname: 'r1' });
  const lnx = await sim(t, { platform: 'linux', hostname: 'l1' });
  const td = await daemon(t, { devices: [simSpec(ios, 'r1'), simSpec(lnx, 'l1', { mode: 'shell' })] });

  const reload = await run(td, { device: 'r1', commands: ['reload in 5', 'show clock'], privileged: true, answers: [CONFIRM] });
  t.equal(reload.results[0].output, 'Proceed with reload? [confirm]\nReload scheduled in 5 minutes by admin\n', 'reload: [confirm] answered with Enter');
  t.notOk(reload.results[0].failed);
  t.match(reload.results[1].output, /^\*\d\d:\d\d/, 'the next command of the batch runs normally');

  const copy = await run(td, { device: 'r1', commands: ['copy running-config startup-config'], privileged: true, answers: [{ pattern: 'Destination filename \\[[^\\]]*\\]\\?', reply: '' }] });
  t.equal(copy.results[0].output, 'Destination filename [startup-config]? \nBuilding configuration...\n[OK]\n', 'copy: the default file name accepted');

  // Two questions in a row; the answers are listed in the opposite order to show order does not matter.
  const del = await run(td, { device: 'r1', commands: ['delete flash:old.bin'], privileged: true, answers: [CONFIRM, { pattern: 'Delete filename \\[.*\\]\\?', reply: '' }] });
  t.equal(del.results[0].output, 'Delete filename [old.bin]? \nDelete flash:/old.bin? [confirm]\n', 'delete: file name, then [confirm]');
  t.notOk(del.results[0].failed);

  const no = await run(td, { device: 'r1', commands: ['reload in 5'], privileged: true, answers: [{ pattern: '\\[confirm\\]', reply: 'n' }] });
  t.equal(no.results[0].output, 'Proceed with reload? [confirm]n\n% Reload cancelled\n', 'a reply other than Enter is typed and echoed');
  t.equal(no.results[0].failed, true, 'the device printed an error line: failed');

  const sure = await run(td, { device: 'l1', commands: ['reset-counters', 'echo after'], answers: [{ pattern: '\\(y/n\\)', reply: 'y' }] });
  t.equal(sure.results[0].output, 'Are you sure? (y/n) y\ncounters reset\n', 'Linux (y/n) answered');
  t.equal(sure.results[1].output, 'after\n', 'each command starts with every answer unused; a command without a question ignores them');

  // Answers are per command: the same answer serves two commands of one batch.
  const twice = await run(td, { device: 'r1', commands: ['reload in 1', 'reload in 2'], privileged: true, answers: [CONFIRM] });
  t.same(twice.results.map((r: Any) => r.output.split('\n')[1]), ['Reload scheduled in 1 minutes by admin', 'Reload scheduled in 2 minutes by admin']);

  const info: Any = await run(td, { device: 'r1', commands: ['show clock'] });
  t.equal(info.session.reused, true, 'the session stayed clean and went back to the pool');
});

t.test('an unanswered question times out naming the question; a repeated question is answered only once', async (t) => {
  const ios = await sim(t, { platform: 'cisco_ios', hostname: 'r1' });
  const lnx = await sim(t, { platform: 'linux', hostname: 'l1' });
  const td = await daemon(t, { devices: [simSpec(ios, 'r1'), simSpec(lnx, 'l1', { mode: 'shell' })] });

  const err = await refusal(run(td, { device: 'r1', commands: ['reload in 5'], privileged: true, command_timeout_ms: 800 }));
  t.equal(err.code, status.DEADLINE_EXCEEDED);
  t.match(err.details, /^device r1: no prompt within 800 ms waiting for the prompt after "reload in 5"; the output ended at a question: "Proceed with reload\? \[confirm\]" \(pass RunRequest\.answers to answer it\)$/);

  const wrong = await refusal(run(td, { device: 'r1', commands: ['copy running-config startup-config'], privileged: true, command_timeout_ms: 800, answers: [{ pattern: 'nothing like it', reply: 'x' }] }));
  t.equal(wrong.code, status.DEADLINE_EXCEEDED, 'no pattern matched the question');
  t.match(wrong.details, /the output ended at a question: "Destination filename \[startup-config\]\?" \(no unused answer's pattern matches its end\)$/);

  const again = await refusal(run(td, { device: 'l1', commands: ['reset-counters'], command_timeout_ms: 800, answers: [{ pattern: '\\(y/n\\)', reply: 'maybe' }] }));
  t.equal(again.code, status.DEADLINE_EXCEEDED, 'the device asked again; the used answer was not sent again');
  t.match(again.details, /the output ended at a question: "Are you sure\? \(y\/n\)" \(every answer was already used once\)/);

  const listed = await run(td, { device: 'l1', commands: ['reset-counters'], answers: [{ pattern: '\\(y/n\\)', reply: 'maybe' }, { pattern: '\\(y/n\\)', reply: 'n' }] });
  t.equal(listed.results[0].output, 'Are you sure? (y/n) maybe\nPlease answer y or n.\nAre you sure? (y/n) n\naborted\n', 'an answer listed twice answers twice, in order');
});

t.test('secret replies are masked in output and never reach logs, audit or errors', async (t) => {
  const lnx = await sim(t, { platform: 'linux', hostname: 'l1', password: SECRET_PW });
  const ios = await sim(t, { platform: 'cisco_ios', hostname: 'r1' });
  const dir = t.testdir({});
  const auditFile = join(dir, 'audit.log');
  const { logger, lines } = captureLogger('debug');
  const td = await startTestDaemon({
    devices: [simSpec(lnx, 'l1', { mode: 'shell' }), simSpec(ios, 'r1')], logger,
    argv: ['--log.audit.file', auditFile, '--log.audit.includeOutput', 'true'],
  });
  t.teardown(() => td.stop());
  const pw = { pattern: 'password for \\S+:', reply: SECRET_PW, secret: true };

  const r = await run(td, { device: 'l1', commands: ['sudo whoami'], answers: [pw] });
  t.equal(r.results[0].output, '[sudo] password for admin: \nroot\n', 'not echoed by the device, the password is not in the output');

  // A device that echoes: the echo is masked, also for a one-letter reply (only where it was echoed).
  const echoed = await run(td, { device: 'l1', commands: ['reset-counters'], answers: [{ pattern: '\\(y/n\\)', reply: 'y', secret: true }] });
  t.equal(echoed.results[0].output, 'Are you sure? (y/n) [REDACTED]\ncounters reset\n');

  // A device that prints the secret back: masked anywhere in the output, also when streamed.
  const chunks: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = td.proxy.RunStream({ device: 'r1', commands: ['delete flash:x'], privileged: true, answers: [{ pattern: 'Delete filename \\[x\\]\\?', reply: SECRET_PW, secret: true }, CONFIRM] });
    call.on('data', (ev: Any) => ev.chunk && chunks.push(ev.chunk.data));
    call.on('error', reject);
    call.on('end', resolve);
  });
  t.equal(chunks.join(''), 'Delete filename [x]? [REDACTED]\nDelete flash:/[REDACTED]? [confirm]\n');

  // Wrong password: asked again, not answered again; the error quotes the question, not the reply.
  const wrong = await refusal(run(td, { device: 'l1', commands: ['sudo whoami'], command_timeout_ms: 800, answers: [{ ...pw, reply: 'Sx-wrong-pw-0815' }] }));
  t.equal(wrong.code, status.DEADLINE_EXCEEDED);
  // The quoted line goes through the log redaction too ("password X" masks X): over-masking is accepted.
  t.match(wrong.details, /the output ended at a question: "\[sudo\] password \*\*\* admin:" \(every answer was already used once\)/);

  await waitFor(() => readFileSync(auditFile, 'utf8').includes('delete flash:x'), 'the audit lines', 5000);
  const audit = readFileSync(auditFile, 'utf8');
  const logs = lines.join('\n');
  for (const secret of [SECRET_PW, 'Sx-wrong-pw-0815']) {
    t.notOk(audit.includes(secret), `audit holds no ${secret}`);
    t.notOk(logs.includes(secret), `logs hold no ${secret}`);
    t.notOk(wrong.details.includes(secret), 'the error holds no secret');
  }
  const events = audit.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const sudo = events.find((e: Any) => e.command === 'sudo whoami' && e.outcome === 'ok');
  t.same(sudo?.answers, [{ pattern: 'password for \\S+:', reply: '[REDACTED]' }], 'audit records the answer with the secret reply redacted');
  const plain = events.find((e: Any) => e.command === 'delete flash:x' && e.outcome === 'ok');
  t.same(plain?.answers?.[1], { pattern: '\\[confirm\\]', reply: '' }, 'a reply not marked secret is audited as sent');
  t.ok(lines.some((l) => l.includes('questions answered')), 'the log says how many questions were answered');
});

t.test('answers are validated with messages naming the field, before anything reaches a device', async (t) => {
  const ios = await sim(t, { platform: 'cisco_ios', hostname: 'r1' });
  const lnx = await sim(t, { platform: 'linux', hostname: 'l1' });
  const td = await daemon(t, { devices: [simSpec(ios, 'r1'), simSpec(lnx, 'x1')] });
  const before = ios.stats.commandsRun;
  const cases: Array<[string, Any[], RegExp]> = [
    ['too many', Array.from({ length: 17 }, () => CONFIRM), /^device "r1": answers: 17 answers exceed the limit of 16$/],
    ['backreference', [CONFIRM, { pattern: '(a)\\1', reply: '' }], /^device "r1": answers\[1\]\.pattern: backreferences \(\\1\) are not supported: patterns use RE2 syntax/],
    ['lookahead', [{ pattern: 'Proceed(?= with)', reply: '' }], /^device "r1": answers\[0\]\.pattern: lookahead/],
    ['too complex', [{ pattern: '(?:x{0,50}y){9}', reply: '' }], /^device "r1": answers\[0\]\.pattern: is too complex/],
    ['empty pattern', [{ pattern: '', reply: 'y' }], /^device "r1": answers\[0\]\.pattern: is required/],
    ['matches anything', [{ pattern: '.*', reply: 'y' }], /^device "r1": answers\[0\]\.pattern: matches an empty line/],
    ['line break', [{ pattern: 'x', reply: 'y\nreload' }], /^device "r1": answers\[0\]\.reply: contains a line break; the daemon sends one after the reply/],
    ['control', [{ pattern: 'x', reply: 'y\u0003' }], /^device "r1": answers\[0\]\.reply: contains a control character$/],
    ['long reply', [{ pattern: 'x', reply: 'y'.repeat(1025) }], /^device "r1": answers\[0\]\.reply: is 1025 characters, over the limit of 1024$/],
  ];
  for (const [name, answers, want] of cases) {
    const e = await refusal(run(td, { device: 'r1', commands: ['show clock'], answers }));
    t.equal(e.code, status.INVALID_ARGUMENT, name);
    t.match(e.details, want, name);
  }
  const secret = await refusal(run(td, { device: 'r1', commands: ['show clock'], answers: [{ pattern: 'x', reply: 'Sx-ctl\rpw', secret: true }] }));
  t.notOk(secret.details.includes('Sx-ctl'), 'a refused reply is never quoted');
  const many = await refusal(new Promise((resolve, reject) => {
    const call = td.proxy.RunMany({ template: { commands: ['show clock'], answers: [{ pattern: '(a)\\1', reply: '' }] }, devices: ['r1'] });
    call.on('data', () => undefined);
    call.on('error', reject);
    call.on('end', resolve);
  }));
  t.match(many.details, /template\.answers\[0\]\.pattern: backreferences/, 'RunMany names the template field');
  const exec = await refusal(run(td, { device: 'x1', commands: ['reset-counters'], answers: [{ pattern: '\\(y/n\\)', reply: 'y' }] }));
  t.equal(exec.code, status.INVALID_ARGUMENT);
  t.equal(exec.details, 'device "x1": answers: the device uses exec mode, which has no terminal to answer questions on; interactive answers need a shell-mode device');
  t.equal(ios.stats.commandsRun, before, 'no command reached the device');

  // RE2 is linear: a pattern that would backtrack for seconds in JavaScript answers at once.
  const t0 = performance.now();
  const ok = await run(td, { device: 'r1', commands: ['reload in 5'], privileged: true, answers: [{ pattern: '(?:[a-z ]+[a-z ]+)+\\? \\[confirm\\]', reply: '' }] });
  t.match(ok.results[0].output, /Reload scheduled/);
  t.ok(performance.now() - t0 < 5000, 'a nested-quantifier pattern is matched in linear time');
});

t.test('policy: read-only callers may not answer; callers allowed to change the device may', async (t) => {
  const ios = await sim(t, { platform: 'cisco_ios', hostname: 'r1' });
  const dir = t.testdir({
    'tokens.yaml': 'callers:\n  - name: viewer\n    token: "token-for-viewer-0123456789"\n  - name: ops\n    token: "token-for-ops-0123456789"\n',
    'policy.yaml': 'rules:\n  - callers: ["viewer"]\n    presets: [read-only]\n  - callers: ["ops"]\n',
  });
  const td = await daemon(t, { devices: [simSpec(ios, 'r1')], argv: ['--grpc.auth.tokensFile', join(dir, 'tokens.yaml'), '--grpc.auth.policyFile', join(dir, 'policy.yaml')] });
  const as = (who: string) => {
    const md = new Metadata();
    md.set('authorization', `Bearer token-for-${who}-0123456789`);
    return { metadata: md };
  };
  const before = ios.stats.commandsRun;
  const denied = await refusal(run(td, { device: 'r1', commands: ['show clock'], answers: [CONFIRM] }, as('viewer')));
  t.equal(denied.code, status.PERMISSION_DENIED, 'even with a read command: an empty reply would confirm whatever is asked');
  t.equal(denied.details, 'caller viewer may not send interactive answer 1 on r1: denied by rule 1 (preset read-only: interactive answers are refused where only reads are allowed)');
  const secret = await refusal(run(td, { device: 'r1', commands: ['show clock'], answers: [{ pattern: 'x', reply: 'Sx-viewer-pw', secret: true }] }, as('viewer')));
  t.notOk(secret.details.includes('Sx-viewer-pw'), 'a refused reply is never quoted');
  t.equal(ios.stats.commandsRun, before, 'nothing reached the device');
  const plain = await run(td, { device: 'r1', commands: ['show clock'] }, as('viewer'));
  t.match(plain.results[0].output, /^\*\d\d:\d\d/, 'the same caller without answers is served');
  const ops = await run(td, { device: 'r1', commands: ['reload in 5'], privileged: true, answers: [CONFIRM] }, as('ops'));
  t.match(ops.results[0].output, /Reload scheduled in 5 minutes/, 'an unrestricted caller answers');
});

t.test('an answered request is never cached or coalesced, and forgets the device\'s cached results', async (t) => {
  const ios = await sim(t, { platform: 'cisco_ios', hostname: 'r1' });
  const td = await daemon(t, { devices: [simSpec(ios, 'r1')] });
  const copy = 'copy running-config startup-config';
  const answered = await run(td, { device: 'r1', commands: [copy], privileged: true, cache_ttl_ms: 60_000, answers: [{ pattern: '\\]\\?', reply: '' }] });
  t.match(answered.results[0].output, /\[OK\]/);
  t.equal(answered.results[0].cached, false);
  // The same commands without answers: must reach the device (and stop at its question), not get the answered result.
  const plain = await refusal(run(td, { device: 'r1', commands: [copy], privileged: true, cache_ttl_ms: 60_000, command_timeout_ms: 800 }));
  t.equal(plain.code, status.DEADLINE_EXCEEDED, 'the plain call ran on the device and met the question');
  t.equal(ios.stats.commandCounts.get(copy), 2);

  const show = { device: 'r1', commands: ['show version'], cache_ttl_ms: 60_000 };
  const first = await run(td, show);
  t.equal((await run(td, show)).results[0].cached, true, 'a plain request is cached as before');
  const again = await run(td, { ...show, answers: [CONFIRM] });
  t.equal(again.results[0].cached, false, 'with answers the cache is bypassed');
  t.equal(again.results[0].output, first.results[0].output);
  t.equal((await run(td, show)).results[0].cached, false, 'and the device\'s cached results were forgotten');
  t.equal(ios.stats.commandCounts.get('show version'), 3);
});

t.test('the Node client passes answers', async (t) => {
  const ios = await sim(t, { platform: 'cisco_ios', hostname: 'r1' });
  const td = await daemon(t, { devices: [simSpec(ios, 'r1')] });
  const c = new WarmpoolClient(td.daemon.grpcAddress, { timeoutMs: 60_000 });
  t.teardown(() => c.close());
  const r = await c.run('r1', ['reload in 5'], { privileged: true, answers: [{ pattern: '\\[confirm\\]' }] });
  t.match(r.results[0]!.output, /Reload scheduled in 5 minutes/, 'reply defaults to "" (Enter)');
  const events = [];
  for await (const ev of c.runStream('r1', ['delete flash:a'], { privileged: true, answers: [{ pattern: '\\?', reply: '' }, { pattern: '\\[confirm\\]', reply: 'y', secret: true }] })) events.push(ev);
  t.equal(events.filter((e) => e.chunk).map((e) => e.chunk!.data).join(''), 'Delete filename [a]? \nDelete flash:/a? [confirm][REDACTED]\n');
});
