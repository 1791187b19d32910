import { createServer } from 'node:net';
import t, { type Test } from 'tap';
import { freePort } from './kit/sshd.js';
import { runCli } from './kit/cli.js';
import { waitFor } from './kit/wait.js';

/** Whether a port on loopback can be bound (nothing holds it any more). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The exit status, or 'still running' after `ms`: a demo that ignores the signal fails the test, not its timeout. */
function exitWithin(p: { exited: Promise<number | null> }, ms: number): Promise<number | null | 'still running'> {
  return Promise.race([p.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms).unref())]);
}

async function startDemo(t: Test, opts: { tty?: boolean; stdin?: boolean } = {}) {
  const [gport, mport] = [await freePort(), await freePort()];
  const argv = ['demo', '--grpc.listen', `127.0.0.1:${gport}`, '--metrics.listen', `127.0.0.1:${mport}`];
  const demo = runCli(argv, opts);
  t.teardown(() => {
    if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
  });
  await waitFor(() => demo.out().includes('Ctrl-C to stop'), 'the demo to start', 60_000);
  return { demo, gport, mport, argv };
}

/**
 * The README's first command: `npm run demo`, then the commands it prints, run as a user would
 * (separate processes, real gRPC). Ports are given twice on purpose: the demo sets its own
 * metrics default and a user's flag must win over it.
 */
t.test('the demo serves SSH and HTTP devices and the commands it suggests work; Ctrl-C exits 0', async (t) => {
  const [gport, mport] = [await freePort(), await freePort()];
  const addr = `127.0.0.1:${gport}`;
  const demo = runCli(['demo', '--grpc.listen', addr, '--metrics.listen', `127.0.0.1:${mport}`]);
  t.teardown(() => demo.child.kill('SIGKILL'));
  await waitFor(() => demo.out().includes('Ctrl-C to stop'), 'the demo to start', 30_000);
  t.match(demo.out(), `metrics on http://127.0.0.1:${mport}/metrics`, 'the metrics flag given by the user wins');

  const cli = async (...args: string[]) => {
    const p = runCli(args);
    const code = await p.exited;
    return { code, out: p.out() };
  };
  const exec = await cli('exec', '--addr', addr, 'demo-ios', 'show version');
  t.equal(exec.code, 0, exec.out);
  t.match(exec.out, /Cisco IOS/, 'a command on the simulated IOS device');
  const edge = await cli('exec', '--addr', addr, 'demo-edge', 'show version');
  t.equal(edge.code, 0, edge.out);
  t.match(edge.out, /Cisco IOS/, 'a command on the device behind the demo jump host');

  const eapi = await cli('http', '--addr', addr, 'demo-eos', 'POST', '/command-api', '--body',
    '{"jsonrpc":"2.0","method":"runCmds","params":{"version":1,"cmds":["show hostname"]},"id":1}');
  t.equal(eapi.code, 0, eapi.out);
  t.match(eapi.out, /"hostname":"demo-eos"/, 'an eAPI call over the pooled HTTP session');
  t.match(eapi.out, /HTTP 200/);

  const many = await cli('many', '--addr', addr, '--labels', 'role=network', '--', 'show version');
  t.equal(many.code, 0, many.out);
  for (const id of ['demo-ios', 'demo-eos', 'demo-junos']) t.match(many.out, id, `${id} answered`);

  const devices = await cli('devices', '--addr', addr);
  t.match(devices.out, /demo-eos\s.*\syes\s/, 'devices shows demo-eos with an HTTP API');

  demo.child.kill('SIGINT');
  t.equal(await demo.exited, 0, 'Ctrl-C stops the demo cleanly');
});

t.test('a second demo on the same ports says "port in use"; SIGHUP stops the first and frees its ports', async (t) => {
  const { demo, gport, mport, argv } = await startDemo(t);
  const second = runCli(argv);
  t.equal(await exitWithin(second, 60_000), 1, 'the second demo fails');
  t.match(second.stderr(), /^warmpool demo: port in use: 127\.0\.0\.1:\d+ \(gRPC\), 127\.0\.0\.1:\d+ \(metrics\): another warmpool demo is running\?/);
  t.notMatch(second.out(), /No address added|EADDRINUSE/, 'not grpc-js\'s own text');
  t.equal(demo.child.exitCode, null, 'the first demo is unharmed');

  demo.child.kill('SIGHUP');
  t.equal(await exitWithin(demo, 30_000), 0, 'SIGHUP (its terminal closed) stops the demo cleanly');
  t.ok(await portFree(gport), 'its gRPC port is free');
  t.ok(await portFree(mport), 'its metrics port is free');
});

t.test('the demo stops when its terminal\'s input ends', async (t) => {
  const { demo, gport } = await startDemo(t, { tty: true, stdin: true });
  demo.child.stdin!.end(); // script(1) passes the end of input on to the terminal: Ctrl-D
  t.equal(await exitWithin(demo, 30_000), 0, 'stopped cleanly (script exits with the demo\'s status)');
  t.ok(await portFree(gport), 'its gRPC port is free');
});
