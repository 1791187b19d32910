/**
 * The soak's command line and the numbers it is judged by (bench/soak.ts): duration and seed from
 * `--minutes N` / `--seed N` (or SOAK_MINUTES / SOAK_SEED); exits with a usage line when either is bad.
 */

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

export const MINUTES = Number(arg('minutes') ?? process.env.SOAK_MINUTES ?? 10);
export const SEED = Number(arg('seed') ?? process.env.SOAK_SEED ?? 20261123);
if (!(MINUTES > 0) || !Number.isFinite(SEED)) {
  process.stderr.write('usage: soak [--minutes N] [--seed N]   (or SOAK_MINUTES)\n');
  process.exit(2);
}
export const TOTAL_MS = MINUTES * 60_000;
/** Load without chaos first, so pools, JIT and caches reach their working size before the baseline. */
export const WARMUP_MS = Math.min(60_000, Math.max(10_000, TOTAL_MS * 0.1));
export const CALLERS = 8;
export const WATCHDOG_SLACK_MS = 5_000;
/** Every 10 s; more often on short runs so there are always enough samples to compare thirds. */
export const MEMORY_SAMPLE_MS = Math.min(10_000, Math.max(1000, (TOTAL_MS - WARMUP_MS) / 6));
export const CHAOS_MEAN_INTERVAL_MS = 6_000;
/** Tolerances for "back to baseline": stated here and printed with the result. */
export const FD_TOLERANCE = 8;
export const HANDLE_TOLERANCE = 10;
export const HEAP_GROWTH_MAX_BYTES = 10 * 1024 * 1024;
export const HEAP_GROWTH_MAX_RATIO = 0.2;
