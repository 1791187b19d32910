import { createServer, type AddressInfo, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { startTestDaemon, simSpec } from './kit/daemon.js';
import { startSim } from './kit/sim.js';
import { freePort } from './kit/sshd.js';
import { cli } from './kit/cli.js';
import { startCutReplyServer } from './kit/cut-reply.js';

/**
 * The warmpool command as a person or a script meets it when something is wrong: the real CLI
 * (a separate process) against a real daemon with simulated devices. Exit status per class
 * (README "CLI"): 0 ok, 1 other failure, 2 usage, 3 not found, 4 unavailable/deadline,
 * 5 refused, 6 invalid argument, 7 resource exhausted.
 */
/** Quotes come in pairs: no message may end half-quoted (parseArgs' own text did). */
function balanced(t: Test, text: string): void {
  for (const q of ['"', "'"]) t.equal(text.split(q).length % 2, 1, `balanced ${q} in: ${text}`);
}

t.test('usage errors exit 2 and suggest what was meant', async (t) => {
  const sub = await cli(['exce', 'r1', 'show version']);
  t.equal(sub.code, 2, 'an unknown subcommand is a usage error');
  t.match(sub.stderr, 'warmpool: unknown command "exce" (did you mean "exec"?)');
  balanced(t, sub.stderr);

  const prefix = await cli(['dev']);
  t.equal(prefix.code, 2);
  t.match(prefix.stderr, '(did you mean "devices"?)', 'a unique prefix is suggested');

  const flag = await cli(['devices', '--jsno']);
  t.equal(flag.code, 2, 'an unknown option is a usage error');
  t.match(flag.stderr, 'warmpool devices: unknown option --jsno (did you mean --json?)');
  t.match(flag.stderr, 'Run "warmpool devices --help" for usage.');

  const bogus = await cli(['devices', '--bogus']);
  t.equal(bogus.code, 2);
  t.match(bogus.stderr, 'warmpool devices: unknown option --bogus\n', 'nothing close: no guess');
  t.notMatch(bogus.stderr, /positional argument|To specify/, 'not parseArgs\' own text');
  balanced(t, bogus.stderr);

  const missing = await cli(['exec', 'r1']);
  t.equal(missing.code, 2, 'a missing argument is a usage error');
  t.match(missing.stderr, 'missing CMD');

  const noValue = await cli(['exec', '--addr']);
  t.equal(noValue.code, 2);
  t.match(noValue.stderr, 'option --addr needs a value');

  const serve = await cli(['serve', '--conifg', 'warmpool.yaml']);
  t.equal(serve.code, 2, 'serve: an unknown flag is a usage error, not silently ignored');
  t.match(serve.stderr, 'unknown option --conifg (did you mean --config?)');

  const none = await cli([]);
  t.equal(none.code, 2, 'no command at all');
  t.match(none.stderr, 'Exit status:', 'the usage shown lists the exit statuses');

  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /3 +not found \(NOT_FOUND\)/);
  t.match(help.stdout, /4 +unreachable or too slow \(UNAVAILABLE, DEADLINE_EXCEEDED\)/);
});

t.test('an unreachable daemon is named as such, with a hint and no empty "Resolution note"', async (t) => {
  const addr = `127.0.0.1:${await freePort()}`;
  const r = await cli(['devices', '--addr', addr]);
  t.equal(r.code, 4, 'unavailable class');
  t.match(r.stderr, `warmpool: cannot reach warmpool at ${addr}: `);
  t.match(r.stderr, 'is the daemon running?');
  t.notMatch(r.stderr, /Resolution note/);
  t.notMatch(r.stderr, /Error: connect/, 'no doubled "Error:" prefix');

  // A peer that accepts the connection but never speaks gRPC: the deadline passes before any call.
  const conns = new Set<Socket>();
  const silent = createServer((c) => conns.add(c));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const c of conns) c.destroy();
    silent.close();
  });
  const silentAddr = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const s = await cli(['devices', '--addr', silentAddr, '--timeout', '1500']);
  t.equal(s.code, 4, 'unavailable class');
  t.match(s.stderr, `warmpool: cannot reach warmpool at ${silentAddr}: Deadline exceeded`);
  t.notMatch(s.stderr, /is the daemon running/, 'something listens there: no such hint');
});

