import type { AppConfig } from '../../src/config/types.js';

export interface GrpcConfigOverrides {
  listen?: string;
  tls?: Partial<AppConfig['grpc']['tls']>;
  auth?: Partial<AppConfig['grpc']['auth']>;
}

/** A complete `grpc` config block for auth tests: no TLS, no tokens, no policy unless overridden. */
export function grpcConfig(over: GrpcConfigOverrides = {}): AppConfig['grpc'] {
  return {
    listen: over.listen ?? '127.0.0.1:0',
    socketMode: '0660',
    maxReceiveMessageBytes: 4 << 20,
    maxSendMessageBytes: 4 << 20,
    maxConcurrentStreams: 100,
    keepaliveTimeMs: 60_000,
    keepaliveTimeoutMs: 20_000,
    maxConnectionIdleMs: 0,
    maxConnectionAgeMs: 0,
    maxConnectionAgeGraceMs: 0,
    tls: { certFile: '', keyFile: '', clientCaFile: '', ...over.tls },
    auth: { tokensFile: '', allowInsecure: false, policyFile: '', ...over.auth },
  };
}
