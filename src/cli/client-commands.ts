import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { RunRequest } from '../gen/warmpool/v1/RunRequest.js';
import type { RunResponse__Output } from '../gen/warmpool/v1/RunResponse.js';
import type { DeviceRunResult__Output } from '../gen/warmpool/v1/DeviceRunResult.js';
import type { HttpResponse__Output } from '../gen/warmpool/v1/HttpResponse.js';
import type { ListDevicesResponse__Output } from '../gen/warmpool/v1/ListDevicesResponse.js';
import type { GetPoolStatsResponse__Output } from '../gen/warmpool/v1/GetPoolStatsResponse.js';
import { statusName } from '../api/status.js';
import { CLIENT_OPTION_HELP, CLIENT_PARSE_OPTIONS, clientOptions, connect, describeCallError, unaryCall, type ClientOptions, type Clients } from './client.js';
import { renderTable } from './table.js';

const RUN_OPTIONS = {
  ...CLIENT_PARSE_OPTIONS,
  privileged: { type: 'boolean', default: false },
  configure: { type: 'boolean', default: false },
  'stop-on-error': { type: 'boolean', default: false },
  'command-timeout': { type: 'string' },
  'cache-ttl': { type: 'string' },
  expect: { type: 'string' },
} as const;

const RUN_HELP = `Run options:
  --privileged         enter privileged (enable) mode for these commands
  --configure          enter configuration mode (never cached)
  --stop-on-error      stop at the first failed command
  --command-timeout MS per-command timeout
  --cache-ttl MS       accept a cached result at most this old
  --expect REGEX       end each command's output at this RE2 pattern instead of the prompt`;

type Out = { out: (s: string) => void; err: (s: string) => void };
const stdio: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Parse, connect, run `body`, and turn call failures into a message and exit status 1. */
async function withClient(
  argv: string[],
  options: Record<string, { type: 'string' | 'boolean'; default?: string | boolean; short?: string }>,
  help: string,
  body: (c: Clients, o: ClientOptions, values: Record<string, string | boolean | undefined>, positionals: string[]) => Promise<number>,
): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  if (values.help) {
    stdio.out(`${help}\n\n${CLIENT_OPTION_HELP}\n`);
    return 0;
  }
  const o = clientOptions(values as Record<string, string | boolean | undefined>, process.env);
  const c = connect(o);
  try {
    return await body(c, o, values as Record<string, string | boolean | undefined>, positionals);
  } catch (err) {
    stdio.err(`warmpool: ${describeCallError(err, o.addr)}\n`);
    return 1;
  } finally {
    c.close();
  }
}

function optionalNumber(v: string | boolean | undefined, flag: string): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag}: "${String(v)}" is not a non-negative integer`);
  return n;
}

function runTemplate(values: Record<string, string | boolean | undefined>, commands: string[]): RunRequest {
  return {
    commands,
    privileged: Boolean(values.privileged),
    configure: Boolean(values.configure),
    stop_on_error: Boolean(values['stop-on-error']),
    command_timeout_ms: optionalNumber(values['command-timeout'], 'command-timeout'),
    cache_ttl_ms: optionalNumber(values['cache-ttl'], 'cache-ttl'),
    expect: (values.expect as string | undefined) ?? '',
  };
}

function printRun(r: RunResponse__Output, out: Out): boolean {
  let ok = true;
  for (const res of r.results) {
    const tags = [`${res.duration_ms.toFixed(1)} ms`, res.cached ? 'cached' : '', res.failed ? 'FAILED' : ''].filter(Boolean).join(', ');
    out.out(`### ${r.device}: ${res.command} (${tags})\n${res.output}${res.output.endsWith('\n') || res.output === '' ? '' : '\n'}`);
    if (res.failed) {
      ok = false;
      out.err(`warmpool: ${r.device}: "${res.command}" failed${res.error ? `: ${res.error}` : ''}\n`);
    }
  }
  return ok;
}

export const EXEC_HELP = `usage: warmpool exec DEVICE CMD [CMD...]

Runs the commands in order on one pooled session of DEVICE. Quote each command:
  warmpool exec core-sw1 "show version" "show clock"

${RUN_HELP}`;

export function execCommand(argv: string[]): Promise<number> {
  return withClient(argv, RUN_OPTIONS, EXEC_HELP, async (c, o, values, pos) => {
    const [device, ...commands] = pos;
    if (!device || commands.length === 0) throw new Error('usage: warmpool exec DEVICE CMD [CMD...] (see --help)');
    const req = { device, ...runTemplate(values, commands) };
    const r = await unaryCall<RunRequest, RunResponse__Output>(c.proxy.Run.bind(c.proxy), req, c.metadata(device), c.deadline());
    if (o.json) {
      stdio.out(`${JSON.stringify(r, null, 2)}\n`);
      return r.results.some((x) => x.failed) ? 1 : 0;
    }
    return printRun(r, stdio) ? 0 : 1;
  });
}

export const MANY_HELP = `usage: warmpool many (--devices a,b | --labels k=v[,k=v]) [--concurrency N] -- CMD [CMD...]

Runs the same commands on many devices; a progress line shows while devices finish.

${RUN_HELP}`;

