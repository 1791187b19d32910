/**
 * YAML / JSON parsing for the config and inventory files, with error messages
 * that give the position but never quote the file's text: an inventory line
 * may hold a password, and the yaml package's default messages print the line.
 */
import { extname } from 'node:path';
import YAML from 'yaml';
import { WarmpoolError } from '../core/errors.js';

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length;
  const col = before.length - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}

/**
 * Parse `text` as JSON (for *.json) or YAML (anything else; YAML 1.2 also reads JSON).
 * Duplicate keys are errors. `where` prefixes the message ("inventory devices.yaml").
 */
export function parseStructuredText(text: string, fileName: string, where: string): unknown {
  if (extname(fileName).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      // V8 messages quote the text around the error; keep only the position.
      const m = /position (\d+)/.exec((err as Error).message);
      const at = m ? ` at ${lineCol(text, Number(m[1]))}` : '';
      throw new WarmpoolError('CONFIG_INVALID', `${where}: not valid JSON${at}`);
    }
  }
  try {
    // Default core schema: "yes"/"on" stay strings, 0x10 is 16. Aliases are capped against alias bombs.
    return YAML.parse(text, { prettyErrors: false, uniqueKeys: true, maxAliasCount: 100 }) as unknown;
  } catch (err) {
    if (err instanceof YAML.YAMLError) {
      const at = Array.isArray(err.pos) ? ` at ${lineCol(text, err.pos[0])}` : '';
      throw new WarmpoolError('CONFIG_INVALID', `${where}: not valid YAML${at}: ${err.message.split('\n')[0]}`);
    }
    throw new WarmpoolError('CONFIG_INVALID', `${where}: not valid YAML`);
  }
}
