/** Percentiles and result tables shared by the benchmarks. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export interface Row {
  name: string;
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function summarize(name: string, samples: number[]): Row {
  const s = [...samples].sort((a, b) => a - b);
  return { name, n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
}

export function table(rows: Row[], baseline?: string): string {
  const base = rows.find((r) => r.name === baseline);
  const lines = ['| case | n | p50 ms | p99 ms | mean ms | p50 ratio |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const ratio = base ? `${(r.p50 / base.p50).toFixed(2)}×` : '';
    lines.push(`| ${r.name} | ${r.n} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.mean.toFixed(3)} | ${ratio} |`);
  }
  return lines.join('\n');
}

/** bench/results/, whether running from bench/ (ts) or dist/bench/ (compiled). */
export function resultsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!dir.endsWith('/bench') && dir !== '/') dir = dirname(dir);
  const root = dirname(dir).endsWith('/dist') ? dirname(dirname(dir)) : dirname(dir);
  const out = join(root, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  return out;
}

export function writeResult(name: string, markdown: string, data: unknown): void {
  const dir = resultsDir();
  writeFileSync(join(dir, `${name}.md`), `${markdown}\n`);
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}
