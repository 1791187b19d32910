import type { Pattern } from '../core/pattern.js';
import type { Answer } from '../session/answers.js';
import type { Session } from '../pool/types.js';

/** One command's outcome, as the API's CommandResult needs it. */
export interface CommandOutcome {
  command: string;
  /** Only what the command printed: no echo, no prompt, no pager artefacts or ANSI; `\n` line ends. */
  output: string;
  /** Exec mode: the remote exit status. Shell mode: 0, or 1 when the platform's error pattern matched. */
  exitStatus: number;
  failed: boolean;
  /** Why the command failed, when it did (matched error line, stderr summary); '' otherwise. */
  error: string;
  durationMs: number;
}

export interface BatchRequest {
  commands: string[];
  privileged: boolean;
  configure: boolean;
  stopOnError: boolean;
  /** Per-command timeout (ms) for command i, computed by the caller from request, device default and deadline. */
  timeoutMs: (index: number) => number;
  /** Pattern (RE2 syntax, linear-time) that ends a command's output instead of the prompt (shell mode). */
  expect?: Pattern;
  /** Questions to answer while each command runs (shell mode; session/answers.ts, docs/api.md "Interactive answers"). */
  answers?: readonly Answer[];
  signal?: AbortSignal;
  /**
   * Output as it arrives, for streaming. When it returns a promise the driver stops
   * reading from the device until it settles (backpressure).
   */
  onChunk?: (index: number, data: string) => void | Promise<void>;
  /** Each command's outcome as soon as it is known. */
  onResult?: (index: number, outcome: CommandOutcome) => void;
}

/**
 * A logged-in SSH session (shell or exec driver). A batch leaves the session in its
 * normal state (privileged/config modes left) or marks it dirty.
 */
export interface DeviceSession extends Session {
  readonly mode: 'shell' | 'exec';
  /**
   * Run commands in order. Resolves with one outcome per command run (fewer when
   * stopOnError stopped early). Rejects with WarmpoolError COMMAND_TIMEOUT,
   * CONNECTION_LOST, UNEXPECTED_PROMPT or CANCELLED; the session is then dirty.
   */
  runBatch(req: BatchRequest): Promise<CommandOutcome[]>;
}
