/**
 * Property-based fuzzing of gRPC request validation (src/api/validate.ts), first on the
 * validation functions themselves (thousands of requests), then through a real daemon
 * and a real grpc-js client (a few hundred requests over Run, RunMany, Http and
 * Inventory.PutDevice) against a simulated Cisco IOS device that also has an HTTP API.
 *
 * Seeded: set FUZZ_SEED to replay a run; the seed is printed as a tap comment.
 */
import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { loadConfig } from '../src/config/load.js';
import { isWarmpoolError, WarmpoolError } from '../src/core/errors.js';
import {
  DEFAULT_RUN_MANY_CONCURRENCY,
  DEVICE_ID_RE,
  MAX_RUN_MANY_CONCURRENCY,
  validateDeviceId,
  validateHttpRequest,
  validateRun,
  validateRunMany,
  type Limits,
} from '../src/api/validate.js';
import type { RunRequest__Output } from '../src/gen/warmpool/v1/RunRequest.js';
import type { RunManyRequest__Output } from '../src/gen/warmpool/v1/RunManyRequest.js';
import type { HttpRequest__Output } from '../src/gen/warmpool/v1/HttpRequest.js';
import { startSimDevice } from '../src/sim/ssh-device.js';
import { startSimHttpDevice } from '../src/sim/http-device.js';
import { m, simSpec, startTestDaemon } from './kit/daemon.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
t.comment(`fast-check seed ${SEED} (replay with FUZZ_SEED=${SEED})`);

/** Printable-ASCII rendering for tap messages: raw U+2028 and controls would break the TAP stream. */
const esc = (v: unknown): string => (JSON.stringify(v) ?? String(v)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const config = loadConfig({ argv: [], env: {} });
const limits: Limits = config.limits;

// ---------------------------------------------------------------- generators

/** Characters that break naive code: C0/C1 controls, line breaks, NUL, quotes, bidi, surrogates, emoji. */
const nasty = fc.constantFrom(
  '\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u000b', '\u001b', '\u007f', '\u0085', '\u009b', '\u00a0',
  '\u2028', '\u2029', '\u200b', '\u202e', '\ufeff', '\ud800', '\udfff', '😀', 'é', 'ß', '"', '\\', '%', '?', '/', ' ', '[', '(', '*',
);
const shortText = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ maxLength: 24, unit: 'binary' }),
  fc.array(fc.oneof(nasty, fc.string({ maxLength: 3 })), { maxLength: 12 }).map((a) => a.join('')),
);
/** 1 100..20 000 characters: often over maxCommandLength (4 096) and the 1 024 of `expect`. */
const hugeText = fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), fc.integer({ min: 1100, max: 5000 })).map(([s, n]) => s.repeat(n).slice(0, n * 4));
const anyText = fc.oneof({ weight: 8, arbitrary: shortText }, { weight: 1, arbitrary: hugeText }, { weight: 1, arbitrary: fc.constantFrom('', ' ', 'show clock', 'fz-ios', 'GET', '/') });
const validId = fc.stringMatching(DEVICE_ID_RE);
/** Absent fields: proto3 decoding never yields these, but the validators must not care. */
const absent = fc.constantFrom(undefined, null);
const anyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 255, 256, 257, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, Number.MAX_VALUE, Infinity, -Infinity, NaN),
);
const anyMode = fc.oneof(
  fc.constantFrom('SESSION_MODE_UNSPECIFIED', 'SESSION_MODE_SHELL', 'SESSION_MODE_EXEC', 0, 1, 2),
  fc.constantFrom('SESSION_MODE_BOGUS', 'shell', 'exec', '', 3, 7, -1, 2.5, NaN),
  absent,
);
const anyCommands = fc.oneof(fc.array(anyText, { maxLength: 6 }), fc.array(fc.constantFrom('show clock', 'x'), { minLength: 99, maxLength: 103 }), absent);
const anyBool = fc.oneof(fc.boolean(), absent);

