/**
 * Refuse to expose an unauthenticated gRPC port beyond the host/pod.
 *
 * warmpool holds logged-in, often privileged, sessions to network devices: anyone who can open
 * the gRPC port can run commands on them. In sidecar mode the port is pod-local (127.0.0.1) and
 * the pod boundary is the security boundary; anywhere else the caller must be authenticated.
 */
import { BlockList, isIP } from 'node:net';
import { WarmpoolError } from '../core/errors.js';
import type { AppConfig } from '../config/types.js';
import type { Logger } from '../core/logger.js';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** The host part of a grpc-js bind address ("host:port", "[v6]:port", "dns:host:port"); '' = all interfaces. */
function listenHost(listen: string): string {
  let s = listen.trim().replace(/^(dns|ipv4|ipv6):(\/\/\/)?/, '');
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    return end < 0 ? s.slice(1) : s.slice(1, end);
  }
  if (isIP(s) === 6) return s; // bare IPv6 address without a port
  const colon = s.lastIndexOf(':');
  if (colon >= 0) s = s.slice(0, colon);
  return s;
}

/** True for unix sockets, localhost, 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z). */
export function isLoopbackListen(listen: string): boolean {
  const trimmed = listen.trim();
  if (trimmed.startsWith('unix:') || trimmed.startsWith('unix-abstract:')) return true;
  const host = listenHost(trimmed).toLowerCase();
  if (host === 'localhost' || host === 'localhost.') return true;
  const family = isIP(host);
  if (family === 4) return loopback.check(host, 'ipv4');
  if (family === 6) return loopback.check(host, 'ipv6');
  // '', 0.0.0.0, ::, or any other host name: reachable from elsewhere as far as we can tell.
  return false;
}

/**
 * Throws WarmpoolError CONFIG_INVALID (field 'grpc.listen') when the gRPC port would be reachable
 * from outside the host without any caller authentication and `grpc.auth.allowInsecure` is off.
 * Logs a warning for the weaker-but-allowed combinations.
 */
export function checkListenSafety(cfg: AppConfig['grpc'], logger?: Logger): void {
  const { listen, tls, auth } = cfg;
  if (isLoopbackListen(listen)) return;
  const mtls = tls.clientCaFile !== '';
  const tokens = auth.tokensFile !== '';
  const tlsOn = tls.certFile !== '';
  if (!mtls && !tokens) {
    if (auth.allowInsecure) {
      logger?.warn(
        { listen },
        'gRPC listens on a non-loopback address without caller authentication (grpc.auth.allowInsecure is true): ' +
          'anyone who can reach this port can run commands on your devices',
      );
      return;
    }
    throw new WarmpoolError(
      'CONFIG_INVALID',
      `grpc.listen "${listen}" is not a loopback address and no caller authentication is configured: ` +
        'anyone who can reach this port could drive privileged sessions to your network devices. ' +
        'Set grpc.auth.tokensFile (bearer tokens), or grpc.tls.certFile + grpc.tls.keyFile + grpc.tls.clientCaFile (mTLS), ' +
        'or listen on 127.0.0.1; if a network policy or service mesh already restricts who can connect, ' +
        'set grpc.auth.allowInsecure: true to accept the risk explicitly.',
      { field: 'grpc.listen' },
    );
  }
  if (tokens && !tlsOn) {
    logger?.warn(
      { listen },
      'gRPC bearer tokens are accepted over plaintext on a non-loopback address: set grpc.tls.certFile/keyFile ' +
        'unless a service mesh encrypts the traffic',
    );
  }
}
