/**
 * A shell Channel (src/session/channel.ts) over a node:stream Duplex standing in for the SSH
 * channel: the session layer alone, with no device. `print` is the device writing; what the
 * channel writes is collected in `typed` (and handed to `onWrite`, for a device that answers).
 */
import { Duplex } from 'node:stream';
import type { DeviceSpec, Platform } from '../../src/config/types.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { resolveProfile } from '../../src/platforms/profiles.js';
import { Channel } from '../../src/session/channel.js';
import { Dirt } from '../../src/session/dirty.js';
import { flush } from './fake-clock.js';
import { testPoolSettings, testSshSettings } from './settings.js';

/** A shell device spec on `platform` for tests that never connect. */
export function offlineDevice(platform: Platform, id = 'r1'): DeviceSpec {
  return {
    id, host: '127.0.0.1', port: 22, platform, mode: 'shell', username: 'u', hostKey: { acceptAny: true },
    labels: {}, pool: testPoolSettings, ssh: testSshSettings, source: 'file',
  };
}

export interface StreamChannelOptions {
  device?: DeviceSpec;
  clock?: Clock;
  maxOutputBytes?: number;
  /** Called with each write of the channel (the device's side may answer on `stream`). */
  onWrite?: (text: string, stream: Duplex) => void;
}

export function streamChannel(opts: StreamChannelOptions = {}) {
  const device = opts.device ?? offlineDevice('cisco_ios');
  const dirt = new Dirt();
  const typed: string[] = [];
  const stream: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString();
      typed.push(text);
      opts.onWrite?.(text, stream);
      cb();
    },
  });
  let transportClosed = 0;
  const ch = new Channel(stream, {
    device: device.id, sessionId: `${device.id}/shell-t`, profile: resolveProfile(device), clock: opts.clock ?? systemClock, dirt,
    logger: silentLogger, maxOutputBytes: opts.maxOutputBytes ?? 1024 * 1024, settleMs: 60, markerFallbackMs: 1500,
    closeTransport: () => void transportClosed++,
  });
  /** The device prints `text`; resolves once the channel has seen it. */
  const print = async (text: string): Promise<void> => {
    stream.push(text);
    await flush();
  };
  return { ch, stream, dirt, typed, print, transportClosed: () => transportClosed };
}
