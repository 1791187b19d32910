import { pino, type Logger, type DestinationStream } from 'pino';

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

export function createLogger(level: string, dest?: DestinationStream): Logger {
  const opts = {
    level,
    base: { svc: 'warmpool' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return dest ? pino(opts, dest) : pino(opts);
}

/** A logger that drops everything: for tests and library use without logging. */
export const silentLogger: Logger = pino({ level: 'silent' });
