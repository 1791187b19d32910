import { loadConfig } from '../config/load.js';
import { createLogger } from '../core/logger.js';
import type { DeviceSpec } from '../config/types.js';
import { Daemon } from '../server.js';
import { checkDaemonArgv } from './daemon-args.js';

export const SERVE_HELP = `usage: warmpool serve [--config FILE] [--<config.key> VALUE ...]

Runs the daemon. Every configuration key can be given as a flag (--grpc.listen 127.0.0.1:50051),
as an environment variable (WARMPOOL_GRPC_LISTEN) or in the config file; flag > env > file > default.
See docs/configuration.md for every key.

Signals: SIGTERM/SIGINT drain and exit 0 (a second one exits at once); SIGHUP reloads the inventory file
(also re-read when it changes, inventory.watch). Check files first with: warmpool check --config FILE.
Exit status: 0 clean stop, 2 invalid configuration or usage, 1 any other failure.`;

/** `warmpool serve`: run until signalled. Resolves with the exit code. */
export async function serve(argv: string[], extraDevices: DeviceSpec[] = [], onStarted?: (d: Daemon) => void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  checkDaemonArgv(argv);
  const config = loadConfig({ argv, env: process.env });
  const logger = createLogger(config.log.level);
  const daemon = new Daemon(config, { logger });
  await daemon.start(extraDevices);
  onStarted?.(daemon);
  return runUntilSignalled(daemon);
}

/**
 * What SIGHUP means: `reload` the inventory file (the daemon, docs/api.md "Process, signals and exit status"), or `stop` as for
 * SIGTERM (the demo: its terminal closing must not leave it running in the background, holding
 * its ports).
 */
export type HangupAction = 'reload' | 'stop';

/** Signals as docs/api.md ("Process, signals and exit status") describes them. Resolves with 0 after a clean drain. */
export function runUntilSignalled(daemon: Daemon, opts: { hangup?: HangupAction; watch?: (stop: (why: string) => void) => void } = {}): Promise<number> {
  return new Promise((resolve) => {
    let signals = 0;
    const onStop = (sig: string) => {
      signals++;
      if (signals > 1) {
        daemon.logger.warn({ signal: sig }, 'second signal: exiting now');
        daemon.forceStop();
        process.exit(1);
      }
      daemon.shutdown(sig).then(
        () => {
          process.off('SIGHUP', onHup);
          resolve(0);
        },
        (err: unknown) => {
          daemon.logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    // A closing terminal sends SIGHUP and ends stdin: one hang-up, not the "second signal" that exits at once.
    let hungUp = false;
    const hangUp = (why: string) => {
      if (hungUp) return;
      hungUp = true;
      onStop(why);
    };
    const onHup = opts.hangup === 'stop' ? () => hangUp('SIGHUP') : () => daemon.reloadInventory();
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onHup);
    // Other signs that nobody is there any more (the demo: its terminal going away).
    opts.watch?.(hangUp);
  });
}
