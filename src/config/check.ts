/**
 * `warmpool check`: every problem in a config and/or inventory file, each with FILE:LINE:COL,
 * found by the loader and validator the daemon itself runs (so check and serve cannot disagree).
 *
 * Those stop at the first problem, which is what a daemon wants. To find the next one, the
 * field named by the error is set aside (deleted from a copy of the document, or, for a required
 * field that is missing, given a neutral stand-in value) and the same validation runs again, until
 * it passes or nothing more can be set aside. Errors that only the setting-aside caused (a field
 * reported "required" after its own bad value was removed) are not reported. The positions come
 * from a second parse that keeps node ranges (locate.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isWarmpoolError, WarmpoolError } from '../core/errors.js';
import { DEVICE_ID_RE } from '../core/names.js';
import { isPlainObject } from './checks.js';
import { inventoryFromDocument, validateDevice, type Defaults } from './inventory.js';
import { loadConfig } from './load.js';
import { parseLocated, type LocatedDocument, type PathSegment } from './locate.js';
import type { AppConfig } from './types.js';

export interface CheckProblem {
  file: string;
  line: number;
  col: number;
  /** The key path the problem is about ("grpc.listen", "devices[2].hostKey"); "file" or "syntax" otherwise. */
  key: string;
  message: string;
}

