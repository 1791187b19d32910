import type { Test } from 'tap';
import { WarmpoolError } from '../../src/core/errors.js';

/** What `p` rejected with; throws (failing the test) when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** Asserts that `p` rejects with a WarmpoolError of `code`, and returns it. */
export async function rejectsWith(t: Test, p: Promise<unknown>, code: string): Promise<WarmpoolError> {
  const err = await rejection(p);
  t.type(err, WarmpoolError);
  t.equal((err as WarmpoolError).code, code, `code is ${code}: ${(err as Error).message}`);
  return err as WarmpoolError;
}
