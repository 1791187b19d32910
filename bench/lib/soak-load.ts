/**
 * The soak's mixed gRPC load (bench/soak.ts): CALLERS loops, each picking a weighted operation at
 * random (seeded) — Run, cached Run, RunStream, RunMany by label, configure, short deadlines,
 * cancellations, slow commands, hostile outputs, Admin stats — every call tracked by the ledger.
 */
import * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import type { Platform } from '../../src/config/types.js';
import type { DeviceProxyClient } from '../../src/gen/warmpool/v1/DeviceProxy.js';
import type { AdminClient } from '../../src/gen/warmpool/v1/Admin.js';
import { HOSTILE_CALLS } from './soak-chaos.js';
import type { SoakDevice } from './soak-fleet.js';
import { statusName, type CallLedger } from './soak-ledger.js';
import { sleep } from './soak-probes.js';

export interface SoakLoadDeps {
  devices: SoakDevice[];
  rnd: () => number;
  ledger: CallLedger;
  proxyClient: DeviceProxyClient;
  admin: AdminClient;
  callers: number;
}

export interface SoakLoad {
  /** A command that succeeds on the platform (picked at random). */
  cmdFor(p: Platform): string;
  readonly hostileDevice: SoakDevice;
  /** label → status name → count, for the hostile calls' own table (expected status beside it). */
  readonly hostileSeen: Map<string, Map<string, number>>;
  /** OK answers to hostile calls whose output was wrong (cut at a fake prompt, garbage left in), first 20. */
  readonly hostileWrong: string[];
  readonly hostileWrongTotal: number;
  /** Hostile calls running now (memory is sampled with none in flight). */
  readonly hostileInFlight: number;
  /**
   * Set by the memory sampler when a sample is due: new hostile calls are held back and
   * takeMemSample runs once the running ones end.
   */
  memSampleDue: boolean;
  takeMemSample: () => void;
  start(): void;
  /** Callers finish their current call and stop. */
  stop(): Promise<void>;
}

