/**
 * `npm run bench`: every benchmark, one after another (never two at once: they measure CPU), each in its
 * own process with --expose-gc, each writing bench/results/<name>.{md,json}. A benchmark that cannot run
 * (e.g. no sshd) fails loudly; the last line names every failure and the exit status is 1 if any failed.
 * Optional benchmarks (below) run only when named.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Name, the most it may take before it counts as failed (each is designed to take well under this), arguments. */
const benches: Array<[string, number, string[]]> = [
  ['ssh-warm-vs-cold', 180, []],
  ['http-pooled-vs-new', 120, []],
  ['pool-overhead', 240, ['10000']], // the README's figure is for 10 000 real sessions
  ['throughput', 180, []],
  ['scale', 420, []],
  ['openssh-peers', 180, []],
  ['matcher', 180, []],
  ['uds-vs-tcp', 180, []],
  ['scale-out', 240, []], // needs haproxy (scripts/install-test-deps.sh)
  ['netconf', 300, []],
];
/** Run only when named (`node dist/bench/run.js peers`): they need extra packages (scripts/install-bench-deps.sh). */
const optional: Array<[string, number, string[]]> = [['peers', 240, []]];
const only = process.argv.slice(2);
benches.push(...optional.filter(([name]) => only.includes(name)));
const failed: string[] = [];
const times: string[] = [];
const t0 = performance.now();
for (const [name, limitS, args] of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stdout.write(`\n=== ${name} ===\n`);
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(new URL(`${name}.js`, import.meta.url)), ...args], { stdio: 'inherit', timeout: limitS * 1000, killSignal: 'SIGTERM' });
  const s = (performance.now() - t) / 1000;
  times.push(`${name} ${s.toFixed(0)} s`);
  if (r.status !== 0) {
    const why = r.error ? String(r.error.message) : r.signal ? `killed by ${r.signal}${s >= limitS ? ` after the ${limitS} s limit` : ''}` : `exit status ${r.status}`;
    process.stdout.write(`=== ${name} FAILED: ${why} ===\n`);
    failed.push(name);
  }
}
process.stdout.write(`\nbench times: ${times.join(', ')}; total ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
process.stdout.write(failed.length ? `bench FAILED: ${failed.join(', ')}\n` : 'bench: all passed\n');
process.exit(failed.length ? 1 : 0);
