/**
 * The API contract in proto/ stays clean and compatible: buf lint (STANDARD + COMMENTS, with the
 * documented exceptions in buf.yaml), buf format, no breaking change against the last released
 * image (proto/released/), and the committed descriptor set that reflection serves is current.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const BUF = join(ROOT, 'node_modules/.bin/buf');

async function exec(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd: ROOT, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const buf = (args: string[]) => exec(BUF, args);

t.test('buf lint finds nothing: every service, RPC, message and field is documented', async (t) => {
  const r = await buf(['lint']);
  t.equal(r.code, 0, r.out);
  t.equal(r.out.trim(), '');
});

t.test('the .proto files are formatted as buf format writes them', async (t) => {
  const r = await buf(['format', '--diff', '--exit-code']);
  t.equal(r.code, 0, r.out);
});

t.test('no breaking change against the last released contract', async (t) => {
  const released = readdirSync(join(ROOT, 'proto/released')).filter((f) => f.endsWith('.binpb')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const last = released.at(-1);
  t.ok(last, 'a released image exists');
  const r = await buf(['breaking', '--against', join('proto/released', last as string)]);
  t.equal(r.code, 0, r.out);
});

t.test('the descriptor set served by reflection is built from the current proto/', async (t) => {
  const r = await exec(process.execPath, [join(ROOT, 'scripts/gen-descriptors.mjs'), '--check']);
  t.equal(r.code, 0, r.out || 'proto/descriptors.binpb matches a fresh build');
});