const anyRun = fc.record(
  {
    device: fc.oneof(anyText, fc.stringMatching(DEVICE_ID_RE), absent),
    commands: anyCommands,
    mode: anyMode,
    privileged: anyBool,
    configure: anyBool,
    stop_on_error: anyBool,
    command_timeout_ms: fc.oneof(anyNumber, absent),
    cache_ttl_ms: fc.oneof(anyNumber, absent),
    expect: fc.oneof(anyText, fc.constantFrom('(', '[a-', '*', 'a{2,1}', '(?<n>x)(?<n>y)', '\\', '[>#]\\s*$', 'yes/no'), absent),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<RunRequest__Output>;

const anyRunMany = fc.record(
  {
    template: fc.oneof(anyRun, absent),
    devices: fc.oneof(fc.array(fc.oneof(anyText, fc.constantFrom('fz-ios', 'r1', 'r1')), { maxLength: 5 }), absent),
    labels: fc.oneof(fc.dictionary(shortText, shortText, { maxKeys: 3 }), absent),
    concurrency: fc.oneof(anyNumber, absent),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<RunManyRequest__Output>;

const anyHeaders = fc.oneof(
  { weight: 2, arbitrary: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), fc.oneof(fc.string({ maxLength: 12 }), anyText), { maxKeys: 3 }) },
  fc.dictionary(fc.oneof(shortText, fc.constantFrom('x-a', 'Content-Type', 'x y', 'x:y', '__proto__', 'a'.repeat(257))), anyText, { maxKeys: 4 }),
  absent,
);
// Weighted towards valid values so that every later check is reached, not only the first.
const anyHttp = fc.record(
  {
    device: fc.oneof({ weight: 3, arbitrary: validId }, { weight: 1, arbitrary: anyText }, { weight: 1, arbitrary: absent }),
    method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'get', 'Post', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'GET ', 'GÉT') }, anyText, absent),
    path: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('/', '/a?b=1', 'a', '//x', '/\r\nX: y', '/\u0000') },
      { weight: 3, arbitrary: shortText.map((x) => `/${x}`) },
      anyText,
      absent,
    ),
    headers: anyHeaders,
    body: fc.oneof(fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)), absent),
    timeout_ms: fc.oneof(anyNumber, absent),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<HttpRequest__Output>;

// ------------------------------------------------------- valid inputs and single faults

/** A command the validator must accept: printable, no line break, not blank, within the length limit. */
const validCommand = fc
  .string({ minLength: 1, maxLength: 60, unit: 'grapheme' })
  .map((s) => s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, 'x'))
  .filter((s) => s.trim() !== '');
const validRunReq = fc.record({
  device: validId,
  commands: fc.array(validCommand, { minLength: 1, maxLength: 8 }),
  mode: fc.constantFrom('SESSION_MODE_UNSPECIFIED', 'SESSION_MODE_SHELL', 'SESSION_MODE_EXEC'),
  privileged: fc.boolean(),
  configure: fc.boolean(),
  stop_on_error: fc.boolean(),
  command_timeout_ms: fc.nat({ max: 2 ** 32 - 1 }),
  cache_ttl_ms: fc.nat({ max: 2 ** 32 - 1 }),
  expect: fc.constantFrom('', '[>#]\\s*$', '\\[confirm\\]', 'yes/no', '(?:x|y)+'),
}) as fc.Arbitrary<RunRequest__Output>;

/** One fault applied to a valid request: the broken request and the field its rejection must name. */
type Fault<R> = (r: R) => { req: R; field: string };

const controlChar = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 11, max: 31 }), fc.integer({ min: 0x7f, max: 0x9f })).map((c) => String.fromCharCode(c));
const badId = fc.oneof(
  fc.constantFrom('', 'has space', 'a/b', 'é', 'x\n', 'a'.repeat(129), '😀'),
  fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !DEVICE_ID_RE.test(s)),
);
const badRegex = fc.constantFrom('(', '[', '*', 'a{2,1}', '(?<n>x)(?<n>y)', '\\', 'x'.repeat(1025));

/** One fault in a RunRequest; `prefix` names the enclosing message ("template." in RunMany). */
function runFault(prefix: string, withDevice: boolean): fc.Arbitrary<Fault<RunRequest__Output>> {
  const set = (field: string, patch: Partial<RunRequest__Output>): Fault<RunRequest__Output> => (r) => ({ req: { ...r, ...patch }, field });
  // Replaces one command, chosen by `n`, once the request (and so its length) is known.
  const atCommand = (bad: fc.Arbitrary<string>) =>
    fc.tuple(fc.nat(), bad).map(([n, b]): Fault<RunRequest__Output> => (r) => {
      const i = n % r.commands.length;
      return { req: { ...r, commands: r.commands.map((c, j) => (j === i ? b : c)) }, field: `${prefix}commands[${i}]` };
    });
  const faults: fc.Arbitrary<Fault<RunRequest__Output>>[] = [
    fc.constant(set(`${prefix}commands`, { commands: [] })),
    fc.integer({ min: limits.maxCommandsPerRequest + 1, max: limits.maxCommandsPerRequest + 30 })
      .map((n) => set(`${prefix}commands`, { commands: Array.from({ length: n }, () => 'show clock') })),
    atCommand(fc.constantFrom('', ' ', '\t', '   \t ', '\u00a0', '\u3000')),
    atCommand(fc.integer({ min: limits.maxCommandLength + 1, max: limits.maxCommandLength + 500 }).map((n) => 'x'.repeat(n))),
    atCommand(fc.tuple(validCommand, fc.constantFrom('\n', '\r', '\r\n'), validCommand).map(([a, b, c]) => a + b + c)),
    atCommand(fc.tuple(validCommand, controlChar, fc.boolean()).map(([a, c, front]) => (front ? `${c}${a}` : `${a}${c}`))),
    badRegex.map((e) => set(`${prefix}expect`, { expect: e })),
    // The mode is checked without the prefix (validate.ts modeOf): a small inconsistency, asserted as is.
    fc.constantFrom<unknown>('SESSION_MODE_BOGUS', 'shell', 3, 7, -1).map((mode) => set('mode', { mode: mode as RunRequest__Output['mode'] })),
  ];
  if (withDevice) faults.push(badId.map((d) => set('device', { device: d })));
  return fc.oneof(...faults);
}

