/**
 * Random SSH packet padding from a pool, instead of one crypto.randomFillSync call per packet.
 *
 * WHY: ssh2 fills each outgoing packet's 4–19 padding bytes (RFC 4253 §6: "random padding") with
 * its own randomFillSync call. On Node 20 that call builds a crypto job object and runs it
 * synchronously: about 12 µs for 16 bytes on the benchmark machine, against about 1 µs per
 * packet when the bytes come from a 4 KiB pool filled by one call. With 10 000 idle sessions
 * (three SSH keepalives and one application keepalive per session per minute) it was 15 % of
 * the daemon's idle CPU (bench/profile-idle.ts); every command pays it too. The bytes are the
 * same CSPRNG output, each used once (Node's own crypto.randomUUID pools its randomness alike).
 *
 * How: the outgoing cipher classes of ssh2 (pinned in package.json) each compute the packet
 * layout and then fill the padding. Their allocPacket is replaced, once per class, by the same
 * layout with pooled padding. Before a class is replaced, the replacement is checked against
 * ssh2's own method on a live instance for every payload length up to 2 blocks past the
 * largest alignment; any difference (another ssh2 version, another class) leaves the class
 * as ssh2 wrote it.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolAt = POOL_BYTES;

/** Copy `len` fresh random bytes into `buf` at `offset` (len ≤ 255: padding is at most 255 bytes). */
export function fillRandom(buf: Buffer, offset: number, len: number): void {
  if (poolAt + len > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(buf, offset, poolAt, poolAt + len);
  poolAt += len;
}

/** An ssh2 outgoing cipher (protocol/crypto.js), as far as packet layout goes. */
interface SshCipher {
  allocPacket(payloadLen: number): Buffer;
  _encBlockLen?: number;
  _aadLen?: number;
  _macLen?: number;
}

/**
 * Layout per class of ssh2 1.17: padding aligns `5 + payload + padding - lengthExcluded` to
 * `align`; `trailer` bytes (AEAD tag, or the MAC the native binding writes in place) follow.
 */
interface Layout {
  align(c: SshCipher): number;
  lengthExcluded(c: SshCipher): number;
  trailer(c: SshCipher): number;
}

const fixed = (align: number, lengthExcluded: number, trailer: number): Layout => ({
  align: () => align,
  lengthExcluded: () => lengthExcluded,
  trailer: () => trailer,
});

const LAYOUTS: Record<string, Layout> = {
  ChaChaPolyCipherNative: fixed(8, 4, 16),
  ChaChaPolyCipherBinding: fixed(8, 4, 16),
  AESGCMCipherNative: fixed(16, 4, 16),
  AESGCMCipherBinding: fixed(16, 4, 16),
  GenericCipherNative: { align: (c) => c._encBlockLen ?? 0, lengthExcluded: (c) => c._aadLen ?? 0, trailer: () => 0 },
  GenericCipherBinding: { align: (c) => c._encBlockLen ?? 0, lengthExcluded: (c) => c._aadLen ?? 0, trailer: (c) => c._macLen ?? 0 },
};

function pooledAllocPacket(layout: Layout): (this: SshCipher, payloadLen: number) => Buffer {
  return function allocPacket(this: SshCipher, payloadLen: number): Buffer {
    const align = layout.align(this);
    let pktLen = 5 + payloadLen;
    let padLen = align - ((pktLen - layout.lengthExcluded(this)) & (align - 1));
    if (padLen < 4) padLen += align;
    pktLen += padLen;
    const packet = Buffer.allocUnsafe(pktLen + layout.trailer(this));
    packet.writeUInt32BE(pktLen - 4, 0);
    packet[4] = padLen;
    fillRandom(packet, 5 + payloadLen, padLen);
    return packet;
  };
}

/** The replacement gives ssh2's layout (length, header) for every payload length tried. */
function sameLayout(c: SshCipher, theirs: SshCipher['allocPacket'], ours: SshCipher['allocPacket']): boolean {
  for (let n = 0; n <= 80; n++) {
    const a = theirs.call(c, n);
    const b = ours.call(c, n);
    if (a.length !== b.length || a.readUInt32BE(0) !== b.readUInt32BE(0) || a[4] !== b[4]) return false;
  }
  return true;
}

/** Classes already looked at: replaced or left alone. */
const seen = new WeakSet<object>();
const replaced = new WeakSet<object>();

/**
 * Give the outgoing cipher of a logged-in ssh2 client (and every later one of its class: rekeys)
 * pooled padding. Returns true when its class uses pooled padding.
 */
export function poolSshPadding(client: object): boolean {
  const cipher = (client as { _protocol?: { _cipher?: SshCipher } })._protocol?._cipher;
  if (!cipher || typeof cipher.allocPacket !== 'function') return false;
  const proto = Object.getPrototypeOf(cipher) as (SshCipher & { constructor: { name: string } }) | null;
  if (!proto) return false;
  if (seen.has(proto)) return replaced.has(proto);
  seen.add(proto);
  const layout = Object.hasOwn(LAYOUTS, proto.constructor.name) ? LAYOUTS[proto.constructor.name] : undefined;
  if (!layout || !(layout.align(cipher) > 0)) return false;
  const ours = pooledAllocPacket(layout);
  if (!sameLayout(cipher, proto.allocPacket, ours)) return false;
  proto.allocPacket = ours;
  replaced.add(proto);
  return true;
}