t.test('a reply a proxy cut after its headers reads as UNAVAILABLE on the device, not as an unreachable daemon', async (t) => {
  const cut = await startCutReplyServer();
  t.teardown(() => cut.close());
  const r = await cli(['exec', '--addr', `127.0.0.1:${cut.port}`, 'r1', 'show version']);
  t.equal(r.code, 4, `unavailable class\n${r.out}`);
  t.match(r.stderr, /^warmpool: r1: UNAVAILABLE: the call ended without a gRPC status: .*the commands may have run on the device/m);
  t.notMatch(r.stderr, /cannot reach warmpool|is the daemon running|INTERNAL/, 'the daemon was reached: not blamed on the address');
  t.equal(cut.calls(), 1, 'sent once');
});

t.test('device failures carry the device, its status and the exit status of their class', async (t) => {
  const [ios, linux] = await Promise.all([startSim(t, { platform: 'cisco_ios' }), startSim(t, { platform: 'linux' })]);
  const closed = await freePort();
  const td = await startTestDaemon({
    devices: [
      simSpec(ios, 'r1'),
      simSpec(ios, 'down1', { port: closed }),
      simSpec(ios, 'badlogin', { password: 'not-the-password' }),
      simSpec(linux, 'full1', { pool: { min: 0, max: 1, maxWaiting: 0 } }),
    ],
  });
  t.teardown(() => td.stop());
  const addr = ['--addr', td.daemon.grpcAddress];

  const ok = await cli(['exec', ...addr, 'r1', 'show version']);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.stdout, /### r1: show version/);

  const failed = await cli(['exec', ...addr, 'r1', 'show bogus-command']);
  t.equal(failed.code, 1, 'a command that failed on the device: 1');
  t.match(failed.stderr, 'warmpool: r1: "show bogus-command" failed');

  const down = await cli(['exec', ...addr, 'down1', 'show version']);
  t.equal(down.code, 4, `a device that is down: unavailable class\n${down.out}`);
  t.match(down.stderr, /^warmpool: down1: UNAVAILABLE: .*down1.*refused/m, 'the device\'s own error with its status');
  t.notMatch(down.stderr, /cannot reach warmpool|is the daemon running/, 'not blamed on the daemon');

  const unknown = await cli(['exec', ...addr, 'nosuch', 'show version']);
  t.equal(unknown.code, 3, 'an unknown device: not found class');
  t.match(unknown.stderr, /^warmpool: nosuch: NOT_FOUND: /m);

  const refused = await cli(['exec', ...addr, 'badlogin', 'show version']);
  t.equal(refused.code, 5, `login refused by the device: refused class\n${refused.out}`);
  t.match(refused.stderr, /^warmpool: badlogin: FAILED_PRECONDITION: /m);
  t.notMatch(refused.out, /not-the-password/, 'no secret in the message');

  const invalid = await cli(['exec', ...addr, 'r1', 'show version\nshow clock']);
  t.equal(invalid.code, 6, 'a request the daemon rejects: invalid argument class');
  t.match(invalid.stderr, /^warmpool: r1: INVALID_ARGUMENT: /m);

  const full = await cli(['exec', ...addr, 'full1', 'uname -a']);
  t.equal(full.code, 7, `the wait queue is full: resource exhausted class\n${full.out}`);
  t.match(full.stderr, /^warmpool: full1: RESOURCE_EXHAUSTED: /m);

  const noMatch = await cli(['many', ...addr, '--labels', 'site=nowhere', '--', 'show version']);
  t.equal(noMatch.code, 3, 'many: the call itself failed (no device matches): its class');
  t.match(noMatch.stderr, /^warmpool: NOT_FOUND: no device matches/m);
});
