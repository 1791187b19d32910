import { spawn } from 'node:child_process';
import t from 'tap';
import { ROOT } from './kit/proc.js';
import { startCutReplyServer } from './kit/cut-reply.js';

/**
 * The Python client (clients/python) is tested by its own unittest suite, against real
 * `warmpool demo` daemons it starts (from dist/ when the build is fresh, else from src/ through
 * tap's TS loader: no build is needed; see clients/python/tests/demo_daemon.py). This file
 * runs that suite with Debian's python3 so `npm test` covers it, and fails with its output.
 * Needs: python3-grpcio, python3-protobuf, protobuf-compiler, protobuf-compiler-grpc (the last two
 * for the check that the committed stubs match proto/), and openssl (the test PKI for mTLS).
 */
const PYTHON = process.env.WARMPOOL_PYTHON ?? '/usr/bin/python3';
const LIMIT_MS = 170_000;

t.test('the Python client passes its unittest suite against a real daemon', async (t) => {
  // Started here rather than by the suite: a second node with the TS loader costs ~10 s.
  const cut = await startCutReplyServer();
  t.teardown(() => cut.close());
  const child = spawn(PYTHON, ['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-v'], {
    cwd: ROOT,
    // The suite starts the demo with this node binary; PYTHONDONTWRITEBYTECODE keeps the tree clean.
    env: { ...process.env, WARMPOOL_NODE: process.execPath, WARMPOOL_CUT_REPLY_PORT: String(cut.port), PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
  t.teardown(() => {
    clearTimeout(timer);
    child.kill('SIGKILL');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  // The output goes into the failure's diagnostics only.
  t.equal(code, 0, 'python -m unittest exits 0', { output: out });
  const ran = Number(/^Ran (\d+) tests? in/m.exec(out)?.[1] ?? 0);
  // Discovery finding nothing would also exit 0 on Python < 3.12.
  t.ok(ran >= 20, `the suite ran ${ran} tests (at least 20 expected)`, { output: out });
  t.match(out, /^OK$/m, 'unittest reports OK', { output: out });
});
