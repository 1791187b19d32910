/**
 * Argument parsing for the client subcommands: node:util parseArgs, with its errors turned into
 * our own messages. Its own texts quote unevenly ("...as in '-- "--bogus"") and never suggest
 * anything, so the tokens are checked here first and parseArgs is only asked once they are valid.
 */
import { parseArgs } from 'node:util';
import { didYouMean } from './did-you-mean.js';

/** Wrong use of the command line: exit status 2 (see exit-codes.ts), with the command's help hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec { type: 'string' | 'boolean'; default?: string | boolean; short?: string; multiple?: boolean }
export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Unknown option, with the closest known one when there is one. */
export function unknownOption(raw: string, known: readonly string[]): UsageError {
  const name = raw.replace(/^-+/, '');
  const hint = raw.startsWith('--') ? didYouMean(name, known) : undefined;
  return new UsageError(`unknown option ${raw}${hint === undefined ? '' : ` (did you mean --${hint}?)`}`);
}

/**
 * Parses argv against `options`; positionals are allowed anywhere, `--` ends the options.
 * Throws UsageError for an unknown option, a missing value, or a value given to a switch.
 */
export function parseCliArgs(argv: string[], options: OptionSpecs): { values: OptionValues; positionals: string[] } {
  const loose = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  for (const tok of loose.tokens) {
    if (tok.kind !== 'option') continue;
    // A known short option arrives under its long name; an unknown one under its letter.
    const isShort = !tok.rawName.startsWith('--');
    const spec = Object.hasOwn(options, tok.name) ? options[tok.name] : undefined;
    if (spec === undefined || (isShort && spec.short === undefined)) throw unknownOption(tok.rawName, Object.keys(options));
    if (spec.type === 'string') {
      if (tok.value === undefined) throw new UsageError(`option --${tok.name} needs a value`);
      // As parseArgs' strict mode: "--addr --json" is a forgotten value, not the address "--json".
      if (!tok.inlineValue && tok.value.length > 1 && tok.value.startsWith('-')) {
        throw new UsageError(`option --${tok.name} needs a value (got ${tok.value}; write --${tok.name}=${tok.value} if that is the value)`);
      }
    } else if (tok.inlineValue) {
      throw new UsageError(`option ${isShort ? `-${spec.short}` : `--${tok.name}`} takes no value (got "${String(tok.value)}")`);
    }
  }
  // Valid by now, so the strict parse should not throw; it applies the defaults and `multiple`.
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as OptionValues, positionals };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((err as Error).message.split('\n')[0] as string);
    throw err;
  }
}
