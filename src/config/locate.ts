/**
 * Positions in a config or inventory file, for `warmpool check`: the file is parsed once more
 * with the yaml package's node ranges, so a problem found on the plain object (by the same
 * loader and validator the daemon runs) can be pointed at as FILE:LINE:COL.
 *
 * JSON files are syntax-checked with JSON.parse (what the daemon uses) and then read for
 * positions through the YAML parser, which reads JSON as YAML 1.2 flow.
 */
import { extname } from 'node:path';
import YAML, { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

export interface SyntaxProblem extends Position {
  message: string;
}

/** One path segment: a mapping key or a list index. */
export type PathSegment = string | number;

export interface LocatedDocument {
  /** The plain value, exactly as the daemon's parser reads it (undefined when syntax errors were found). */
  value: unknown;
  /** Every syntax error (YAML reports all of them; JSON.parse stops at the first). */
  syntax: SyntaxProblem[];
  /** Where `path` is written: `at: 'key'` points at the key of the last segment, 'value' at its value. Falls back to the nearest ancestor that exists. */
  locate(path: readonly PathSegment[], at?: 'key' | 'value'): Position;
}

function lineColOf(text: string, offset: number): Position {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  return { line: before.split('\n').length, col: before.length - before.lastIndexOf('\n') };
}

/** Parse `text` (named `fileName`, whose extension picks JSON or YAML) keeping node positions. */
export function parseLocated(text: string, fileName: string): LocatedDocument {
  const json = extname(fileName).toLowerCase() === '.json';
  const counter = new LineCounter();
  const syntax: SyntaxProblem[] = [];
  let value: unknown;
  if (json) {
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      // V8 quotes the text around the error; keep only the position (a line may hold a password).
      const m = /position (\d+)/.exec((err as Error).message);
      const at = m ? lineColOf(text, Number(m[1])) : { line: 1, col: 1 };
      syntax.push({ ...at, message: 'not valid JSON' });
    }
  }
  // Same options as parse.ts; JSON allows duplicate keys (the last wins), so only YAML refuses them.
  const doc: Document.Parsed = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: !json, lineCounter: counter });
  if (!json) {
    for (const e of doc.errors) {
      const pos = counter.linePos(e.pos[0]);
      // Only the first line of the yaml package's message: the rest quotes the source line.
      syntax.push({ line: pos.line, col: pos.col, message: `not valid YAML: ${e.message.split('\n')[0] ?? ''}` });
    }
    if (syntax.length === 0) {
      try {
        value = doc.toJS({ maxAliasCount: 100 }) as unknown;
      } catch (err) {
        syntax.push({ line: 1, col: 1, message: `not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}` });
      }
    }
  }
  const pos = (node: { range?: [number, number, number] | null } | null | undefined): Position | undefined => {
    if (!node?.range) return undefined;
    const p = counter.linePos(node.range[0]);
    return { line: p.line, col: p.col };
  };
  return {
    value: syntax.length === 0 ? value : undefined,
    syntax,
    locate(path, at = 'value') {
      let node: unknown = doc.contents;
      let best = pos(node as Node) ?? { line: 1, col: 1 };
      for (let i = 0; i < path.length; i++) {
        const seg = path[i];
        const last = i === path.length - 1;
        if (isMap(node)) {
          // The last pair with this key is the one that counts (JSON duplicates).
          const pair = [...node.items].reverse().find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
          if (!pair) return best;
          const keyPos = pos(pair.key as Node);
          if (last && at === 'key') return keyPos ?? best;
          node = pair.value;
          best = pos(node as Node) ?? keyPos ?? best;
        } else if (isSeq(node) && typeof seg === 'number') {
          const item = node.items[seg];
          if (item === undefined) return best;
          node = item;
          best = pos(node as Node) ?? best;
        } else {
          return best;
        }
      }
      return best;
    },
  };
}
