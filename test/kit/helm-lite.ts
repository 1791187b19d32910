/**
 * Renders helm/warmpool without Helm (not installable here: no registry has it). It implements the
 * subset of Go's text/template and Helm/Sprig functions the chart uses, with their semantics
 * (whitespace trimming, truthiness, `$`, include, nindent, mergeOverwrite skipping empty values, .Files.Get),
 * and throws on any action or function it does not know, so a template that strays outside the
 * subset fails the tests instead of rendering wrongly. It is no Helm: toYaml formats differently
 * (same data once parsed), there is no lookup/tpl/capabilities, and `helm lint` still matters.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

type Obj = Record<string, any>;

/** A `fail`/`required` of the chart: what `helm template` would print as the error. */
export class ChartFailure extends Error {
  override name = 'ChartFailure';
}

// ---- lexing and parsing --------------------------------------------------------------------------

type Tok = { k: 'str' | 'num' | 'ident' | 'field' | 'var' | 'punct'; v: string };

type Pipe = { decl?: string[]; assign?: string; cmds: Tok[][][] };

type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; pipe: Pipe }
  | { t: 'if'; branches: Array<{ cond: Pipe | null; body: Node[] }> }
  | { t: 'with'; pipe: Pipe; body: Node[]; else: Node[] }
  | { t: 'range'; pipe: Pipe; body: Node[]; else: Node[] };

