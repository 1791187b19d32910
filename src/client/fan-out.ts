/**
 * Run `task` for each of `items`, at most `limit` at a time, and yield the results in the order
 * they finish. `task` must not reject (turn a failure into a result): a fan-out reports every
 * item. Used where the device-affinity balancer refuses RunMany and the client runs one Run per
 * device instead (WarmpoolClient.runMany, `warmpool many`).
 */
export async function* settledInTurn<I, R>(items: readonly I[], limit: number, task: (item: I) => Promise<R>): AsyncGenerator<R> {
  const queue = [...items];
  const done: R[] = [];
  let running = 0;
  let wake: (() => void) | undefined;
  const start = (): void => {
    while (running < Math.max(1, limit) && queue.length > 0) {
      running++;
      void task(queue.shift() as I).then((r) => {
        running--;
        done.push(r);
        wake?.();
      });
    }
  };
  start();
  while (done.length > 0 || running > 0) {
    if (done.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    while (done.length > 0) yield done.shift() as R;
    start();
  }
}
