/** Runs one exec command on an ssh2 client that is already logged in and returns its stdout (stderr is drained). */
import type ssh2 from 'ssh2';

export function rawExec(client: ssh2.Client, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      ch.on('data', (d: Buffer) => (out += d.toString('utf8')));
      ch.stderr.resume();
      ch.on('close', () => resolve(out));
    });
  });
}