const validHttpReq = fc.record({
  device: validId,
  method: fc.constantFrom('GET', 'get', 'Post', 'PUT', 'patch', 'DELETE', 'HEAD', 'OPTIONS'),
  // Paths already in the one normal form (http/path.ts): no dot segments, no "//", no escapes.
  path: fc.tuple(fc.array(fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,8}$/), { maxLength: 4 }), fc.stringMatching(/^(\?[A-Za-z0-9._~\/?=&-]{0,20})?$/))
    .map(([segs, query]) => `/${segs.join('/')}${query}`),
  // "__proto__" included: headers are kept in prototype-less objects, so it is an ordinary name.
  headers: fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/), fc.constant('__proto__')), fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n\u0000]/g, ' ')), { maxKeys: 4 }),
  body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  timeout_ms: fc.nat({ max: 2 ** 32 - 1 }),
}) as fc.Arbitrary<HttpRequest__Output>;

const httpLimits: Limits = { ...limits, maxHttpBodyBytes: 64 };
const setHttp = (field: string, patch: Partial<HttpRequest__Output>): Fault<HttpRequest__Output> => (r) => ({ req: { ...r, ...patch }, field });
const httpFault: fc.Arbitrary<Fault<HttpRequest__Output>> = fc.oneof(
  badId.map((d) => setHttp('device', { device: d })),
  fc.constantFrom('', 'TRACE', 'CONNECT', 'GET ', 'G\nET', 'GÉT', 'x'.repeat(500)).map((mt) => setHttp('method', { method: mt })),
  fc.constantFrom('', 'a', 'http://x/', ' /a').map((p) => setHttp('path', { path: p })),
  fc.tuple(fc.stringMatching(/^\/[a-z]{0,8}$/), fc.constantFrom('\r', '\n', '\u0000')).map(([p, c]) => setHttp('path', { path: `${p}${c}x` })),
  // The field quotes the header name JSON-escaped and cut at 64 characters (validate.ts printable()).
  fc.constantFrom('x y', 'x:y', '', 'é', 'a'.repeat(257), 'a\r\nb').map((k) => {
    const shown = JSON.stringify(k.length > 64 ? `${k.slice(0, 64)}...` : k).slice(1, -1);
    return setHttp(`headers["${shown}"]`, { headers: { [k]: 'v' } });
  }),
  fc.constantFrom('\r', '\n', '\u0000').map((c) => setHttp('headers["x-fz"]', { headers: { 'x-fz': `a${c}b` } })),
  fc.integer({ min: 65, max: 300 }).map((n) => setHttp('body', { body: Buffer.alloc(n, 1) })),
);

// ---------------------------------------------------------------- checks

/** Only INVALID_ARGUMENT, naming a field in both `field` and the message, with a bounded message. */
function checkRejection(err: unknown): WarmpoolError {
  if (!isWarmpoolError(err, 'INVALID_ARGUMENT')) throw err;
  if (!err.field) throw new Error(`rejection without a field: ${err.message}`);
  if (!err.message.includes(err.field)) throw new Error(`message does not name field ${err.field}: ${err.message}`);
  // Inputs are echoed cut short: a 20 000-character command must not come back in the message.
  if (err.message.length > 600) throw new Error(`message of ${err.message.length} characters`);
  return err;
}

function checkValidRun(v: ReturnType<typeof validateRun>, requireDevice: boolean): void {
  if (requireDevice && !DEVICE_ID_RE.test(v.device)) throw new Error(`accepted device ${JSON.stringify(v.device)}`);
  if (v.commands.length < 1 || v.commands.length > limits.maxCommandsPerRequest) throw new Error(`accepted ${v.commands.length} commands`);
  for (const c of v.commands) {
    if (c.trim() === '' || c.length > limits.maxCommandLength || /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.test(c)) {
      throw new Error(`accepted command ${JSON.stringify(c.slice(0, 40))}`);
    }
  }
  if (v.mode !== undefined && v.mode !== 'shell' && v.mode !== 'exec') throw new Error(`accepted mode ${String(v.mode)}`);
  if ((v.expectSource === '') !== (v.expect === undefined)) throw new Error('expect compiled inconsistently');
}

