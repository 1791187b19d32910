/**
 * The requests the use cases take: what api/validate.ts makes of a proto message once every
 * field is checked (docs/api.md, "Messages" and "Semantics clients rely on").
 */
import type { SessionMode } from '../config/types.js';
import type { Pattern } from '../core/pattern.js';
import type { Answer } from '../session/answers.js';

export interface ValidRun {
  device: string;
  commands: string[];
  /** undefined: the device's own mode. */
  mode: SessionMode | undefined;
  privileged: boolean;
  configure: boolean;
  stopOnError: boolean;
  commandTimeoutMs: number;
  cacheTtlMs: number;
  /** RE2 syntax, matched in linear time (core/pattern.ts); `^`/`$` match at line ends. */
  expect: Pattern | undefined;
  expectSource: string;
  /** Interactive answers (docs/api.md "Interactive answers"); [] when none. */
  answers: readonly Answer[];
}

export interface ValidRunMany {
  template: ValidRun;
  devices: string[];
  labels: Record<string, string>;
  concurrency: number;
}

export interface ValidHttp {
  device: string;
  method: string;
  /** The normalised request target (path + query): exactly what is sent under the base path. */
  path: string;
  /** The normalised path without the query: what the policy's httpPaths patterns match. */
  policyPath: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  timeoutMs: number;
}