/** Splits a template into text and actions, applying the `{{-` / `-}}` trim markers. */
function lex(src: string, file: string): Array<{ text?: string; action?: string }> {
  const out: Array<{ text?: string; action?: string }> = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { out.push({ text }); break; }
    let body = src.slice(open + 2);
    const trimLeft = /^-\s/.test(body);
    if (trimLeft) text = text.replace(/\s+$/, '');
    out.push({ text });
    body = trimLeft ? body.slice(2) : body;
    const start = open + 2 + (trimLeft ? 2 : 0);
    let close: number;
    if (/^\s*\/\*/.test(body)) {
      const endComment = src.indexOf('*/', start);
      close = src.indexOf('}}', endComment);
      if (endComment < 0 || close < 0) throw new Error(`${file}: unclosed comment`);
      trimNext = src.slice(endComment + 2, close).trim() === '-';
      i = close + 2;
      continue;
    }
    close = src.indexOf('}}', start);
    if (close < 0) throw new Error(`${file}: unclosed action at ${open}`);
    let action = src.slice(start, close);
    if (/\s-$/.test(action)) { trimNext = true; action = action.slice(0, -2); }
    out.push({ action: action.trim() });
    i = close + 2;
  }
  return out.filter((p) => p.action !== undefined || p.text !== '');
}

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      toks.push({ k: 'str', v: JSON.parse(s.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1);
      toks.push({ k: 'str', v: s.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const m = /^(:=|[()|=,])/.exec(s.slice(i))
      ?? /^-?\d+(\.\d+)?/.exec(s.slice(i))
      ?? /^\$[A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*/.exec(s.slice(i))
      ?? /^(\.[A-Za-z0-9_]+)+|^\./.exec(s.slice(i))
      ?? /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (!m) throw new Error(`cannot read action "${s}" at "${s.slice(i)}"`);
    const v = m[0];
    const k: Tok['k'] = /^(:=|[()|=,])$/.test(v) ? 'punct' : /^-?\d/.test(v) ? 'num' : v.startsWith('$') ? 'var' : v.startsWith('.') ? 'field' : 'ident';
    toks.push({ k, v });
    i += v.length;
  }
  return toks;
}

/** A pipeline: optional `$a, $b :=` / `$a =`, then commands separated by `|`; a command is a list of operands (a parenthesised pipeline is one operand). */
function parsePipe(src: string): Pipe {
  const toks = tokenize(src);
  const pipe: Pipe = { cmds: [] };
  const declAt = toks.findIndex((t) => t.k === 'punct' && (t.v === ':=' || t.v === '='));
  if (declAt > 0 && toks.slice(0, declAt).every((t) => t.k === 'var' || (t.k === 'punct' && t.v === ','))) {
    const names = toks.slice(0, declAt).filter((t) => t.k === 'var').map((t) => t.v);
    if (toks[declAt]!.v === ':=') pipe.decl = names; else pipe.assign = names[0]!;
    toks.splice(0, declAt + 1);
  }
  let pos = 0;
  const readPipe = (inParen: boolean): Tok[][][] => {
    const cmds: Tok[][][] = [[]];
    while (pos < toks.length) {
      const t = toks[pos]!;
      if (t.k === 'punct' && t.v === ')') { if (!inParen) throw new Error(`unbalanced ) in "${src}"`); pos++; return cmds; }
      pos++;
      if (t.k === 'punct' && t.v === '|') { cmds.push([]); continue; }
      if (t.k === 'punct' && t.v === '(') { cmds.at(-1)!.push([{ k: 'punct', v: '(' }, { k: 'punct', v: JSON.stringify(readPipe(true)) }]); continue; }
      cmds.at(-1)!.push([t]);
    }
    if (inParen) throw new Error(`unclosed ( in "${src}"`);
    return cmds;
  };
  pipe.cmds = readPipe(false);
  return pipe;
}

/** Builds the node tree; `define` bodies go to `defines`. */
function parse(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const parts = lex(src, file);
  let pos = 0;
  const block = (): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const p = parts[pos++]!;
      if (p.text !== undefined) { nodes.push({ t: 'text', s: p.text }); continue; }
      const a = p.action!;
      const word = /^(if|else if|else|end|with|range|define|template|block)\b/.exec(a)?.[1];
      if (word === 'end' || word === 'else' || word === 'else if') return { nodes, stop: a };
      if (word === 'if') {
        const branches: Array<{ cond: Pipe | null; body: Node[] }> = [];
        let cond: Pipe | null = parsePipe(a.slice(2));
        for (;;) {
          const { nodes: body, stop } = block();
          branches.push({ cond, body });
          if (stop === 'end') break;
          if (stop.startsWith('else if')) { cond = parsePipe(stop.slice(7)); continue; }
          if (stop === 'else') { cond = null; continue; }
          throw new Error(`${file}: unexpected {{ ${stop} }} in if`);
        }
        nodes.push({ t: 'if', branches });
      } else if (word === 'with' || word === 'range') {
        const pipe = parsePipe(a.slice(word.length));
        const first = block();
        let other: Node[] = [];
        if (first.stop === 'else') {
          const second = block();
          if (second.stop !== 'end') throw new Error(`${file}: ${word} else must end`);
          other = second.nodes;
        } else if (first.stop !== 'end') throw new Error(`${file}: unexpected {{ ${first.stop} }} in ${word}`);
        nodes.push({ t: word, pipe, body: first.nodes, else: other });
      } else if (word === 'define') {
        const name = JSON.parse(a.slice(6).trim()) as string;
        const { nodes: body, stop } = block();
        if (stop !== 'end') throw new Error(`${file}: define "${name}" must end`);
        defines.set(name, body);
      } else if (word) {
        throw new Error(`${file}: {{ ${word} }} is outside the subset this renderer implements`);
      } else {
        nodes.push({ t: 'out', pipe: parsePipe(a) });
      }
    }
    return { nodes, stop: '' };
  };
  const { nodes, stop } = block();
  if (stop !== '') throw new Error(`${file}: {{ ${stop} }} without a block`);
  return nodes;
}

// ---- evaluation --------------------------------------------------------------------------------

/** Go template truthiness: false, 0, nil, "" and empty maps/lists are false. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function field(v: unknown, path: string): unknown {
  let cur = v;
  for (const seg of path.split('.').filter(Boolean)) {
    if (cur === null || cur === undefined) return undefined;
    if (typeof cur !== 'object') throw new Error(`cannot read .${seg} of ${JSON.stringify(cur)}`);
    cur = (cur as Obj)[seg];
  }
  return cur;
}

function print(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') throw new Error(`printing a ${Array.isArray(v) ? 'list' : 'map'} (${JSON.stringify(v)}): Helm would print Go syntax`);
  return String(v);
}

/** Sorted keys, as Helm's toYaml (sigs.k8s.io/yaml through JSON) writes them. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Obj)[k])]));
  return v;
}

function isMap(v: unknown): v is Obj { return v !== null && typeof v === 'object' && !Array.isArray(v); }

/** Sprig's mergeOverwrite (mergo WithOverride): maps merge deeply; an empty source value never overwrites. */
function mergeOverwrite(dst: Obj, ...srcs: Obj[]): Obj {
  for (const src of srcs) {
    for (const [k, v] of Object.entries(src)) {
      if (isMap(v) && isMap(dst[k])) mergeOverwrite(dst[k], v);
      else if (truthy(v) || !(k in dst)) dst[k] = structuredClone(v);
    }
  }
  return dst;
}

function gofmt(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([sdvq%])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'd') return String(Math.trunc(Number(a)));
    if (verb === 'q') return JSON.stringify(String(a));
    return print(a);
  });
}