const counts = { accepted: 0, rejected: 0 };
const tally = (f: () => void) => {
  try {
    f();
    counts.accepted++;
  } catch (err) {
    checkRejection(err);
    counts.rejected++;
  }
};

// ------------------------------------------------------------ (1) the validation functions

t.test('validateRun returns a clean request or INVALID_ARGUMENT naming the field, for any input', async (t) => {
  counts.accepted = counts.rejected = 0;
  fc.assert(fc.property(anyRun, (req) => tally(() => checkValidRun(validateRun(req, limits), true))), { numRuns: 4000, seed: SEED });
  t.ok(counts.accepted > 20, `accepted ${counts.accepted}`);
  t.ok(counts.rejected > 1000, `rejected ${counts.rejected}`);
});

t.test('validateRunMany returns a clean request or INVALID_ARGUMENT naming the field, for any input', async (t) => {
  counts.accepted = counts.rejected = 0;
  fc.assert(
    fc.property(anyRunMany, (req) =>
      tally(() => {
        const v = validateRunMany(req, limits);
        checkValidRun(v.template, false);
        if (v.devices.length === 0 && Object.keys(v.labels).length === 0) throw new Error('accepted no selector');
        if (new Set(v.devices).size !== v.devices.length) throw new Error('duplicate devices kept');
        for (const d of v.devices) if (!DEVICE_ID_RE.test(d)) throw new Error(`accepted device ${d}`);
        if (!(v.concurrency <= MAX_RUN_MANY_CONCURRENCY)) throw new Error(`accepted concurrency ${v.concurrency}`);
      })),
    { numRuns: 3000, seed: SEED },
  );
  t.ok(counts.accepted > 10, `accepted ${counts.accepted}`);
  t.ok(counts.rejected > 1000, `rejected ${counts.rejected}`);
});

t.test('validateHttpRequest returns a clean request or INVALID_ARGUMENT naming the field, for any input', async (t) => {
  counts.accepted = counts.rejected = 0;
  fc.assert(
    fc.property(anyHttp, (req) =>
      tally(() => {
        const v = validateHttpRequest(req, httpLimits);
        if (!['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].includes(v.method)) throw new Error(`accepted method ${v.method}`);
        if (!v.path.startsWith('/') || /[\r\n\u0000]/.test(v.path)) throw new Error(`accepted path ${JSON.stringify(v.path)}`);
        for (const [k, val] of Object.entries(v.headers)) {
          if (k !== k.toLowerCase() || /[\r\n\u0000]/.test(val)) throw new Error(`accepted header ${JSON.stringify(k)}`);
        }
        if (v.body && v.body.length > httpLimits.maxHttpBodyBytes) throw new Error('accepted an oversize body');
      })),
    { numRuns: 3000, seed: SEED },
  );
  t.ok(counts.accepted > 10, `accepted ${counts.accepted}`);
  t.ok(counts.rejected > 1000, `rejected ${counts.rejected}`);
});

t.test('validateDeviceId accepts exactly the documented id alphabet and never echoes more than 64 characters', async (t) => {
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.oneof(anyText, validId, absent, anyNumber), (id) => {
      const ok = typeof id === 'string' && DEVICE_ID_RE.test(id);
      try {
        if (validateDeviceId(id) !== id || !ok) throw new Error(`accepted ${JSON.stringify(id)}`);
      } catch (err) {
        if (ok) throw err;
        const e = checkRejection(err);
        if (e.field !== 'device') throw new Error(`field ${e.field}`);
      }
    }),
    { numRuns: 3000, seed: SEED },
  ), 'property held for 3000 generated ids');
});

t.test('valid requests are accepted unchanged (normalised only as documented)', async (t) => {
  t.doesNotThrow(() => fc.assert(
    fc.property(validRunReq, (req) => {
      const v = validateRun(req, limits);
      if (!isDeepStrictEqual(v.commands, req.commands)) throw new Error('commands changed');
      if (v.device !== req.device || v.commandTimeoutMs !== req.command_timeout_ms || v.cacheTtlMs !== req.cache_ttl_ms) throw new Error('changed');
      if (v.configure !== req.configure || v.privileged !== req.privileged || v.stopOnError !== req.stop_on_error) throw new Error('flags changed');
      const mode = { SESSION_MODE_UNSPECIFIED: undefined, SESSION_MODE_SHELL: 'shell', SESSION_MODE_EXEC: 'exec' }[req.mode as string];
      if (v.mode !== mode) throw new Error(`mode ${String(v.mode)}`);
    }),
    { numRuns: 1000, seed: SEED },
  ), '1000 valid Run requests accepted as sent');
  t.doesNotThrow(() => fc.assert(
    fc.property(validRunReq, fc.array(validId, { minLength: 1, maxLength: 6 }), fc.nat({ max: MAX_RUN_MANY_CONCURRENCY }), (template, devices, concurrency) => {
      const v = validateRunMany({ template, devices: [...devices, ...devices], labels: {}, concurrency }, limits);
      if (!isDeepStrictEqual(v.devices, [...new Set(devices)])) throw new Error(`devices ${JSON.stringify(v.devices)}`);
      if (v.concurrency !== (concurrency || DEFAULT_RUN_MANY_CONCURRENCY)) throw new Error(`concurrency ${v.concurrency}`);
    }),
    { numRuns: 500, seed: SEED },
  ), '500 valid RunMany requests accepted as sent (devices deduplicated, concurrency defaulted)');
  t.doesNotThrow(() => fc.assert(
    fc.property(validHttpReq, (req) => {
      const v = validateHttpRequest(req, httpLimits);
      if (v.method !== req.method.toUpperCase() || v.path !== req.path || v.timeoutMs !== req.timeout_ms) throw new Error('changed');
      const want = Object.fromEntries(Object.entries(req.headers).map(([k, x]) => [k.toLowerCase(), x]));
      if (!isDeepStrictEqual({ ...v.headers }, want)) throw new Error(`headers ${JSON.stringify(v.headers)}`);
    }),
    { numRuns: 1000, seed: SEED },
  ), '1000 valid HTTP requests accepted as sent');
});

