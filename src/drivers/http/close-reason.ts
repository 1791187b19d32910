/**
 * Why undici closed one of a device's HTTP connections, in the pool's fixed vocabulary
 * (core/pool-stats.ts CLOSE_REASONS; docs/operations.md, "Session close reasons"), so that
 * warmpool_session_closes_total{reason} means the same for SSH and HTTP and never carries an
 * undici code such as "und_err_info".
 *
 * undici 7 hands its Pool 'disconnect' listeners the error the socket was destroyed with
 * (lib/dispatcher/client-h1.js): an InformationalError (UND_ERR_INFO) whose message says why
 * for its own decisions, a SocketError (UND_ERR_SOCKET) when the peer ended the connection,
 * ClientDestroyedError/ClientClosedError when we closed the pool, a timeout error class, or a
 * Node.js system / TLS error.
 */
import type { CloseReason } from '../../core/pool-stats.js';

/** UND_ERR_INFO messages, as undici 7 writes them. */
const INFO_REASONS: Record<string, CloseReason> = {
  // keepAliveTimeout (or the server's Keep-Alive hint) ran out on an idle socket
  'socket idle timeout': 'idle_timeout',
  // the server answered without keep-alive ("Connection: close"), or before the request was sent
  reset: 'closed_by_peer',
  // a request on it was aborted mid-flight (our timeout, the response-size cap, a cancelled call)
  aborted: 'discarded',
  upgrade: 'discarded',
  // the TLS server name of the origin changed: the socket belongs to old settings
  'servername changed': 'retired',
};

const CODE_REASONS: Record<string, CloseReason> = {
  UND_ERR_SOCKET: 'closed_by_peer', // "other side closed", "closed"
  ECONNRESET: 'closed_by_peer',
  EPIPE: 'closed_by_peer',
  UND_ERR_DESTROYED: 'pool_closed',
  UND_ERR_CLOSED: 'pool_closed',
  UND_ERR_HEADERS_TIMEOUT: 'discarded',
  UND_ERR_BODY_TIMEOUT: 'discarded',
  UND_ERR_ABORTED: 'discarded',
  UND_ERR_ABORT: 'discarded',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'discarded',
};

export function httpCloseReason(err: unknown): CloseReason {
  if (err === null || err === undefined) return 'closed_by_peer';
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code === 'UND_ERR_INFO') return INFO_REASONS[String(message)] ?? 'error';
  // SocketError is also how undici drops a socket after a malformed reply ("bad response").
  if (code === 'UND_ERR_SOCKET' && String(message).startsWith('bad ')) return 'error';
  // "bad response" sockets, content-length mismatches, TLS and routing errors: the link or the
  // reply was broken, not merely ended.
  return (typeof code === 'string' ? CODE_REASONS[code] : undefined) ?? 'error';
}
