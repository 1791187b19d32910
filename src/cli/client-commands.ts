import { readFileSync } from 'node:fs';
import type { RunRequest } from '../gen/warmpool/v1/RunRequest.js';
import type { RunResponse__Output } from '../gen/warmpool/v1/RunResponse.js';
import type { DeviceRunResult__Output } from '../gen/warmpool/v1/DeviceRunResult.js';
import type { HttpResponse__Output } from '../gen/warmpool/v1/HttpResponse.js';
import type { ListDevicesResponse__Output } from '../gen/warmpool/v1/ListDevicesResponse.js';
import type { GetPoolStatsResponse__Output } from '../gen/warmpool/v1/GetPoolStatsResponse.js';
import { parseCliArgs, UsageError, type OptionSpecs, type OptionValues } from './args.js';
import { describeCallError } from './call-error.js';
import { CLIENT_OPTION_HELP, CLIENT_PARSE_OPTIONS, clientOptions, connect, unaryCall, type ClientOptions, type Clients } from './client.js';
import { contractJson } from './contract-json.js';
import { EXIT } from './exit-codes.js';
import { ManyView } from './many-view.js';
import { isBalancerRefusal, runEach } from './many-fallback.js';
import { renderRun } from './render.js';
import { styleFor } from './style.js';
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

const stdio = { out: (s: string) => void process.stdout.write(s), err: (s: string) => void process.stderr.write(s) };

/** What a subcommand's body learns as it goes, for the error message if its call fails. */
interface Scope { device?: string }

/**
 * Parse (usage errors propagate: main prints them and exits 2), connect, run `body`, and turn a
 * failed call into one message and the exit status of its class (exit-codes.ts).
 */
async function withClient(
  argv: string[],
  options: OptionSpecs,
  help: string,
  body: (c: Clients, o: ClientOptions, values: OptionValues, positionals: string[], scope: Scope) => Promise<number>,
): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, options);
  if (values.help) {
    stdio.out(`${help}\n\n${CLIENT_OPTION_HELP}\n`);
    return EXIT.OK;
  }
  const o = clientOptions(values, process.env);
  const c = connect(o);
  const scope: Scope = {};
  try {
    return await body(c, o, values, positionals, scope);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const f = describeCallError(err, o.addr, scope.device);
    stdio.err(`warmpool: ${f.message}\n`);
    return f.exitCode;
  } finally {
    c.close();
  }
}

function optionalNumber(v: unknown, flag: string): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag}: "${String(v)}" is not a non-negative integer`);
  return n;
}

/** "k=v,k2=v2" as a map; `flag` names the option in the message. */
function parseLabels(v: unknown, flag: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const kv of String(v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--${flag}: "${kv}" is not key=value`);
    labels[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return labels;
}