t.test('a request with exactly one fault is rejected naming that field', async (t) => {
  let n = 0;
  const expectField = (field: string, f: () => unknown) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    if (err === undefined) throw new Error(`accepted a request with a bad ${field}`);
    const e = checkRejection(err);
    if (e.field !== field) throw new Error(`expected field ${field}, got ${e.field}: ${e.message}`);
    n++;
  };
  fc.assert(
    fc.property(validRunReq, runFault('', true), (req, fault) => {
      const { req: bad, field } = fault(req);
      expectField(field, () => validateRun(bad, limits));
    }),
    { numRuns: 2000, seed: SEED },
  );
  fc.assert(
    fc.property(validRunReq, fc.array(validId, { minLength: 1, maxLength: 3 }), runFault('template.', false), (template, devices, fault) => {
      const { req: bad, field } = fault(template);
      expectField(field, () => validateRunMany({ template: bad, devices, labels: {}, concurrency: 0 }, limits));
    }),
    { numRuns: 1000, seed: SEED },
  );
  fc.assert(
    fc.property(validRunReq, fc.array(validId, { maxLength: 3 }), badId, fc.nat({ max: 10_000 }), (template, devices, bad, at) => {
      const list = [...devices];
      const i = at % (list.length + 1);
      list.splice(i, 0, bad);
      expectField(`devices[${i}]`, () => validateRunMany({ template, devices: list, labels: {}, concurrency: 0 }, limits));
      expectField('devices', () => validateRunMany({ template, devices: [], labels: {}, concurrency: 0 }, limits));
      expectField('template', () => validateRunMany({ template: null, devices: ['r1'], labels: {}, concurrency: 0 }, limits));
      expectField('concurrency', () => validateRunMany({ template, devices: ['r1'], labels: {}, concurrency: MAX_RUN_MANY_CONCURRENCY + 1 + at }, limits));
    }),
    { numRuns: 500, seed: SEED },
  );
  fc.assert(
    fc.property(validHttpReq, httpFault, (req, fault) => {
      const { req: bad, field } = fault(req);
      expectField(field, () => validateHttpRequest(bad, httpLimits));
    }),
    { numRuns: 1500, seed: SEED },
  );
  t.equal(n, 2000 + 1000 + 500 * 4 + 1500);
});

// ------------------------------------------------------------ (2) through a real daemon

/** Status codes a request may get without the device misbehaving (docs/api.md, "Status codes"). */
const REQUEST_STATUSES = new Set([status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION]);

/** Commands that are safe to send to the simulator: never hang, sleep, log out or page out megabytes. */
const deviceCommand = fc.oneof(
  fc.constantFrom('show clock', 'show version', 'show ip interface brief', 'show fz', 'sh clock'),
  shortText.map((s) => `show fz ${s}`),
);
const wireRun = fc.record(
  {
    device: fc.oneof({ weight: 6, arbitrary: fc.constant('fz-ios') }, { weight: 1, arbitrary: fc.constantFrom('fz-none', 'no-such:device') }, { weight: 2, arbitrary: anyText }),
    commands: fc.oneof({ weight: 6, arbitrary: fc.array(deviceCommand, { minLength: 1, maxLength: 4 }) }, { weight: 2, arbitrary: fc.array(anyText, { maxLength: 3 }) }, {
      weight: 1, arbitrary: fc.constant(Array.from({ length: limits.maxCommandsPerRequest + 1 }, () => 'show clock')),
    }),
    // Unknown enum numbers travel on the wire (proto3 enums are open); names the client does not know are dropped.
    mode: fc.constantFrom('SESSION_MODE_UNSPECIFIED', 'SESSION_MODE_SHELL', 'SESSION_MODE_EXEC', 3, 7, 1000),
    privileged: fc.boolean(),
    configure: fc.boolean(),
    stop_on_error: fc.boolean(),
    cache_ttl_ms: fc.constantFrom(0, 0, 1000, 2 ** 32 - 1),
    expect: fc.constantFrom('', '', '', '(', '[a-', 'x'.repeat(1025)),
  },
  { requiredKeys: ['device', 'commands'] },
);

