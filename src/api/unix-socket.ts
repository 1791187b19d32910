/**
 * The gRPC listener on a Unix domain socket (grpc.listen: unix:///run/warmpool/grpc.sock), for the
 * sidecar case: the app container reaches the daemon through a file on a shared volume, and the
 * file's mode (grpc.socketMode) decides who may call — no TCP port at all.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { WarmpoolError } from '../core/errors.js';

function configError(message: string): WarmpoolError {
  return new WarmpoolError('CONFIG_INVALID', message, { field: 'grpc.listen' });
}

/** Resolves true when something accepts connections on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Make `path` bindable. A socket file nobody answers on is what a killed daemon leaves behind
 * (only a clean close unlinks it): remove it, or every restart after a crash would fail with
 * EADDRINUSE. A live socket or any other kind of file is never touched.
 */
export async function prepareUnixSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      try {
        if (!lstatSync(dirname(path)).isDirectory()) throw configError(`grpc.listen: ${dirname(path)} is not a directory`);
      } catch (e) {
        if (e instanceof WarmpoolError) throw e;
        throw configError(`grpc.listen: directory ${dirname(path)} does not exist (create it, e.g. an emptyDir volume shared with the app)`);
      }
      return;
    }
    throw configError(`grpc.listen: cannot inspect ${path}: ${(err as Error).message}`);
  }
  if (!st.isSocket()) throw configError(`grpc.listen: ${path} exists and is not a socket; refusing to replace it`);
  if (await answers(path)) throw configError(`grpc.listen: ${path} is in use by another running process`);
  unlinkSync(path);
}

/**
 * Bind with the umask narrowed to `mode`, so the socket never exists with wider permissions than
 * configured, not even between bind and chmod; then chmod for umasks that were already narrower
 * than `mode` (the result is exactly `mode`). The umask is process-wide: anything else created
 * during the bind gets at most `mode` too, which is only ever stricter.
 */
export async function bindUnixSocket<T>(path: string, mode: number, bind: () => Promise<T>): Promise<T> {
  const old = process.umask(~mode & 0o777);
  let result: T;
  try {
    result = await bind();
  } finally {
    process.umask(old);
  }
  chmodSync(path, mode);
  return result;
}
