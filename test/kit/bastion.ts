/**
 * Bastion fixtures: a real OpenSSH sshd set up as a jump host (AllowTcpForwarding, VERBOSE log so
 * its logins can be counted) and the BastionSpec that reaches it with its host key pinned.
 */
import { Secret } from '../../src/config/secret.js';
import type { BastionSpec } from '../../src/config/types.js';
import { startSshd, type Sshd } from './sshd.js';
import { testSshSettings } from './settings.js';

/** An sshd that forwards TCP (the jump host) and logs every login. */
export function startBastionSshd(extra: string[] = []): Promise<Sshd> {
  return startSshd([...extra, 'AllowTcpForwarding yes', 'LogLevel VERBOSE']); // extra first: sshd keeps the first value
}

/** Logins the sshd accepted so far (one "Accepted publickey" line each). */
export function loginsOf(sshd: Sshd): number {
  return sshd.log().split('\n').filter((l) => /Accepted publickey/.test(l)).length;
}

export function bastionSpec(sshd: Sshd, over: Partial<BastionSpec> = {}): BastionSpec {
  return {
    id: 'jump1',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: Secret.fromValue(sshd.clientKeyPem),
    hostKey: { fingerprints: [sshd.hostKeyFingerprint] },
    maxConnections: 1,
    maxChannelsPerConnection: 64,
    idleTimeoutMs: 300_000,
    interactive: false,
    ssh: { ...testSshSettings, connectTimeoutMs: 5000 },
    ...over,
  };
}
