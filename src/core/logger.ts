import { pino, type Logger, type DestinationStream } from 'pino';
import { redactQuoted, redactSecrets } from './redact.js';

export type { Logger };

/**
 * Every key that may hold a credential, wherever it appears in a logged object.
 * Secrets are also wrapped in `Secret` (which prints as "[REDACTED]"), so this is the second fence.
 */
const SECRET_KEYS = [
  'password', 'passphrase', 'privateKey', 'private_key', 'enableSecret', 'enable_secret',
  'token', 'secret', 'authorization', 'Authorization', 'cookie', 'Cookie', 'set-cookie', 'apiKey',
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.*.${k}`),
  'headers.authorization', 'headers.cookie', 'req.headers.authorization',
];

/** Fields that hold command text: secret values in them are masked (core/redact.ts). */
const COMMAND_KEYS = ['command', 'commands', 'cmd', 'path'];
/** Fields that hold messages, which quote commands: the quoted parts are masked. */
const MESSAGE_KEYS = ['msg', 'error', 'reason', 'err.message'];

/**
 * pino `formatters.log`: the third fence after Secret and key-based redaction. A log line that
 * carries a command (`{ command: 'username bob password X' }`) or an error message quoting one
 * gets the same masking as the audit log. Runs only for lines that are actually written.
 */
export function redactLogFields(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  const set = (k: string, v: unknown) => {
    if (out === obj) out = { ...obj };
    out[k] = v;
  };
  for (const k of COMMAND_KEYS) {
    const v = obj[k];
    if (typeof v === 'string') set(k, redactSecrets(v));
    else if (Array.isArray(v)) set(k, v.map((x) => (typeof x === 'string' ? redactSecrets(x) : x)));
  }
  for (const k of MESSAGE_KEYS) {
    if (k === 'err.message') {
      const err = obj['err'];
      if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
        const e = err as { message: string };
        const masked = redactQuoted(e.message);
        // An Error's own fields are not enumerable: keep pino's err serializer working on a copy.
        if (masked !== e.message) set('err', Object.assign(Object.create(Object.getPrototypeOf(e) as object) as object, e, { message: masked, stack: redactQuoted(String((e as { stack?: unknown }).stack ?? '')) }));
      }
      continue;
    }
    const v = obj[k];
    if (typeof v === 'string') set(k, redactQuoted(v));
  }
  return out;
}

export function createLogger(level: string, dest?: DestinationStream): Logger {
  const opts = {
    level,
    base: { svc: 'warmpool' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    formatters: { log: redactLogFields },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return dest ? pino(opts, dest) : pino(opts);
}

/** A logger that drops everything: for tests and library use without logging. */
export const silentLogger: Logger = pino({ level: 'silent' });
