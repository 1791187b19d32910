import t from 'tap';
import { freePort } from './helpers/sshd.js';
import { runWarmpool } from './helpers/proc.js';
import { waitFor } from './helpers/wait.js';

/**
 * The README's first command: `npm run demo`, then the commands it prints, run as a user would
 * (separate processes, real gRPC). Ports are given twice on purpose: the demo sets its own
 * metrics default and a user's flag must win over it.
 */
t.test('the demo serves SSH and HTTP devices and the commands it suggests work; Ctrl-C exits 0', async (t) => {
  const [gport, mport] = [await freePort(), await freePort()];
  const addr = `127.0.0.1:${gport}`;
  const demo = runWarmpool(['demo', '--grpc.listen', addr, '--metrics.listen', `127.0.0.1:${mport}`]);
  t.teardown(() => demo.child.kill('SIGKILL'));
  await waitFor(() => demo.out().includes('Ctrl-C to stop'), 'the demo to start', 30_000);
  t.match(demo.out(), `metrics on http://127.0.0.1:${mport}/metrics`, 'the metrics flag given by the user wins');

  const cli = async (...args: string[]) => {
    const p = runWarmpool(args);
    const code = await p.exited;
    return { code, out: p.out() };
  };
  const exec = await cli('exec', '--addr', addr, 'demo-ios', 'show version');
  t.equal(exec.code, 0, exec.out);
  t.match(exec.out, /Cisco IOS/, 'a command on the simulated IOS device');

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
