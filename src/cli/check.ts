import { existsSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { checkConfigFile, checkInventoryFile, formatProblem, type CheckProblem } from '../config/check.js';
import { loadConfig } from '../config/load.js';
import { parseCliArgs, UsageError } from './args.js';
import { EXIT } from './exit-codes.js';

export const CHECK_HELP = `usage: warmpool check [--config FILE] [--inventory FILE]

Validates a config file and/or an inventory file without starting anything (nothing is connected)
and prints every problem as FILE:LINE:COL: key: message.
With --config alone, the inventory file it names (inventory.file) is checked too. Without --config,
the inventory is checked against the built-in defaults. Environment variables and flags are not
applied: what is checked is the files as written.

Exit status: 0 valid, 2 invalid (or wrong usage).`;

/** `warmpool check`: resolves with the exit code. */
export function checkCommand(argv: string[]): number {
  const { values, positionals } = parseCliArgs(argv, {
    config: { type: 'string' },
    inventory: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    process.stdout.write(`${CHECK_HELP}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; name files with --config FILE or --inventory FILE`);
  const configFile = values.config as string | undefined;
  const inventoryFile = values.inventory as string | undefined;
  if (configFile === undefined && inventoryFile === undefined) throw new UsageError('nothing to check: give --config FILE and/or --inventory FILE');

  const problems: CheckProblem[] = [];
  const checked: string[] = [];
  let defaults = loadConfig({ argv: [], env: {} }).defaults;
  let inventory = inventoryFile;
  if (configFile !== undefined) {
    const r = checkConfigFile(configFile);
    problems.push(...r.problems);
    checked.push(configFile);
    if (r.config !== undefined) defaults = r.config.defaults;
    // Checked even when other keys are invalid (then against the built-in defaults): every problem, not the first file's.
    if (inventory === undefined) inventory = r.config?.inventory.file || r.inventoryFile;
  }
  // A missing inventory.file is already reported against the config key.
  if (inventory !== undefined && (inventory === inventoryFile || existsSync(inventory))) {
    problems.push(...checkInventoryFile(inventory, defaults));
    checked.push(inventory);
  }
  // Paths under the working directory are shown relative to it, as compilers do (editors resolve them the same way).
  const shown = (f: string): string => {
    const rel = relative(process.cwd(), f);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : f;
  };
  for (const p of problems) process.stdout.write(`${formatProblem({ ...p, file: shown(p.file) })}\n`);
  if (problems.length > 0) {
    process.stderr.write(`warmpool check: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${checked.map(shown).join(', ')}\n`);
    return EXIT.USAGE;
  }
  process.stderr.write(`warmpool check: ${checked.map(shown).join(', ')}: valid\n`);
  return EXIT.OK;
}
