/**
 * The simulated devices themselves, seen by a plain ssh2 client (what `warmpool sim`
 * users and other test files rely on).
 */
import net from 'node:net';
import { PassThrough } from 'node:stream';
import t, { type Test } from 'tap';
import ssh2 from 'ssh2';
import { startSimDevice, startSimFleet, type SimDevice } from '../src/sim/ssh-device.js';
import { parseSimArgs, runSimCommand } from '../src/sim/sim-command.js';
import { connectSsh } from '../src/transport/ssh-connect.js';
import { simDeviceSpec, startSim } from './kit/sim.js';

interface Raw {
  client: ssh2.Client;
  banner: string;
}

function rawConnect(t: Test, sim: SimDevice, password = sim.password): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let banner = '';
    client.on('banner', (b: string) => (banner += b));
    client.on('ready', () => resolve({ client, banner }));
    client.on('error', reject);
    client.connect({ sock: net.connect({ host: sim.host, port: sim.port, noDelay: true }), username: sim.username, password, readyTimeout: 5000 } as ssh2.ConnectConfig);
    t.teardown(() => client.end());
  });
}

/** Opens a shell, types `input` after the first prompt, collects everything until `until` matches. */
function shellTranscript(client: ssh2.Client, steps: { send: string; until: RegExp }[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    client.shell({ term: 'vt100', cols: 200, rows: 24 }, (err, stream) => {
      if (err) return reject(err);
      let all = '';
      let i = -1;
      let mark = 0;
      const timer = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(all.slice(-300))}`)), timeoutMs);
      const next = (): void => {
        i++;
        if (i >= steps.length) {
          clearTimeout(timer);
          stream.end();
          resolve(all);
          return;
        }
        mark = all.length;
        stream.write((steps[i] as { send: string }).send);
      };
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        all += d;
        if (i === -1 ? /[>#] ?$/.test(all) && all.includes('\r\n', all.lastIndexOf('#####')) : (steps[i] as { until: RegExp }).until.test(all.slice(mark))) next();
      });
    });
  });
}

t.test('IOS: banner before login, MOTD with prompt-like lines, echo with CRLF, paging with erase artefacts', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', runConfigLines: 60 });
  const { client, banner } = await rawConnect(t, sim);
  t.match(banner, /### AUTHORIZED ACCESS ONLY ###/);
  const out = await shellTranscript(client, [
    { send: 'enable\n', until: /Password: $/ },
    { send: `${sim.enableSecret}\n`, until: /Router#$/ },
    { send: 'show running-config\n', until: / --More-- $/ },
    { send: ' ', until: / --More-- $/ },
    { send: 'q', until: /Router#$/ },
    { send: 'terminal length 0\n', until: /Router#$/ },
    { send: 'show running-config\n', until: /\r\nend\r\nRouter#$/ },
  ]);
  t.match(out, /noc-hotline#\r\nchange-freeze>\r\n/);
  t.notMatch(out, new RegExp(sim.enableSecret), 'the enable secret is not echoed');
  t.match(out, /Router#show running-config\r\nBuilding configuration\.\.\.\r\n/);
  t.match(out, / --More-- \x08{10} {10}\x08{10}/);
  const afterPagingOff = out.slice(out.lastIndexOf('terminal length 0'));
  t.notMatch(afterPagingOff, /More/);
});

t.test('IOS errors: caret under the bad word, % Invalid input, % Incomplete command', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const { client } = await rawConnect(t, sim);
  const out = await shellTranscript(client, [
    { send: 'show foo\n', until: /Router>$/ },
    { send: 'show\n', until: /Router>$/ },
  ]);
  t.match(out, /Router>show foo\r\n {12}\^\r\n% Invalid input detected at '\^' marker\.\r\n/);
  t.match(out, /% Incomplete command\./);
});

t.test('Junos: configure shows [edit], commit and-quit returns to operational mode, pager is ---(more)---', async (t) => {
  const sim = await startSim(t, { platform: 'juniper_junos', runConfigLines: 60 });
  const { client } = await rawConnect(t, sim);
  const out = await shellTranscript(client, [
    { send: 'show configuration\n', until: /---\(more\)---$/ },
    { send: 'q', until: /admin@router> $/ },
    { send: 'configure\n', until: /admin@router# $/ },
    { send: 'set system host-name r9\n', until: /admin@router# $/ },
    { send: 'commit and-quit\n', until: /admin@r9> $/ },
    { send: 'bogus\n', until: /admin@r9> $/ },
  ]);
  t.match(out, /Entering configuration mode\r\n\r\n\[edit\]\r\nadmin@router# /);
  t.match(out, /commit complete\r\nExiting configuration mode/);
  t.match(out, /unknown command\./);
});

t.test('linux exec channel: stdout, stderr and exit status', async (t) => {
  const sim = await startSim(t, { platform: 'linux' });
  const { client } = await rawConnect(t, sim);
  const run = (cmd: string): Promise<{ out: string; err: string; code: number }> =>
    new Promise((resolve, reject) => {
      client.exec(cmd, (e, st) => {
        if (e) return reject(e);
        let out = '';
        let err = '';
        st.on('data', (d: Buffer) => (out += d.toString()));
        st.stderr.on('data', (d: Buffer) => (err += d.toString()));
        st.on('exit', (code: number) => st.on('close', () => resolve({ out, err, code })));
      });
    });
  t.same(await run('echo hi there'), { out: 'hi there\n', err: '', code: 0 });
  t.same(await run('false'), { out: '', err: '', code: 1 });
  const nf = await run('nope');
  t.equal(nf.code, 127);
  t.match(nf.err, /command not found/);
  t.equal((await run('seq 1000')).out.split('\n').length, 1001);
});

t.test('IOS exec channel runs one command (as `ssh router show clock` does)', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const { client } = await rawConnect(t, sim);
  const out = await new Promise<string>((resolve, reject) => {
    client.exec('show clock', (e, st) => {
      if (e) return reject(e);
      let o = '';
      st.on('data', (d: Buffer) => (o += d.toString()));
      st.on('close', () => resolve(o));
    });
  });
  t.match(out, /^\*\d\d:\d\d:\d\d\.\d{3} UTC/);
});

t.test('stats count current, peak and total connections and every command', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const a = await rawConnect(t, sim);
  const b = await rawConnect(t, sim);
  t.equal(sim.stats.connections, 2);
  t.equal(sim.stats.maxConnections, 2);
  await shellTranscript(a.client, [{ send: 'show clock\n', until: /Router>$/ }]);
  t.equal(sim.stats.commandCounts.get('show clock'), 1);
  a.client.end();
  b.client.end();
  for (let i = 0; i < 50 && sim.stats.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(sim.stats.connections, 0);
  t.equal(sim.stats.maxConnections, 2);
  t.equal(sim.stats.totalConnections, 2);
});

t.test('maxSessions closes connections beyond the limit', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios', faults: { maxSessions: 1 } });
  await rawConnect(t, sim);
  await t.rejects(rawConnect(t, sim));
  t.equal(sim.stats.rejectedConnections, 1);
  t.equal(sim.stats.maxConnections, 1);
});

t.test('maxChannels refuses channels beyond the limit on one connection', async (t) => {
  const sim = await startSim(t, { platform: 'linux', faults: { maxChannels: 1 }, perCommandLatencyMs: 200 });
  const { client } = await rawConnect(t, sim);
  const first = new Promise<number>((resolve, reject) =>
    client.exec('true', (e, st) => (e ? reject(e) : st.on('exit', (code: number) => resolve(code)).resume())),
  );
  await new Promise((r) => setTimeout(r, 50));
  const second = new Promise((resolve, reject) => client.exec('true', (e) => (e ? reject(e) : resolve(undefined))));
  await t.rejects(second, /open failure|prohibited|refused/i);
  t.equal(await first, 0);
});

t.test('refuseAuth and a wrong password are AUTH_FAILED through connectSsh', async (t) => {
  const sim = await startSim(t, { platform: 'cisco_ios' });
  const { Secret } = await import('../src/config/secret.js');
  await t.rejects(connectSsh(simDeviceSpec(sim, { password: Secret.fromValue('nope') })), { code: 'AUTH_FAILED' });
  sim.setFault({ refuseAuth: true });
  await t.rejects(connectSsh(simDeviceSpec(sim)), { code: 'AUTH_FAILED' });
});

t.test('setHostKey changes the fingerprint; a pinned client sees HOST_KEY_MISMATCH', async (t) => {
  const sim = await startSim(t, { platform: 'arista_eos' });
  const pinned = simDeviceSpec(sim);
  const ok = await connectSsh(pinned);
  t.equal(ok.hostKeyFingerprint, sim.hostKeyFingerprint);
  ok.close();
  const before = sim.hostKeyFingerprint;
  const after = sim.setHostKey();
  t.not(after, before);
  t.equal(sim.hostKeyFingerprint, after);
  await t.rejects(connectSsh(pinned), { code: 'HOST_KEY_MISMATCH' });
  sim.setFault({ changeHostKey: true });
  t.not(sim.hostKeyFingerprint, after, 'the changeHostKey fault swaps the key again');
});

t.test('startSimFleet starts several devices and closes them all', async (t) => {
  const fleet = await startSimFleet([
    { id: 'r1', platform: 'cisco_ios' },
    { id: 'j1', platform: 'juniper_junos' },
  ]);
  t.equal(fleet.devices.size, 2);
  const ports = [...fleet.devices.values()].map((d) => d.port);
  await fleet.close();
  for (const port of ports) {
    await t.rejects(
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve(undefined);
        });
        s.on('error', reject);
      }),
    );
  }
});

t.test('sim command: flags parse, non-loopback hosts are refused, the device prints its address and key', async (t) => {
  const o = parseSimArgs(['--platform', 'cisco_nxos', '--port=0', '--latency-ms', '5', '--fault', 'hang,refuse-auth', '--max-sessions', '3']);
  t.match(o, { platform: 'cisco_nxos', port: 0, perCommandLatencyMs: 5, faults: { hang: true, refuseAuth: true, maxSessions: 3 } });
  t.throws(() => parseSimArgs(['--platform', 'cisco_nxos', '--host', '10.0.0.1']), /loopback/);
  t.throws(() => parseSimArgs(['--platform', 'vax']), /--platform must be one of/);
  const err = new PassThrough();
  t.equal(await runSimCommand(['--platform', 'nope'], new PassThrough(), err), 2);

  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const running = runSimCommand(['--platform', 'cisco_ios', '--port', '0'], out, new PassThrough());
  for (let i = 0; i < 100 && !text.includes('Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 10));
  t.match(text, /listening on 127\.0\.0\.1:\d+/);
  t.match(text, /host key: +SHA256:[A-Za-z0-9+/]{43}/);
  process.emit('SIGTERM');
  t.equal(await running, 0);
});

t.test('a simulator survives many short connections without leaking', async (t) => {
  const sim = await startSimDevice({ platform: 'linux' });
  t.teardown(() => sim.close());
  for (let i = 0; i < 20; i++) {
    const c = await connectSsh(simDeviceSpec(sim));
    c.close();
  }
  for (let i = 0; i < 100 && sim.stats.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(sim.stats.connections, 0);
  t.equal(sim.stats.totalConnections, 20);
});
