import { createWriteStream } from 'node:fs';
import { pino } from 'pino';
import { redactQuoted, redactSecrets } from '../core/redact.js';
import type { Logger } from '../core/logger.js';

/**
 * One structured line per authorization decision (guard.ts: every denial, and the allowed
 * decisions of calls that reach a device or change the inventory) and per executed command,
 * on its own logger and destination (so it can be shipped and retained apart from operational
 * logs). No command output unless explicitly enabled: outputs can hold configuration and secrets.
 *
 * Every event goes through one redaction (core/redact.ts) in record(), whoever built it:
 * `command`, `path` and `output` have secret values masked as `***`; `error` has the quoted parts
 * of its text masked (messages quote commands; the prose stays readable).
 */
export interface AuditEvent {
  caller: string;
  /** How the caller authenticated: token, mtls or none. */
  via?: string;
  device: string;
  rpc: string;
  /** The command (Run*), or the commands joined with " ; " (a decision or a batch error). */
  command?: string;
  /** Http: method and normalised path (query not included). */
  method?: string;
  path?: string;
  configure?: boolean;
  privileged?: boolean;
  sessionId?: string;
  durationMs?: number;
  outcome: 'ok' | 'failed' | 'error' | 'cached' | 'denied' | 'allowed';
  /** The policy rule that decided (1-based; 0: no policy file, or no rule matched). */
  rule?: number;
  exitStatus?: number;
  error?: string;
  output?: string;
  /** Run: the request's interactive answers; a secret reply is "[REDACTED]" (never written in clear). */
  answers?: Array<{ pattern: string; reply: string }>;
}

export interface Audit {
  record(e: AuditEvent): void;
  readonly includeOutput: boolean;
}

/** The event as written: secrets masked (see the module comment). */
export function redactAuditEvent(e: AuditEvent): AuditEvent {
  const out: AuditEvent = { ...e };
  if (e.command !== undefined) out.command = redactSecrets(e.command);
  if (e.path !== undefined) out.path = redactSecrets(e.path);
  if (e.error !== undefined) out.error = redactQuoted(e.error);
  if (e.output !== undefined) out.output = redactSecrets(e.output);
  if (e.answers !== undefined) out.answers = e.answers.map((a) => ({ pattern: a.pattern, reply: redactSecrets(a.reply) }));
  return out;
}

/**
 * Audit lines skip pino's key-path redaction (REDACT_PATHS: ~60 wildcard paths, which cost about
 * 0.2-0.5 ms a line and made the two audit lines of a Run the largest part of the daemon's own
 * cost per call). It has nothing to do here: an AuditEvent is flat, its keys are fixed and none of
 * them is a secret's name, and every text value goes through redactAuditEvent in record().
 */
const NO_KEY_REDACTION: string[] = [];

export function createAudit(opts: { enabled: boolean; file: string; includeOutput: boolean; fallback: Logger }): Audit {
  if (!opts.enabled) return { record: () => {}, includeOutput: false };
  const logger = opts.file
    ? pino(
        { base: { audit: true }, timestamp: pino.stdTimeFunctions.isoTime },
        createWriteStream(opts.file, { flags: 'a' }),
      )
    : opts.fallback.child({ audit: true }, { redact: NO_KEY_REDACTION });
  return {
    includeOutput: opts.includeOutput,
    record(e) {
      logger.info(redactAuditEvent(e), 'audit');
    },
  };
}