export function createSoakLoad({ devices, rnd, ledger, proxyClient, admin, callers: CALLERS }: SoakLoadDeps): SoakLoad {
  const run = proxyClient.Run.bind(proxyClient) as never;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const cmdFor = (p: Platform) => (p === 'linux' ? pick(['uname -a', 'echo soak', 'uptime', 'hostname']) : p === 'juniper_junos' ? pick(['show version', 'show system uptime']) : pick(['show clock', 'show version', 'show ip interface brief']));
  const bigFor = (p: Platform) => (p === 'linux' ? 'seq 400' : 'show lines 400');
  const shellDevices = devices.filter((d) => d.platform !== 'linux');
  const hostileDevice = devices.find((d) => d.hostile) as SoakDevice;
  const hostileSeen = new Map<string, Map<string, number>>();
  const hostileWrong: string[] = [];
  let hostileWrongTotal = 0;
  /**
   * A hostile call legitimately holds up to the output cap while it runs, so memory is sampled
   * with none in flight: a due sample holds new hostile calls back until the running ones end.
   */
  let hostileInFlight = 0;
  const sampling = { memSampleDue: false, takeMemSample: () => undefined as void };

  type Op = { weight: number; go: () => Promise<void> };
  const runOp = (rpc: string, req: Record<string, unknown>, deadlineMs: number, what: string) =>
    ledger.track(rpc, what, deadlineMs, (done) => {
      (run as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void)(
        req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (e) => done(e ? e.code : Status.OK, e?.details ?? ''));
    });
  const streamOp = (rpc: string, open: (o: grpc.CallOptions) => grpc.ClientReadableStream<unknown>, deadlineMs: number, what: string, cancelAfterMs?: number, onData?: (m: unknown) => void) =>
    ledger.track(rpc, what, deadlineMs, (done) => {
      const call = open({ deadline: Date.now() + deadlineMs });
      call.on('data', (m) => onData?.(m));
      call.on('error', () => undefined); // the status event below carries the outcome
      call.on('status', (s: grpc.StatusObject) => done(s.code, s.details));
      if (cancelAfterMs !== undefined) setTimeout(() => call.cancel(), cancelAfterMs);
    });

  const ops: Op[] = [
    { weight: 30, go: () => { const d = pick(devices); return runOp('Run', { device: d.id, commands: [cmdFor(d.platform)] }, 8000, d.id); } },
    { weight: 10, go: () => { const d = pick(devices); return runOp('Run(cache)', { device: d.id, commands: [d.platform === 'linux' ? 'uname -a' : 'show version'], cache_ttl_ms: 3000 }, 8000, d.id); } },
    { weight: 14, go: () => { const d = pick(devices); return streamOp('RunStream', (o) => proxyClient.RunStream({ device: d.id, commands: [bigFor(d.platform), cmdFor(d.platform)] }, o), 10_000, d.id); } },
    {
      weight: 7,
      // Every device by label; 'show version' is "command not found" on Linux: still an OK result.
      go: () => streamOp('RunMany', (o) => proxyClient.RunMany({ template: { commands: ['show version'] }, labels: { soak: 'on' }, concurrency: 3 }, o), 12_000, 'soak=on', undefined, (m) => {
        const e = (m as { error?: { code: number; message: string } | null }).error;
        if (e) ledger.count('RunMany/device', e.code, e.message, (m as { device: string }).device);
      }),
    },
    {
      weight: 5,
      go: () => {
        const d = pick(shellDevices);
        const commands = d.platform === 'juniper_junos' ? ['set interfaces lo0 description soak'] : ['interface Loopback0', `description soak ${Math.floor(rnd() * 1000)}`];
        return runOp('Run(configure)', { device: d.id, commands, configure: true }, 10_000, d.id);
      },
    },
    // The call's deadline passes while the command runs: DEADLINE_EXCEEDED, and the session is replaced.
    { weight: 10, go: () => { const d = pick(devices); return runOp('Run(short deadline)', { device: d.id, commands: ['sleep 2'] }, 200 + Math.floor(rnd() * 600), d.id); } },
    { weight: 7, go: () => { const d = pick(devices); return streamOp('RunStream(cancel)', (o) => proxyClient.RunStream({ device: d.id, commands: ['sleep 1', cmdFor(d.platform)] }, o), 10_000, d.id, 20 + Math.floor(rnd() * 400)); } },
    // Holds sessions for a while, so callers queue behind it.
    { weight: 8, go: () => { const d = pick(devices); return runOp('Run(slow)', { device: d.id, commands: ['sleep 0.3', cmdFor(d.platform)] }, 8000, d.id); } },
    {
      // Hostile outputs: each must end with a specific status (chaos may make any of them UNAVAILABLE).
      weight: 8,
      go: async () => {
        if (sampling.memSampleDue) return sleep(50);
        const h = pick(HOSTILE_CALLS);
        const req = { device: hostileDevice.id, commands: h.commands, command_timeout_ms: h.commandTimeoutMs };
        const seen = (code: number) => {
          const m = hostileSeen.get(h.label) ?? new Map<string, number>();
          m.set(statusName(code), (m.get(statusName(code)) ?? 0) + 1);
          hostileSeen.set(h.label, m);
        };
        hostileInFlight++;
        try {
          if (h.rpc === 'Run') {
            return await ledger.track(h.label, hostileDevice.id, h.deadlineMs, (done) => {
              (run as (r: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { results: Array<{ output: string }> }) => void) => void)(
                req, new grpc.Metadata(), { deadline: Date.now() + h.deadlineMs }, (e, r) => {
                  seen(e ? e.code : Status.OK);
                  const wrong = !e && h.verify ? h.verify((r?.results ?? []).map((x) => x.output)) : undefined;
                  if (wrong) {
                    hostileWrongTotal++;
                    if (hostileWrong.length < 20) hostileWrong.push(`${h.label}: ${wrong}`);
                  }
                  done(e ? e.code : Status.OK, e?.details ?? '');
                });
            });
          }
          return await streamOp(h.label, (o) => {
            const call = proxyClient.RunStream(req, o);
            call.on('status', (st: grpc.StatusObject) => seen(st.code));
            return call;
          }, h.deadlineMs, hostileDevice.id);
        } finally {
          hostileInFlight--;
          if (sampling.memSampleDue && hostileInFlight === 0) sampling.takeMemSample();
        }
      },
    },
    {
      weight: 4,
      go: () => ledger.track('GetPoolStats', '', 5000, (done) => {
        admin.GetPoolStats({}, { deadline: Date.now() + 5000 }, (e) => done(e ? e.code : Status.OK, e?.details ?? ''));
      }),
    },
  ];
  const totalWeight = ops.reduce((n, o) => n + o.weight, 0);
  const pickOp = (): Op => {
    let x = rnd() * totalWeight;
    for (const o of ops) if ((x -= o.weight) < 0) return o;
    return ops[0] as Op;
  };

  let loadOn = false;
  let callers: Promise<void>[] = [];
  return {
    cmdFor,
    hostileDevice,
    hostileSeen,
    hostileWrong,
    get hostileWrongTotal() {
      return hostileWrongTotal;
    },
    get hostileInFlight() {
      return hostileInFlight;
    },
    get memSampleDue() {
      return sampling.memSampleDue;
    },
    set memSampleDue(v: boolean) {
      sampling.memSampleDue = v;
    },
    get takeMemSample() {
      return sampling.takeMemSample;
    },
    set takeMemSample(fn: () => void) {
      sampling.takeMemSample = fn;
    },
    start() {
      loadOn = true;
      callers = Array.from({ length: CALLERS }, async () => {
        while (loadOn) await pickOp().go();
      });
    },
    async stop() {
      loadOn = false;
      await Promise.all(callers);
    },
  };
}