function runTemplate(values: OptionValues, commands: string[]): RunRequest {
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

const printJson = (v: unknown): void => stdio.out(`${JSON.stringify(v, null, 2)}\n`);

export const EXEC_HELP = `usage: warmpool exec DEVICE CMD [CMD...]

Runs the commands in order on one pooled session of DEVICE. Quote each command:
  warmpool exec core-sw1 "show version" "show clock"

${RUN_HELP}`;

export function execCommand(argv: string[]): Promise<number> {
  return withClient(argv, RUN_OPTIONS, EXEC_HELP, async (c, o, values, pos, scope) => {
    const [device, ...commands] = pos;
    if (!device) throw new UsageError('missing DEVICE and CMD: warmpool exec DEVICE CMD [CMD...]');
    if (commands.length === 0) throw new UsageError(`missing CMD: warmpool exec ${device} "show version"`);
    scope.device = device;
    const req = { device, ...runTemplate(values, commands) };
    const r = await unaryCall<RunRequest, RunResponse__Output>(c.proxy.Run.bind(c.proxy), req, c.metadata(device), c.deadline());
    const ok = !r.results.some((x) => x.failed);
    if (o.json) printJson(contractJson('RunResponse', r));
    else {
      const text = renderRun(r, styleFor(process.stdout, process.env));
      stdio.out(text.out);
      stdio.err(text.err);
    }
    return ok ? EXIT.OK : EXIT.FAILURE;
  });
}

export const MANY_HELP = `usage: warmpool many (--devices a,b | --labels k=v[,k=v]) [--concurrency N] -- CMD [CMD...]

Runs the same commands on many devices and prints each device's result as it finishes.
On a terminal a progress line (done/failed/total, elapsed) shows while devices finish;
otherwise a summary line ends the output. Exit status 0 when every device succeeded, else 1.
Behind a balancer that routes on the device (deploy/haproxy), which refuses RunMany, the
devices are run with one Run each, --concurrency at a time (default 16), with the same output.

${RUN_HELP}`;

export function manyCommand(argv: string[]): Promise<number> {
  const options = { ...RUN_OPTIONS, devices: { type: 'string' }, labels: { type: 'string' }, concurrency: { type: 'string' } } as const;
  return withClient(argv, options, MANY_HELP, async (c, o, values, commands) => {
    const devices = String(values.devices ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const labels = parseLabels(values.labels, 'labels');
    if (devices.length === 0 && Object.keys(labels).length === 0) throw new UsageError('missing --devices a,b or --labels k=v: which devices to run on');
    if (commands.length === 0) throw new UsageError('missing CMD: warmpool many --labels role=core -- "show version"');
    const req = { template: runTemplate(values, commands), devices, labels, concurrency: optionalNumber(values.concurrency, 'concurrency') };

    const view = o.json ? undefined : new ManyView({
      out: { write: stdio.out }, err: { write: stdio.err },
      outStyle: styleFor(process.stdout, process.env), errStyle: styleFor(process.stderr, process.env),
      progress: process.stderr.isTTY === true,
      ...(Object.keys(labels).length === 0 ? { total: new Set(devices).size } : {}),
    });
    const results: DeviceRunResult__Output[] = [];
    let failed = 0;
    const onResult = (r: DeviceRunResult__Output): void => {
      if (r.error || r.response?.results.some((x) => x.failed)) failed++;
      if (view) view.result(r);
      else results.push(r);
    };
    const deadline = c.deadline();
    let ticker: NodeJS.Timeout | undefined;
    if (view && process.stderr.isTTY) {
      ticker = setInterval(() => view.redraw(), 200);
      view.redraw();
      // A label selector's size is only known to the daemon; ask it, for the progress line only.
      if (Object.keys(labels).length > 0) void countDevices(c, devices, labels).then((n) => n !== undefined && view.setTotal(n));
    }
    try {
      let delivered = false;
      await new Promise<void>((resolve, reject) => {
        const call = c.proxy.RunMany(req, c.metadata(), { deadline });
        call.on('data', (r: DeviceRunResult__Output) => {
          delivered = true;
          onResult(r);
        });
        call.on('error', reject);
        call.on('end', resolve);
      }).catch((err: unknown) => {
        // Behind the device-affinity balancer: one Run per device instead (many-fallback.ts).
        if (delivered || !isBalancerRefusal(err)) throw err;
        return runEach(c, req, deadline, onResult);
      });
    } catch (err) {
      view?.stop(); // the error message goes where the progress line was
      throw err;
    } finally {
      if (ticker) clearInterval(ticker);
    }
    if (view) view.finish();
    else printJson(results.map((r) => contractJson('DeviceRunResult', r)));
    return failed > 0 ? EXIT.FAILURE : EXIT.OK;
  });
}

/** How many devices `many` will run on: the named ones plus those matching the labels (undefined if unknown). */
async function countDevices(c: Clients, named: string[], labels: Record<string, string>): Promise<number | undefined> {
  try {
    const r = await unaryCall<object, ListDevicesResponse__Output>(c.inventory.ListDevices.bind(c.inventory) as never, { labels }, c.metadata(), c.deadline());
    return new Set([...named, ...r.devices.map((d) => d.id)]).size;
  } catch {
    return undefined; // e.g. the caller may run but not list: the line shows "?" instead
  }
}

export const HTTP_HELP = `usage: warmpool http DEVICE METHOD PATH [--body DATA | --body-file FILE] [--header "K: V"]...

One request over the device's pooled HTTP connections; prints the status line to stderr and the
body to stdout. Exit status 1 for an HTTP status of 400 or more. With --json, "body" is the
body as UTF-8 text.`;

export function httpCommand(argv: string[]): Promise<number> {
  const options = { ...CLIENT_PARSE_OPTIONS, body: { type: 'string' }, 'body-file': { type: 'string' }, header: { type: 'string', multiple: true } } as const;
  return withClient(argv, options, HTTP_HELP, async (c, o, values, pos, scope) => {
    const [device, method, path] = pos;
    if (!device || !method || !path) throw new UsageError(`missing ${['DEVICE', 'METHOD', 'PATH'].slice(pos.length).join(' and ')}: warmpool http DEVICE METHOD PATH`);
    if (pos.length > 3) throw new UsageError(`unexpected argument "${pos[3]}" (a body goes in --body DATA or --body-file FILE)`);
    const headers: Record<string, string> = {};
    for (const h of (values.header as string[] | undefined) ?? []) {
      const i = h.indexOf(':');
      if (i <= 0) throw new UsageError(`--header: "${h}" is not "Name: value"`);
      headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
    }
    let body: Buffer;
    try {
      body = values['body-file'] ? readFileSync(values['body-file'] as string) : Buffer.from((values.body as string | undefined) ?? '');
    } catch (err) {
      throw new Error(`--body-file: cannot read ${String(values['body-file'])}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    scope.device = device;
    const r = await unaryCall<object, HttpResponse__Output>(c.proxy.Http.bind(c.proxy) as never, { device, method, path, headers, body }, c.metadata(device), c.deadline());
    if (o.json) {
      printJson({ ...contractJson('HttpResponse', r), body: r.body.toString('utf8') });
    } else {
      stdio.err(`HTTP ${r.status} (${r.duration_ms.toFixed(1)} ms, session ${r.session?.id ?? '-'}${r.session?.reused ? ', reused' : ''})\n`);
      stdio.out(r.body.toString('utf8'));
      if (r.body.length && !r.body.toString('utf8').endsWith('\n')) stdio.out('\n');
    }
    return r.status >= 400 ? EXIT.FAILURE : EXIT.OK;
  });
}

export function devicesCommand(argv: string[]): Promise<number> {
  const help = 'usage: warmpool devices [--labels k=v,...]\n\nLists the devices the daemon knows (inventory file and API), filtered by labels.';
  return withClient(argv, { ...CLIENT_PARSE_OPTIONS, labels: { type: 'string' } }, help, async (c, o, values, pos) => {
    if (pos.length > 0) throw new UsageError(`unexpected argument "${pos[0]}" (filter with --labels k=v)`);
    const labels = parseLabels(values.labels, 'labels');
    const r = await unaryCall<object, ListDevicesResponse__Output>(c.inventory.ListDevices.bind(c.inventory) as never, { labels }, c.metadata(), c.deadline());
    if (o.json) printJson(r.devices.map((d) => contractJson('Device', d)));
    else {
      stdio.out(renderTable(['ID', 'PLATFORM', 'MODE', 'ADDRESS', 'SOURCE', 'HTTP', 'LABELS'], r.devices.map((d) => [
        d.id, d.platform, d.mode.replace('SESSION_MODE_', '').toLowerCase(), `${d.host}:${d.port}`, d.source,
        d.http?.base_url ? 'yes' : '', Object.entries(d.labels).map(([k, v]) => `${k}=${v}`).join(','),
      ])));
    }
    return EXIT.OK;
  });
}

export function statsCommand(argv: string[]): Promise<number> {
  const help = 'usage: warmpool stats [DEVICE...]\n\nPool statistics per device and protocol (all devices when none is named).';
  return withClient(argv, CLIENT_PARSE_OPTIONS, help, async (c, o, _values, devices, scope) => {
    if (devices.length === 1) scope.device = devices[0] as string;
    // One device: its own replica answers behind a consistent-hash balancer (docs/operations.md, Scaling out).
    const r = await unaryCall<object, GetPoolStatsResponse__Output>(c.admin.GetPoolStats.bind(c.admin) as never, { devices }, c.metadata(devices.length === 1 ? devices[0] : undefined), c.deadline());
    if (o.json) printJson(r.pools.map((p) => contractJson('PoolStats', p)));
    else {
      stdio.out(renderTable(['DEVICE', 'PROTO', 'IDLE', 'BUSY', 'CONNECTING', 'WAITING', 'MAX', 'OPENED', 'ACQUIRED', 'FAILED', 'CIRCUIT'], r.pools.map((p) => [
        p.device, p.protocol, p.idle, p.busy, p.connecting, p.waiting, p.max, p.created_total, p.acquired_total, p.failed_connects_total, p.circuit,
      ].map(String))));
    }
    return EXIT.OK;
  });
}
