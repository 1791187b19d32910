#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { describeError, isWarmpoolError } from './core/errors.js';
import { UsageError } from './cli/args.js';
import { didYouMean } from './cli/did-you-mean.js';
import { EXIT, EXIT_STATUS_HELP } from './cli/exit-codes.js';

/** Subcommands and their one-line help; each module is loaded only when used. */
const COMMANDS: Record<string, { help: string; daemon?: true; run: (argv: string[]) => Promise<number | void> }> = {
  serve: { daemon: true, help: 'run the daemon (--config FILE, or WARMPOOL_CONFIG)', run: async (a) => (await import('./cli/serve.js')).serve(a) },
  demo: { daemon: true, help: 'run the daemon with built-in simulated devices and print what to try', run: async (a) => (await import('./cli/demo.js')).demo(a) },
  check: { help: 'validate config and inventory files without starting (--config FILE, --inventory FILE)', run: async (a) => (await import('./cli/check.js')).checkCommand(a) },
  schema: { help: 'print the JSON Schema of the config file (--config) or the inventory file (--inventory)', run: async (a) => (await import('./cli/schema.js')).schemaCommand(a) },
  sim: { daemon: true, help: 'run one simulated device (--platform P --port N)', run: async (a) => (await import('./sim/sim-command.js')).runSimCommand(a) },
  exec: { help: 'run commands on a device: exec DEVICE CMD...', run: async (a) => (await import('./cli/client-commands.js')).execCommand(a) },
  many: { help: 'run commands on many devices: many (--devices a,b | --labels k=v) -- CMD...', run: async (a) => (await import('./cli/client-commands.js')).manyCommand(a) },
  http: { help: 'one HTTP request to a device: http DEVICE METHOD PATH [--body DATA]', run: async (a) => (await import('./cli/client-commands.js')).httpCommand(a) },
  devices: { help: 'list devices', run: async (a) => (await import('./cli/client-commands.js')).devicesCommand(a) },
  stats: { help: 'pool statistics', run: async (a) => (await import('./cli/client-commands.js')).statsCommand(a) },
};

function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'warmpool') return pkg.version ?? 'unknown';
    } catch {
      // try the next depth (src/ vs dist/src/)
    }
  }
  return 'unknown';
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'warmpool: pooled, kept-alive SSH and HTTP sessions to network devices, over gRPC',
    '',
    'usage: warmpool <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([c, { help }]) => `  ${c.padEnd(width)}  ${help}`),
    '',
    'warmpool <command> --help for its options; warmpool --version',
    '',
    EXIT_STATUS_HELP,
  ].join('\n');
}

/** Wrong use of the command line: the reason, where to read more, exit status 2. */
function usageFailure(cmd: string | undefined, message: string): number {
  const help = cmd === undefined ? 'warmpool --help' : `warmpool ${cmd} --help`;
  process.stderr.write(`warmpool${cmd === undefined ? '' : ` ${cmd}`}: ${message}\nRun "${help}" for usage.\n`);
  return EXIT.USAGE;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    process.stderr.write(`${usage()}\n`);
    return EXIT.USAGE;
  }
  if (cmd === '--help' || cmd === '-h' || (cmd === 'help' && rest.length === 0)) {
    process.stdout.write(`${usage()}\n`);
    return EXIT.OK;
  }
  if (cmd === 'help') return main([rest[0] as string, '--help']);
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    process.stdout.write(`warmpool ${version()}\n`);
    return EXIT.OK;
  }
  const c = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!c) {
    const names = Object.keys(COMMANDS);
    if (cmd.startsWith('-')) {
      const hint = didYouMean(cmd.replace(/^-+/, ''), ['help', 'version']);
      return usageFailure(undefined, `unknown option ${cmd}${hint ? ` (did you mean --${hint}?)` : ''}; options go after the command`);
    }
    const hint = didYouMean(cmd, names);
    return usageFailure(undefined, `unknown command "${cmd}"${hint ? ` (did you mean "${hint}"?)` : ''}; commands: ${names.join(', ')}`);
  }
  try {
    return (await c.run(rest)) ?? EXIT.OK;
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(cmd, err.message);
    if (isWarmpoolError(err, 'CONFIG_INVALID')) {
      process.stderr.write(`warmpool: ${err.message}\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(`warmpool ${cmd}: ${describeError(err)}\n`);
    return EXIT.FAILURE;
  }
}

// Unhandled rejections are bugs: log them and stop rather than run on in an unknown state.
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`warmpool: fatal: unhandled rejection: ${describeError(reason)}\n${reason instanceof Error ? reason.stack ?? '' : ''}\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands (serve, demo, sim) return only when they are done; exit even if a
    // stray handle would keep the loop alive. Client commands let stdout drain first.
    if (COMMANDS[process.argv[2] ?? '']?.daemon) process.exit(code);
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`warmpool: fatal: ${describeError(err)}\n`);
    process.exit(1);
  },
);
