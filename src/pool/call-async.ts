/** Calls fn, turning a synchronous throw into a rejection (sessions are drivers' code, outside the pool's control). */
export function callAsync(fn: () => Promise<void>): Promise<void> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}