interface Scope { dot: unknown; root: unknown; vars: Map<string, unknown>[] }

export class Renderer {
  #defines = new Map<string, Node[]>();
  #files = new Map<string, Node[]>();

  constructor(chartDir: string) {
    const dir = join(chartDir, 'templates');
    for (const f of readdirSync(dir).sort()) {
      const nodes = parse(readFileSync(join(dir, f), 'utf8'), f, this.#defines);
      if (!f.startsWith('_')) this.#files.set(f, nodes);
    }
  }

  /** Every non-helper template rendered with this root (`.Values`, `.Chart`, `.Release`). */
  renderAll(root: Obj): Map<string, string> {
    const out = new Map<string, string>();
    for (const [f, nodes] of this.#files) out.set(f, this.#exec(nodes, { dot: root, root, vars: [new Map()] }));
    return out;
  }

  #exec(nodes: Node[], sc: Scope): string {
    let out = '';
    for (const n of nodes) {
      switch (n.t) {
        case 'text': out += n.s; break;
        case 'out': {
          const v = this.#pipe(n.pipe, sc);
          if (!n.pipe.decl && !n.pipe.assign) out += print(v);
          break;
        }
        case 'if': {
          for (const b of n.branches) {
            if (b.cond === null || truthy(this.#pipe(b.cond, sc))) {
              out += this.#exec(b.body, { ...sc, vars: [...sc.vars, new Map()] });
              break;
            }
          }
          break;
        }
        case 'with': {
          const v = this.#pipe(n.pipe, sc);
          out += truthy(v) ? this.#exec(n.body, { ...sc, dot: v, vars: [...sc.vars, new Map()] }) : this.#exec(n.else, { ...sc, vars: [...sc.vars, new Map()] });
          break;
        }
        case 'range': {
          const decl = n.pipe.decl;
          const v = this.#pipe({ cmds: n.pipe.cmds }, sc);
          const entries: Array<[unknown, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : isMap(v) ? Object.keys(v).sort().map((k) => [k, v[k]]) : [];
          if (entries.length === 0) { out += this.#exec(n.else, sc); break; }
          for (const [k, x] of entries) {
            const vars = new Map<string, unknown>();
            if (decl?.length === 1) vars.set(decl[0]!, x);
            if (decl?.length === 2) { vars.set(decl[0]!, k); vars.set(decl[1]!, x); }
            out += this.#exec(n.body, { ...sc, dot: x, vars: [...sc.vars, vars] });
          }
          break;
        }
      }
    }
    return out;
  }

  #lookupVar(name: string, sc: Scope): unknown {
    if (name === '$') return sc.root;
    for (let i = sc.vars.length - 1; i >= 0; i--) if (sc.vars[i]!.has(name)) return sc.vars[i]!.get(name);
    throw new Error(`undefined variable ${name}`);
  }

  #pipe(p: Pipe, sc: Scope): unknown {
    let v: unknown;
    let piped = false;
    for (const cmd of p.cmds) {
      v = this.#command(cmd, sc, piped ? [v] : []);
      piped = true;
    }
    if (p.decl) for (const name of p.decl) sc.vars.at(-1)!.set(name, v);
    if (p.assign) {
      const scope = [...sc.vars].reverse().find((m) => m.has(p.assign!));
      if (!scope) throw new Error(`assignment to undeclared ${p.assign}`);
      scope.set(p.assign, v);
    }
    return v;
  }

  #operand(op: Tok[], sc: Scope): unknown {
    const t = op[0]!;
    if (t.k === 'punct' && t.v === '(') return this.#pipe({ cmds: JSON.parse(op[1]!.v) as Tok[][][] }, sc);
    if (t.k === 'str') return t.v;
    if (t.k === 'num') return Number(t.v);
    if (t.k === 'field') return t.v === '.' ? sc.dot : field(sc.dot, t.v);
    if (t.k === 'var') {
      const dotAt = t.v.indexOf('.');
      const name = dotAt < 0 ? t.v : t.v.slice(0, dotAt);
      const base = this.#lookupVar(name, sc);
      return dotAt < 0 ? base : field(base, t.v.slice(dotAt));
    }
    if (t.k === 'ident') {
      if (t.v === 'true') return true;
      if (t.v === 'false') return false;
      if (t.v === 'nil') return null;
      return this.#call(t.v, [], sc);
    }
    throw new Error(`unexpected ${t.v}`);
  }

  #command(cmd: Tok[][], sc: Scope, piped: unknown[]): unknown {
    const head = cmd[0]![0]!;
    if (head.k === 'ident' && !['true', 'false', 'nil'].includes(head.v)) {
      return this.#call(head.v, [...cmd.slice(1).map((op) => this.#operand(op, sc)), ...piped], sc);
    }
    const v = this.#operand(cmd[0]!, sc);
    // A method of the root, such as .Files.Get "path": called with its arguments.
    if (typeof v === 'function') return (v as (...args: unknown[]) => unknown)(...cmd.slice(1).map((op) => this.#operand(op, sc)), ...piped);
    if (cmd.length !== 1 || piped.length > 0) throw new Error(`${head.v} is not a function`);
    return v;
  }

  #call(fn: string, a: unknown[], sc: Scope): unknown {
    const s = (i: number): string => print(a[i]);
    switch (fn) {
      case 'include': {
        const body = this.#defines.get(s(0));
        if (!body) throw new Error(`include of undefined template "${s(0)}"`);
        return this.#exec(body, { dot: a[1], root: a[1], vars: [new Map()] });
      }
      case 'nindent': return `\n${(this.#call('indent', a, sc) as string)}`;
      case 'indent': { const pad = ' '.repeat(Number(a[0])); return pad + s(1).replaceAll('\n', `\n${pad}`); }
      case 'toYaml': return a[0] === undefined || a[0] === null ? 'null' : stringifyYaml(sortKeys(a[0]), { lineWidth: 0 }).replace(/\n$/, '');
      case 'eq': return a.slice(1).some((x) => x === a[0]);
      case 'ne': return a[0] !== a[1];
      case 'gt': return Number(a[0]) > Number(a[1]);
      case 'lt': return Number(a[0]) < Number(a[1]);
      case 'and': return a.find((x) => !truthy(x)) ?? a.at(-1);
      case 'or': return a.find((x) => truthy(x)) ?? a.at(-1);
      case 'not': return !truthy(a[0]);
      case 'dict': { const d: Obj = {}; for (let i = 0; i < a.length; i += 2) d[s(i)] = a[i + 1]; return d; }
      case 'list': return [...a];
      case 'set': (a[0] as Obj)[s(1)] = a[2]; return a[0];
      case 'has': return (a[1] as unknown[]).includes(a[0]);
      case 'len': return (a[0] as string | unknown[]).length;
      case 'until': return Array.from({ length: Number(a[0]) }, (_, i) => i);
      case 'printf': return gofmt(s(0), a.slice(1));
      case 'fail': throw new ChartFailure(s(0));
      case 'required': if (a[1] === undefined || a[1] === null || a[1] === '') throw new ChartFailure(s(0)); return a[1];
      case 'default': return truthy(a[1]) ? a[1] : a[0];
      case 'ternary': return truthy(a[2]) ? a[0] : a[1];
      case 'trunc': return s(1).slice(0, Number(a[0]));
      case 'trimSuffix': return s(1).endsWith(s(0)) ? s(1).slice(0, -s(0).length || undefined) : s(1);
      case 'contains': return s(1).includes(s(0));
      case 'replace': return s(2).replaceAll(s(0), s(1));
      case 'lower': return s(0).toLowerCase();
      case 'quote': return JSON.stringify(print(a[0]));
      case 'int': return Math.trunc(Number(a[0]));
      case 'sha256sum': return createHash('sha256').update(s(0)).digest('hex');
      case 'deepCopy': return structuredClone(a[0]);
      case 'mergeOverwrite': return mergeOverwrite(a[0] as Obj, ...(a.slice(1) as Obj[]));
      case 'dig': {
        const keys = a.slice(0, -2).map(String);
        let cur: unknown = a.at(-1);
        for (const k of keys) { if (!isMap(cur) || !(k in cur)) return a.at(-2); cur = cur[k]; }
        return cur;
      }
      default: throw new Error(`function ${fn} is outside the subset this renderer implements`);
    }
  }
}

/** Helm's value coalescing: the user's values over the chart's, maps merged, null removes a key. */
export function coalesce(chart: Obj, user: Obj): Obj {
  const out: Obj = structuredClone(chart);
  for (const [k, v] of Object.entries(user)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = coalesce(out[k], v);
    else out[k] = structuredClone(v);
  }
  return out;
}

export interface Rendered { manifests: Obj[]; notes: string; files: Map<string, string> }

/** `helm template RELEASE CHART -f ...` as far as this subset goes: the manifests parsed, and NOTES.txt. */
export function renderChart(chartDir: string, opts: { release?: string; namespace?: string; values?: Obj } = {}): Rendered {
  const chart = parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Obj;
  const defaults = parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Obj;
  const root = {
    Values: coalesce(defaults, opts.values ?? {}),
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Release: { Name: opts.release ?? 'warmpool', Namespace: opts.namespace ?? 'default', Service: 'Helm' },
    // .Files.Get: a file of the chart outside templates/. Helm returns "" for a missing file; this
    // throws, so a misspelt path fails the tests instead of rendering an empty ConfigMap.
    Files: {
      Get: (path: unknown): string => {
        if (typeof path !== 'string' || path.startsWith('templates/') || path.split('/').includes('..')) throw new Error(`.Files.Get ${String(path)}: not a chart file`);
        return readFileSync(join(chartDir, path), 'utf8');
      },
    },
  };
  const files = new Renderer(chartDir).renderAll(root);
  const manifests: Obj[] = [];
  for (const [f, text] of files) {
    if (f === 'NOTES.txt') continue;
    for (const doc of text.split(/^---\s*$/m)) {
      const obj = parseYaml(doc) as Obj | null;
      if (obj !== null && obj !== undefined) manifests.push(obj);
    }
  }
  return { manifests, notes: files.get('NOTES.txt') ?? '', files };
}
