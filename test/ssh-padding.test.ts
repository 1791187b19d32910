import t from 'tap';
import ssh2 from 'ssh2';
import { fillRandom, poolSshPadding } from '../src/transport/ssh-padding.js';
import { rawExec } from './kit/raw-exec.js';
import { startSshd } from './kit/sshd.js';

const sshd = await startSshd();
t.teardown(() => sshd.stop());

/** A raw ssh2 client to the real OpenSSH sshd, offering only `cipher` (and `hmac`, for the non-AEAD ciphers). */
function connect(cipher: string, hmac?: string): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({
      host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.clientKeyPem,
      algorithms: { cipher: [cipher] as never, ...(hmac ? { hmac: [hmac] as never } : {}) },
      hostVerifier: () => true,
    });
  });
}

type Cipher = { allocPacket(n: number): Buffer };
const cipherOf = (c: ssh2.Client): Cipher => (c as unknown as { _protocol: { _cipher: Cipher } })._protocol._cipher;

for (const [cipher, hmac] of [
  ['chacha20-poly1305@openssh.com', undefined],
  ['aes128-gcm@openssh.com', undefined],
  ['aes256-gcm@openssh.com', undefined],
  ['aes128-ctr', 'hmac-sha2-256'],
  ['aes256-ctr', 'hmac-sha2-512-etm@openssh.com'],
] as const) {
  t.test(`${cipher}${hmac ? ` + ${hmac}` : ''}: packets with pooled padding are accepted by OpenSSH, before and after a rekey`, async (t) => {
    const c = await connect(cipher, hmac);
    t.teardown(() => c.end());
    t.equal(poolSshPadding(c), true, 'the cipher class uses pooled padding');
    t.equal(poolSshPadding(c), true, 'asking again changes nothing');
    // Many packets of many sizes: a wrong length, padding or alignment makes sshd drop the connection.
    for (let i = 0; i < 20; i++) t.equal(await rawExec(c, `printf '%s' ${'x'.repeat(i * 7 + 1)}`), 'x'.repeat(i * 7 + 1));
    // A rekey makes a new cipher of the same class: it pads from the pool as well.
    const before = cipherOf(c);
    // ssh2's client has no rekey(); its protocol does, and the client says 'handshake' when it is done.
    const rekeyed = new Promise<void>((resolve) => c.once('handshake', () => resolve()));
    (c as unknown as { _protocol: { rekey(): void } })._protocol.rekey();
    await rekeyed;
    t.not(cipherOf(c), before, 'a new cipher after the rekey');
    t.equal(await rawExec(c, 'echo after-rekey'), 'after-rekey\n');
    // The padding itself is random: two packets of one size do not share their padding bytes.
    const a = cipherOf(c).allocPacket(3);
    const b = cipherOf(c).allocPacket(3);
    const pad = (p: Buffer) => p.subarray(5 + 3, 5 + 3 + (p[4] as number)).toString('hex');
    t.not(pad(a), pad(b));
  });
}

t.test('fillRandom hands out each pooled byte once, across pool refills', async (t) => {
  const seen = new Set<string>();
  const buf = Buffer.alloc(40);
  // 1 000 draws of 16 bytes: about four pool refills.
  for (let i = 0; i < 1000; i++) {
    fillRandom(buf, 20, 16);
    seen.add(buf.subarray(20, 36).toString('hex'));
  }
  t.equal(seen.size, 1000, 'no 16-byte draw repeats');
  t.equal(buf.subarray(0, 20).toString('hex'), '00'.repeat(20), 'bytes before the offset untouched');
  t.equal(buf.subarray(36).toString('hex'), '00'.repeat(4), 'bytes after the range untouched');
});

t.test('a client with no cipher internals is left alone', async (t) => {
  t.equal(poolSshPadding({}), false);
  t.equal(poolSshPadding({ _protocol: { _cipher: { allocPacket: 'no' } } }), false);
});
