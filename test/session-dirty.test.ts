/**
 * The one rule deciding that a session must not be handed out again (session/dirty.ts),
 * which every driver path applies.
 */
import t from 'tap';
import { WarmpoolError, type ErrorCode } from '../src/core/errors.js';
import { Dirt, spoils } from '../src/session/dirty.js';

const e = (code: ErrorCode) => new WarmpoolError(code, `device d: ${code}`);

t.test('failures that leave the device in an unknown state spoil the session', async (t) => {
  for (const code of ['COMMAND_TIMEOUT', 'CONNECTION_LOST', 'UNEXPECTED_PROMPT', 'OUTPUT_TOO_LARGE', 'AUTH_FAILED', 'INTERNAL'] as const) {
    t.equal(spoils(e(code)), true, code);
    t.equal(spoils(e(code), 'stateless'), true, `${code} (stateless)`);
  }
  t.equal(spoils(new Error('not ours')), true, 'an unknown error counts as unknown state');
});

t.test('a refused request or a refused channel leaves the session clean', async (t) => {
  t.equal(spoils(e('INVALID_ARGUMENT')), false);
  t.equal(spoils(e('CHANNEL_OPEN_FAILED')), false);
});

t.test('cancelling spoils a command but not a stateless ping', async (t) => {
  t.equal(spoils(e('CANCELLED')), true);
  t.equal(spoils(e('CANCELLED'), 'stateless'), false);
});

t.test('Dirt only ever goes from clean to dirty', async (t) => {
  const d = new Dirt();
  d.after(e('INVALID_ARGUMENT'));
  t.equal(d.dirty, false);
  d.after(e('COMMAND_TIMEOUT'));
  t.equal(d.dirty, true);
  d.after(e('CHANNEL_OPEN_FAILED'));
  t.equal(d.dirty, true, 'a later harmless failure does not clean it');
  const m = new Dirt();
  m.mark();
  t.equal(m.dirty, true);
});
