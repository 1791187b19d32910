import { renderJsonSchema } from '../config/json-schema.js';
import { parseCliArgs, UsageError } from './args.js';
import { EXIT } from './exit-codes.js';

export const SCHEMA_HELP = `usage: warmpool schema (--config | --inventory)

Prints the JSON Schema (draft-07) of the config file or of the inventory file, generated from the
schema the daemon validates with. The same files are published as docs/config.schema.json and
docs/inventory.schema.json. Cross-field rules are not in the schema: run \`warmpool check\`.`;

/** `warmpool schema --config|--inventory`. */
export function schemaCommand(argv: string[]): number {
  const { values, positionals } = parseCliArgs(argv, {
    config: { type: 'boolean' },
    inventory: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    process.stdout.write(`${SCHEMA_HELP}\n`);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if ((values.config === true) === (values.inventory === true)) throw new UsageError('give exactly one of --config or --inventory');
  process.stdout.write(renderJsonSchema(values.config === true ? 'config' : 'inventory'));
  return EXIT.OK;
}