/** `FILE:LINE:COL: key: message`, the format docs/api.md ("Process, signals and exit status") promises. */
export function formatProblem(p: CheckProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.key}: ${p.message}`;
}

/** Bounds the re-validation loops: far above the number of fields a document can have problems in. */
const MAX_ROUNDS = 200;

function readText(path: string, key: string, problems: CheckProblem[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    problems.push({ file: path, line: 1, col: 1, key, message: `the file ${why}` });
    return undefined;
  }
}

/** "a.b[2].c" → ['a', 'b', 2, 'c']. */
function segments(field: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const part of field.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== '') out.push(m[1] as string);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Deletes the value at `segs` (a list element: the whole list); false when it is not there. */
function deleteAt(obj: unknown, segs: PathSegment[]): boolean {
  const cut = segs.findIndex((s) => typeof s === 'number');
  const path = (cut === -1 ? segs : segs.slice(0, cut)) as string[];
  let cur: unknown = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, seg)) return false;
    cur = cur[seg];
  }
  const last = path.at(-1);
  if (last === undefined || !isPlainObject(cur) || !Object.hasOwn(cur, last)) return false;
  delete cur[last];
  return true;
}

function setAt(obj: Record<string, unknown>, segs: string[], value: unknown): void {
  let cur = obj;
  for (const seg of segs.slice(0, -1)) {
    if (!isPlainObject(cur[seg])) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[segs.at(-1) as string] = value;
}

/** Whether `text` names the key path `key` as a whole word ("cache" is not in "cached"). */
function mentions(text: string, key: string): boolean {
  return new RegExp(`(^|[^\\w.])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\w.]|$)`).test(text);
}

/** The problem phrase of a loader / validator message, without the "where: who: field: " it starts with. */
function problemText(message: string, field: string | undefined, prefixes: string[]): string {
  // loadConfig joins several format problems with "; "; each is reported in its own round.
  let text = message.split('; invalid configuration ')[0] as string;
  for (const p of prefixes) {
    if (text.startsWith(p)) {
      text = text.slice(p.length);
      break;
    }
  }
  if (field !== undefined) {
    const i = text.indexOf(`: ${field}: `);
    if (i !== -1 && i < 200) text = text.slice(i + field.length + 4);
    else if (text.startsWith(`${field}: `)) text = text.slice(field.length + 2);
  }
  return text;
}

export interface ConfigCheck {
  problems: CheckProblem[];
  /** The loaded configuration when the file is valid (environment and flags not applied). */
  config?: AppConfig;
  /** inventory.file as the file writes it, resolved against the file's directory, even when other keys are invalid. */
  inventoryFile?: string;
}

function writtenInventoryFile(value: unknown, configPath: string): string | undefined {
  const inv = isPlainObject(value) ? value['inventory'] : undefined;
  const file = isPlainObject(inv) ? inv['file'] : undefined;
  return typeof file === 'string' && file !== '' ? resolve(dirname(resolve(configPath)), file) : undefined;
}

/** Every problem in a config file, as `warmpool serve --config FILE` would see it with no environment or flags. */
export function checkConfigFile(path: string): ConfigCheck {
  const r = checkConfigUnsorted(path);
  return { ...r, problems: byPosition(r.problems) };
}

function checkConfigUnsorted(path: string): ConfigCheck {
  const problems: CheckProblem[] = [];
  const text = readText(path, 'file', problems);
  if (text === undefined) return { problems };
  const doc = parseLocated(text, path);
  for (const s of doc.syntax) problems.push({ file: path, line: s.line, col: s.col, key: 'syntax', message: s.message });
  if (doc.syntax.length > 0) return { problems };
  if (doc.value !== null && doc.value !== undefined && !isPlainObject(doc.value)) {
    problems.push({ file: path, line: 1, col: 1, key: 'file', message: 'the file must be a mapping of settings' });
    return { problems };
  }
  const inventoryFile = writtenInventoryFile(doc.value, path);
  const work = structuredClone((doc.value ?? {}) as Record<string, unknown>);
  const prefixes = [`invalid configuration in ${path}: `, 'invalid configuration (built-in default): ', 'invalid configuration: '];
  const setAside: string[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    try {
      const config = loadConfig({ argv: [], env: {}, configFile: path, fileObject: work });
      return problems.length === 0 ? { problems, config, ...(inventoryFile ? { inventoryFile } : {}) } : { problems, ...(inventoryFile ? { inventoryFile } : {}) };
    } catch (err) {
      if (!isWarmpoolError(err, 'CONFIG_INVALID')) throw err;
      const field = err.field;
      // The key column already names the path: `unknown key "a.b" (did you mean ...)` → `unknown key (did you mean ...)`.
      const message = problemText(err.message, field, prefixes).replace(/^unknown key "[^"]*"/, 'unknown key');
      const segs = field === undefined ? [] : segments(field);
      const pos = doc.locate(segs, /^unknown key/.test(message) ? 'key' : 'value');
      // A rule across keys that names a key already set aside judged its default, not the file: not reported.
      if (!setAside.some((k) => mentions(message, k))) problems.push({ file: path, ...pos, key: field ?? 'file', message });
      if (field !== undefined) setAside.push(field);
      // A rule on a key the file does not set (a default) cannot be set aside: stop there.
      if (field === undefined || !deleteAt(work, segs)) return { problems, ...(inventoryFile ? { inventoryFile } : {}) };
    }
  }
  return { problems, ...(inventoryFile ? { inventoryFile } : {}) };
}

/** Stand-ins for required device fields, so validation can go on past a missing or bad one. Never used for anything else. */
const STAND_INS: Record<string, unknown> = {
  id: 'check-stand-in',
  host: '192.0.2.1',
  platform: 'linux',
  username: 'check',
  password: 'check',
  hostKey: { acceptAny: true },
  prompt: '[>#]\\s*$',
};

/** Inline value and file variant are one thing ("password" is the credential as a whole). */
function family(field: string): string {
  const base = field.replace(/\[\d+\]/g, '').replace(/File$/, '');
  return base === 'privateKey' || base === 'password' ? 'credential' : base;
}

/** An error caused by setting `field` aside earlier rather than by the file. */
function causedBySettingAside(field: string, setAside: string[]): boolean {
  return setAside.some((d) => d === field || d.startsWith(`${field}.`) || d.startsWith(`${field}[`) || family(d) === family(field));
}

function checkDevice(entry: unknown, index: number, defaults: Defaults, baseDir: string, report: (field: string, message: string) => void): void {
  if (!isPlainObject(entry)) {
    try {
      validateDevice(entry, defaults, 'file', undefined, { baseDir, index });
    } catch (err) {
      if (!isWarmpoolError(err)) throw err;
      report(err.field ?? '(entry)', problemText(err.message, err.field, []));
    }
    return;
  }
  const work = structuredClone(entry);
  const setAside: string[] = [];
  const stoodIn = new Set<string>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    try {
      validateDevice(work, defaults, 'file', undefined, { baseDir, index });
      return;
    } catch (err) {
      if (!isWarmpoolError(err, 'CONFIG_INVALID')) throw err;
      const field = err.field ?? '(entry)';
      if (!causedBySettingAside(field, setAside)) report(field, problemText(err.message, field, []));
      const segs = segments(field);
      if (deleteAt(work, segs)) {
        setAside.push(field);
        continue;
      }
      const standIn = Object.hasOwn(STAND_INS, field) ? STAND_INS[field] : undefined;
      if (standIn !== undefined && !stoodIn.has(field)) {
        stoodIn.add(field);
        setAside.push(field);
        setAt(work, [field], structuredClone(standIn));
        continue;
      }
      // A nested required field (http.auth.username): set its whole top-level group aside.
      const top = segs[0];
      if (typeof top === 'string' && top !== field && Object.hasOwn(work, top)) {
        delete work[top];
        setAside.push(top);
        continue;
      }
      return;
    }
  }
}

/** Every problem in an inventory document already read from `path`. */
export function checkInventoryText(text: string, path: string, defaults: Defaults): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const doc: LocatedDocument = parseLocated(text, path);
  for (const s of doc.syntax) problems.push({ file: path, line: s.line, col: s.col, key: 'syntax', message: s.message });
  if (doc.syntax.length > 0) return problems;
  const add = (segs: PathSegment[], key: string, message: string, at: 'key' | 'value' = 'value') => {
    problems.push({ file: path, ...doc.locate(segs, at), key, message });
  };
  const where = `inventory ${path}: `;

  // The document's own rules (top-level keys, the devices list), without the device entries.
  const value = doc.value;
  const devices = isPlainObject(value) && Array.isArray(value['devices']) ? (value['devices'] as unknown[]) : undefined;
  if (!isPlainObject(value)) {
    try {
      inventoryFromDocument(value, path, defaults);
    } catch (err) {
      if (!isWarmpoolError(err)) throw err;
      add([], err.field ?? 'devices', problemText(err.message, err.field, [where]));
    }
    return problems;
  }
  const top: Record<string, unknown> = { ...value, ...(devices === undefined ? {} : { devices: [] }) };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    try {
      inventoryFromDocument(top, path, defaults);
      break;
    } catch (err) {
      if (!isWarmpoolError(err, 'CONFIG_INVALID')) throw err;
      const field = err.field ?? 'devices';
      const message = problemText(err.message, field, [where]);
      add([field], field, message, /^unknown key/.test(message) ? 'key' : 'value');
      if (field === 'devices' || !Object.hasOwn(top, field)) break;
      delete top[field];
    }
  }

  // Each device on its own, then what involves several (duplicate ids).
  const baseDir = dirname(resolve(path));
  const firstById = new Map<string, number>();
  (devices ?? []).forEach((entry, index) => {
    checkDevice(entry, index, defaults, baseDir, (field, message) => {
      const segs = segments(field === '(entry)' ? '' : field);
      add(['devices', index, ...segs], `devices[${index}]${field === '(entry)' ? '' : `.${field}`}`, message, /^unknown field/.test(message) ? 'key' : 'value');
    });
    const id = isPlainObject(entry) ? entry['id'] : undefined;
    if (typeof id !== 'string' || !DEVICE_ID_RE.test(id)) return;
    const first = firstById.get(id);
    if (first === undefined) {
      firstById.set(id, index);
      return;
    }
    const firstPos = doc.locate(['devices', first, 'id']);
    add(['devices', index, 'id'], `devices[${index}].id`, `duplicate id "${id}" (first used by devices[${first}] at line ${firstPos.line})`);
  });

  // Whatever the rounds above could not attribute: the daemon's own verdict on the whole file.
  if (problems.length === 0) {
    try {
      inventoryFromDocument(value, path, defaults);
    } catch (err) {
      if (!(err instanceof WarmpoolError)) throw err;
      add([], err.field ?? 'devices', problemText(err.message, err.field, [where]));
    }
  }
  return problems;
}

/** Problems in reading order: by line, then column (the rounds find them in validation order). */
export function byPosition(problems: CheckProblem[]): CheckProblem[] {
  return [...problems].sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : 0));
}

export function checkInventoryFile(path: string, defaults: Defaults): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const text = readText(path, 'file', problems);
  return text === undefined ? problems : byPosition(checkInventoryText(text, path, defaults));
}