type Outcome = { code: number; details: string };
const DEADLINE_MS = 5000;

function unaryCall(fn: (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: unknown) => void) => unknown, req: unknown): Promise<Outcome & { res?: unknown }> {
  return new Promise((resolve) => {
    fn(req, new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS }, (e, r) => resolve(e ? { code: e.code, details: e.details } : { code: status.OK, details: '', res: r }));
  });
}

function streamCall(call: grpc.ClientReadableStream<unknown>): Promise<Outcome & { messages: unknown[] }> {
  return new Promise((resolve) => {
    const messages: unknown[] = [];
    call.on('data', (d) => messages.push(d));
    call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, messages }));
    call.on('end', () => resolve({ code: status.OK, details: '', messages }));
  });
}

t.test('through a real daemon: fuzzed requests get only request-level statuses and leave the pool clean', async (t) => {
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const api = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => api.close());
  const td = await startTestDaemon({
    devices: [simSpec(sim, 'fz-ios', { labels: { fz: 'yes' }, pool: { max: 2 }, http: { baseUrl: api.url } })],
  });
  t.teardown(() => td.stop());

  const seen = new Map<string, number>();
  const unexpected: string[] = [];
  const record = (rpc: string, o: Outcome, req: unknown) => {
    const key = `${rpc} ${status[o.code]}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (!REQUEST_STATUSES.has(o.code)) unexpected.push(`${key}: ${esc(o.details)} <- ${esc(req).slice(0, 300)}`);
  };

  const run = m(td.proxy, 'Run') as never;
  await fc.assert(
    fc.asyncProperty(wireRun, async (req) => {
      record('Run', await unaryCall(run, req), req);
    }),
    { numRuns: 150, seed: SEED, endOnFailure: true },
  );

  await fc.assert(
    fc.asyncProperty(
      fc.record({
        // Half the templates keep only their (possibly fuzzed) commands, so that some fan-outs run.
        template: fc.oneof(
          { weight: 3, arbitrary: wireRun.map((r) => ({ ...r, mode: 'SESSION_MODE_UNSPECIFIED', expect: '' })) },
          { weight: 3, arbitrary: wireRun },
          { weight: 1, arbitrary: fc.constant(null) },
        ),
        devices: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom('fz-ios', 'fz-none') }, { weight: 1, arbitrary: anyText }), { maxLength: 3 }),
        labels: fc.oneof(fc.constant({}), fc.constant({ fz: 'yes' }), fc.dictionary(shortText, shortText, { maxKeys: 2 })),
        concurrency: fc.constantFrom(0, 1, 4, 256, 257, 2 ** 32 - 1),
      }),
      async (req) => {
        const o = await streamCall(td.proxy.RunMany(req as never, { deadline: Date.now() + DEADLINE_MS }));
        record('RunMany', o, req);
        // Per-device errors inside the stream follow the same rule.
        for (const msg of o.messages as Array<{ error?: { code: number; message: string } | null }>) {
          if (msg.error) record('RunMany/device', { code: msg.error.code, details: msg.error.message }, req);
        }
      },
    ),
    { numRuns: 60, seed: SEED, endOnFailure: true },
  );

  const http = m(td.proxy, 'Http') as never;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        device: fc.oneof({ weight: 6, arbitrary: fc.constant('fz-ios') }, { weight: 1, arbitrary: anyText }),
        method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'post', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH') }, { weight: 1, arbitrary: anyText }),
        path: fc.oneof(
          // Not /status/204: the simulator sends a Content-Length with its 204 (a fixture quirk), which
          // undici rightly reports as a protocol error (UNAVAILABLE).
          fc.constantFrom('/headers', '/echo', '/restconf/data/interfaces', '/status/200', '/status/404', '/../x', '/%2e%2e/x', '//evil/x', '/a#b'),
          fc.stringMatching(/^\/echo\?[ -~]{0,30}$/),
          anyText,
        ),
        headers: fc.dictionary(fc.oneof(fc.stringMatching(/^x-[a-z0-9-]{1,10}$/), shortText, fc.constantFrom('host', 'content-length', 'transfer-encoding', 'connection', 'authorization')), shortText, { maxKeys: 3 }),
        body: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        timeout_ms: fc.constantFrom(0, 2000),
      }),
      async (req) => {
        record('Http', await unaryCall(http, req), req);
      },
    ),
    { numRuns: 120, seed: SEED, endOnFailure: true },
  );

  const put = m(td.inventory, 'PutDevice') as never;
  let putN = 0;
  // A valid device with up to two fields replaced by fuzz: each check is reached, and some pass.
  // Hosts are loopback or malformed only: an accepted device must never point anywhere else.
  const validDevice = {
    host: fc.constantFrom('127.0.0.1', '::1'),
    port: fc.constantFrom(0, 1, sim.port, 65535),
    platform: fc.constantFrom('cisco_ios', 'linux', 'juniper_junos', 'arista_eos'),
    mode: fc.constantFrom('SESSION_MODE_UNSPECIFIED', 'SESSION_MODE_SHELL', 'SESSION_MODE_EXEC'),
    username: fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/),
    password: fc.string({ minLength: 1, maxLength: 12 }).map((x) => `pw-${x}`),
    labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), fc.stringMatching(/^[a-z0-9]{0,8}$/), { maxKeys: 3 }),
    host_key: fc.constantFrom<unknown>({ fingerprints: [sim.hostKeyFingerprint] }, { accept_any: true }),
    prompt: fc.constantFrom('', '[>#]\\s*$'),
    // min stays 0 so an accepted device never starts connecting in the background.
    pool: fc.record({ min: fc.constant(0), max: fc.integer({ min: 1, max: 4 }), acquire_timeout_ms: fc.constantFrom(500, 1000) }, { requiredKeys: [] }),
    ssh: fc.record({ keepalive_interval_ms: fc.constantFrom(0, 1000), command_timeout_ms: fc.constantFrom(1000, 30000) }, { requiredKeys: [] }),
    http: fc.constantFrom(null, { base_url: api.url }),
  };
  const fuzzDevice = {
    host: fc.constantFrom('', 'bad host', '127.0.0.1:22', 'a'.repeat(300), '\u0000', 'ht\ntp', '[::1]', '127.0.0.1/8'),
    port: fc.constantFrom(65536, 2 ** 32 - 1),
    platform: fc.oneof(fc.constantFrom('bogus', '', 'CISCO_IOS', 'generic'), shortText),
    mode: fc.constant(9),
    username: fc.oneof(fc.constant(''), shortText, hugeText),
    password: fc.oneof(fc.constant(''), shortText, hugeText),
    labels: fc.dictionary(shortText, shortText, { minKeys: 1, maxKeys: 3 }),
    host_key: fc.constantFrom<unknown>({}, null, { fingerprints: ['SHA256:bad'] }, { known_hosts_file: '/nonexistent/known_hosts' },
      { fingerprints: [sim.hostKeyFingerprint], accept_any: true }),
    prompt: fc.oneof(fc.constantFrom('(', '[a-', '.*', '(a+)+$'), shortText),
    pool: fc.record({ min: fc.constantFrom(0, 5), max: fc.constantFrom(0, 100000, 2 ** 32 - 1), acquire_timeout_ms: fc.constantFrom(0, 1, 2 ** 32 - 1) }, { requiredKeys: [] }),
    ssh: fc.record({ keepalive_interval_ms: fc.constantFrom(1, 2 ** 32 - 1), command_timeout_ms: fc.constantFrom(0, 1), connect_timeout_ms: fc.constantFrom(0, 1) }, { requiredKeys: [] }),
    http: fc.constantFrom<unknown>({ base_url: 'ftp://127.0.0.1/' }, { base_url: 'not a url' }, { base_url: api.url, auth: { type: 'magic' } },
      { base_url: api.url, auth: { type: 'basic', username: 'u' } }, { base_url: '' }),
  };
  const names = Object.keys(validDevice) as Array<keyof typeof validDevice>;
  await fc.assert(
    fc.asyncProperty(
      fc.record(validDevice),
      fc.record(fuzzDevice),
      fc.subarray(names, { maxLength: 2 }),
      fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: badId }),
      async (good, bad, fuzzed, id) => {
        const device: Record<string, unknown> = { ...good };
        for (const k of fuzzed) device[k] = bad[k];
        // min 0 pools only (see above), also when the pool field is fuzzed.
        if (device.pool && typeof device.pool === 'object') device.pool = { ...(device.pool as object), min: 0 };
        // Ids are fresh per run so an accepted device never replaces the one under test.
        const d: Record<string, unknown> = { ...device, id: id === '' ? `fz-put-${putN++}` : id };
        const o = await unaryCall(put, { device: d });
        record('PutDevice', o, d);
        if (o.code !== status.OK && o.code !== status.INVALID_ARGUMENT) unexpected.push(`PutDevice ${status[o.code]}: ${esc(o.details)}`);
        const pw = String(d.password ?? '');
        if (o.code === status.INVALID_ARGUMENT && pw.length > 6 && o.details.includes(pw)) unexpected.push(`PutDevice echoed the password: ${esc(o.details)}`);
      },
    ),
    { numRuns: 120, seed: SEED, endOnFailure: true },
  );
  t.comment([...seen].sort().map(([k, v]) => `${k}: ${v}`).join('\n'));
  t.strictSame(unexpected, [], 'every reply is OK, INVALID_ARGUMENT, NOT_FOUND or FAILED_PRECONDITION');
  for (const rpc of ['Run', 'RunMany', 'Http', 'PutDevice']) {
    t.ok(seen.get(`${rpc} OK`), `${rpc}: some fuzzed requests were valid and served`);
    t.ok(seen.get(`${rpc} INVALID_ARGUMENT`), `${rpc}: some were rejected`);
  }

  // The daemon is still serving, and the fuzzing left nothing busy or leaked behind.
  const after = await unaryCall(run, { device: 'fz-ios', commands: ['show version'] });
  t.equal(after.code, status.OK, after.details);
  t.match((after.res as { results: Array<{ output: string }> }).results[0]?.output, /Cisco IOS/);
  const stats = (await unaryCall(m(td.admin, 'GetPoolStats') as never, { devices: ['fz-ios'] })).res as { pools: Array<Record<string, unknown>> };
  const ssh = stats.pools.find((p) => p.protocol === 'ssh');
  t.ok(ssh, 'the ssh pool of fz-ios is reported');
  t.match(ssh, { busy: 0, waiting: 0, connecting: 0, circuit: 'closed' });
  t.ok(Number(ssh?.idle) <= 2, `idle sessions ${String(ssh?.idle)} within pool.max`);
  t.ok(sim.stats.connections <= 2, `simulator sees ${sim.stats.connections} connections (pool.max 2)`);
  t.equal(td.daemon.tracker.active, 0, 'no call is still in flight');
});

// Regressions found by the fuzzing above, pinned as plain examples.

t.test('an HTTP header name outside ASCII gets INVALID_ARGUMENT and the daemon keeps serving', async (t) => {
  // Before the fix the field name headers["é"] went into grpc metadata unescaped: grpc-js threw
  // inside the handler's reply path, the call was never answered and the process died of an
  // unhandled rejection (src/api/status.ts toServiceError).
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'fz-ios')] });
  t.teardown(() => td.stop());
  const http = m(td.proxy, 'Http');
  for (const name of ['é', '😀', '\u0007', 'x\u2028y']) {
    const err = await td.call(http, { device: 'fz-ios', method: 'GET', path: '/', headers: { [name]: 'v' } }, { deadlineMs: 3000 }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    t.equal(err?.code, status.INVALID_ARGUMENT, `header ${esc(name)}: ${esc(err?.details)}`);
    const field = String(err?.metadata.get('warmpool-field')[0] ?? '');
    t.match(field, /^headers\["[\x20-\x7e]*"\]$/, `the field travels as printable ASCII: ${field}`);
  }
  const ok = await td.call(m(td.proxy, 'Run'), { device: 'fz-ios', commands: ['show clock'] }, { deadlineMs: 5000 });
  t.ok(ok, 'a valid Run still works');
});

t.test('HTTP header values undici refuses never wedge the device HTTP pool', async (t) => {
  // Before the fix each such request left one undici connection marked busy for good; after
  // maxConnections of them every later Http call to the device waited until its deadline.
  const sim = await startSimDevice({ platform: 'cisco_ios' });
  t.teardown(() => sim.close());
  const api = await startSimHttpDevice({ auth: 'none' });
  t.teardown(() => api.close());
  const td = await startTestDaemon({ devices: [simSpec(sim, 'fz-ios', { http: { baseUrl: api.url, maxConnections: 2 } })] });
  t.teardown(() => td.stop());
  const http = m(td.proxy, 'Http');
  for (const value of ['\u0007', 'é\u0001', '😀', 'Ā', '\u007f', '\u2028']) {
    const err = await td.call(http, { device: 'fz-ios', method: 'GET', path: '/headers', headers: { 'x-fz': value } }, { deadlineMs: 3000 }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    t.equal(err?.code, status.INVALID_ARGUMENT, `value ${esc(value)}: ${esc(err?.details)}`);
  }
  const t0 = Date.now();
  const res = (await td.call(http, { device: 'fz-ios', method: 'GET', path: '/headers', headers: { 'x-fz': 'Latin-1 é is fine' } }, { deadlineMs: 3000 })) as { status: number; body: Buffer };
  t.equal(res.status, 200);
  t.match(JSON.parse(res.body.toString('utf8')), { 'x-fz': 'Latin-1 é is fine' }, 'the Latin-1 value reached the device');
  t.ok(Date.now() - t0 < 2000, 'served at once, not after a deadline');
  const stats = td.daemon.stats(['fz-ios']).find((p) => p.protocol === 'http');
  t.match(stats, { waiting: 0, busy: 0 });
});
