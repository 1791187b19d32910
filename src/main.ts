#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { describeError, isWarmpoolError } from './errors.js';

/** Subcommands and their one-line help; each module is loaded only when used. */
const COMMANDS: Record<string, { help: string; daemon?: true; run: (argv: string[]) => Promise<number | void> }> = {
  serve: { daemon: true, help: 'run the daemon (--config FILE, or WARMPOOL_CONFIG)', run: async (a) => (await import('./cli/serve.js')).serve(a) },
  demo: { daemon: true, help: 'run the daemon with built-in simulated devices and print what to try', run: async (a) => (await import('./cli/demo.js')).demo(a) },
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
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${usage()}\n`);
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    process.stdout.write(`warmpool ${version()}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`warmpool: unknown command "${cmd}"\n\n${usage()}\n`);
    return 1;
  }
  try {
    return (await c.run(rest)) ?? 0;
  } catch (err) {
    if (isWarmpoolError(err, 'CONFIG_INVALID')) {
      process.stderr.write(`warmpool: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`warmpool ${cmd}: ${describeError(err)}\n`);
    return 1;
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
