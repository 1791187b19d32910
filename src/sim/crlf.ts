/** Terminal line endings: a PTY sends CRLF where the simulator's texts have LF. */

export const crlf = (s: string): string => (s.indexOf('\n') < 0 ? s : s.replace(/\r?\n/g, '\r\n'));

/** Cache of CRLF-converted large outputs (show run is the same text for every session). */
const crlfCache = new Map<string, string>();
export function crlfCached(s: string): string {
  if (s.length < 16384) return crlf(s);
  const hit = crlfCache.get(s);
  if (hit !== undefined) return hit;
  const v = crlf(s);
  if (crlfCache.size > 8) crlfCache.clear();
  crlfCache.set(s, v);
  return v;
}
