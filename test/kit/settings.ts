/**
 * Pool and SSH settings every test device starts from (sim.ts, sshd.ts, http-fixtures.ts): the
 * documented defaults, except no health check before reuse. A test overrides what it is about.
 */
import type { PoolSettings, SshSettings } from '../../src/config/types.js';

export const testPoolSettings: PoolSettings = {
  min: 0,
  max: 2,
  idleTimeoutMs: 300_000,
  maxLifetimeMs: 3_600_000,
  acquireTimeoutMs: 10_000,
  maxWaiting: 64,
};

export const testSshSettings: SshSettings = {
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  commandTimeoutMs: 30_000,
  appKeepaliveMs: 0,
  healthCheckAfterMs: 0,
  legacyAlgorithms: false,
  maxOutputBytes: 4 * 1024 * 1024,
};
