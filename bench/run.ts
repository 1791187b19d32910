/** `npm run bench`: every benchmark, one after another, each writing bench/results/<name>.{md,json}. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['ssh-warm-vs-cold.js', 'http-pooled-vs-new.js', 'pool-overhead.js'];
let failed = 0;
for (const b of benches) {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(new URL(b, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
