/**
 * The reply-size bound lives below the gRPC edge so the Run use case can refuse an answer too
 * big to send before it is serialised (docs/api.md, "Sizes").
 */
import type { RunResult } from './context.js';

/**
 * An upper bound of RunResponse's protobuf size for `r` (each field's tag and length prefix
 * counted at their largest). `bytesOf` sizes a string: its exact UTF-8 length by default, or
 * any upper bound of it (`s.length * 3` costs nothing, see Runner's reply check).
 */
export function replySizeBound(r: RunResult, bytesOf: (s: string) => number = (s) => Buffer.byteLength(s)): number {
  const str = (s: string) => 6 + bytesOf(s);
  let n = str(r.device) + 6 + str(r.session.id) + 48;
  for (const c of r.results) n += 6 + str(c.command) + str(c.output) + str(c.error) + 40;
  return n;
}
