import { createWriteStream } from 'node:fs';
import { pino } from 'pino';
import type { Logger } from '../observability/logger.js';
import { REDACT_PATHS } from '../observability/logger.js';

/**
 * One structured line per executed command, on its own logger and destination
 * (so it can be shipped and retained apart from operational logs). No command
 * output unless explicitly enabled: outputs can hold configuration and secrets.
 */
export interface AuditEvent {
  caller: string;
  device: string;
  rpc: string;
  command: string;
  sessionId: string;
  durationMs: number;
  outcome: 'ok' | 'failed' | 'error' | 'cached' | 'denied';
  exitStatus?: number;
  error?: string;
  output?: string;
}

export interface Audit {
  record(e: AuditEvent): void;
  readonly includeOutput: boolean;
}

export function createAudit(opts: { enabled: boolean; file: string; includeOutput: boolean; fallback: Logger }): Audit {
  if (!opts.enabled) return { record: () => {}, includeOutput: false };
  const logger = opts.file
    ? pino(
        { base: { audit: true }, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' }, timestamp: pino.stdTimeFunctions.isoTime },
        createWriteStream(opts.file, { flags: 'a' }),
      )
    : opts.fallback.child({ audit: true });
  return {
    includeOutput: opts.includeOutput,
    record(e) {
      logger.info(e, 'audit');
    },
  };
}