export function manyCommand(argv: string[]): Promise<number> {
  const options = { ...RUN_OPTIONS, devices: { type: 'string' }, labels: { type: 'string' }, concurrency: { type: 'string' } } as const;
  return withClient(argv, options, MANY_HELP, async (c, o, values, commands) => {
    const devices = String(values.devices ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const labels: Record<string, string> = {};
    for (const kv of String(values.labels ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new Error(`--labels: "${kv}" is not key=value`);
      labels[kv.slice(0, i)] = kv.slice(i + 1);
    }
    if (commands.length === 0) throw new Error('usage: warmpool many (--devices a,b | --labels k=v) -- CMD [CMD...]');
    const req = { template: runTemplate(values, commands), devices, labels, concurrency: optionalNumber(values.concurrency, 'concurrency') };
    const call = c.proxy.RunMany(req, c.metadata(), { deadline: c.deadline() });
    const results: DeviceRunResult__Output[] = [];
    let failed = 0;
    const tty = process.stderr.isTTY && !o.json;
    await new Promise<void>((resolve, reject) => {
      call.on('data', (r: DeviceRunResult__Output) => {
        results.push(r);
        if (r.error || r.response?.results.some((x) => x.failed)) failed++;
        if (tty) stdio.err(`\r${results.length} done, ${failed} failed`);
        else if (!o.json) printMany(r);
      });
      call.on('error', reject);
      call.on('end', resolve);
    });
    if (tty) {
      stdio.err('\n');
      for (const r of results) printMany(r);
    }
    if (o.json) stdio.out(`${JSON.stringify(results, null, 2)}\n`);
    else stdio.err(`${results.length} devices: ${results.length - failed} ok, ${failed} failed\n`);
    return failed > 0 ? 1 : 0;
  });
}

function printMany(r: DeviceRunResult__Output): void {
  if (r.error) stdio.out(`### ${r.device}: ERROR ${statusName(r.error.code)}: ${r.error.message}\n`);
  else if (r.response) printRun(r.response, stdio);
}

export const HTTP_HELP = `usage: warmpool http DEVICE METHOD PATH [--body DATA | --body-file FILE] [--header "K: V"]...

One request over the device's pooled HTTP connections; prints the status line to stderr and the body to stdout.`;

export function httpCommand(argv: string[]): Promise<number> {
  const options = { ...CLIENT_PARSE_OPTIONS, body: { type: 'string' }, 'body-file': { type: 'string' }, header: { type: 'string', multiple: true } } as const;
  return withClient(argv, options as never, HTTP_HELP, async (c, o, values, pos) => {
    const [device, method, path] = pos;
    if (!device || !method || !path) throw new Error('usage: warmpool http DEVICE METHOD PATH (see --help)');
    const headers: Record<string, string> = {};
    for (const h of (values.header as unknown as string[] | undefined) ?? []) {
      const i = h.indexOf(':');
      if (i <= 0) throw new Error(`--header: "${h}" is not "Name: value"`);
      headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
    }
    const body = values['body-file'] ? readFileSync(values['body-file'] as string) : Buffer.from((values.body as string | undefined) ?? '');
    const r = await unaryCall<object, HttpResponse__Output>(c.proxy.Http.bind(c.proxy) as never, { device, method, path, headers, body }, c.metadata(device), c.deadline());
    if (o.json) {
      stdio.out(`${JSON.stringify({ ...r, body: r.body.toString('utf8') }, null, 2)}\n`);
    } else {
      stdio.err(`HTTP ${r.status} (${r.duration_ms.toFixed(1)} ms, session ${r.session?.id ?? '-'}${r.session?.reused ? ', reused' : ''})\n`);
      stdio.out(r.body.toString('utf8'));
      if (r.body.length && !r.body.toString('utf8').endsWith('\n')) stdio.out('\n');
    }
    return r.status >= 400 ? 1 : 0;
  });
}

export function devicesCommand(argv: string[]): Promise<number> {
  return withClient(argv, { ...CLIENT_PARSE_OPTIONS, labels: { type: 'string' } }, 'usage: warmpool devices [--labels k=v,...]', async (c, o, values) => {
    const labels = Object.fromEntries(String(values.labels ?? '').split(',').filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]));
    const r = await unaryCall<object, ListDevicesResponse__Output>(c.inventory.ListDevices.bind(c.inventory) as never, { labels }, c.metadata(), c.deadline());
    if (o.json) stdio.out(`${JSON.stringify(r.devices, null, 2)}\n`);
    else {
      stdio.out(renderTable(['ID', 'PLATFORM', 'MODE', 'ADDRESS', 'SOURCE', 'HTTP', 'LABELS'], r.devices.map((d) => [
        d.id, d.platform, d.mode.replace('SESSION_MODE_', '').toLowerCase(), `${d.host}:${d.port}`, d.source,
        d.http?.base_url ? 'yes' : '', Object.entries(d.labels).map(([k, v]) => `${k}=${v}`).join(','),
      ])));
    }
    return 0;
  });
}

export function statsCommand(argv: string[]): Promise<number> {
  return withClient(argv, CLIENT_PARSE_OPTIONS, 'usage: warmpool stats [DEVICE...]', async (c, o, _values, devices) => {
    const r = await unaryCall<object, GetPoolStatsResponse__Output>(c.admin.GetPoolStats.bind(c.admin) as never, { devices }, c.metadata(), c.deadline());
    if (o.json) stdio.out(`${JSON.stringify(r.pools, null, 2)}\n`);
    else {
      stdio.out(renderTable(['DEVICE', 'PROTO', 'IDLE', 'BUSY', 'CONNECTING', 'WAITING', 'MAX', 'OPENED', 'ACQUIRED', 'FAILED', 'CIRCUIT'], r.pools.map((p) => [
        p.device, p.protocol, p.idle, p.busy, p.connecting, p.waiting, p.max, p.created_total, p.acquired_total, p.failed_connects_total, p.circuit,
      ].map(String))));
    }
    return 0;
  });
}

