/**
 * Interactive answers in the session layer alone (session/answers.ts and the read in
 * session/prompt-read.ts), on a fake clock and a node:stream Duplex standing in for the SSH channel:
 * when a reply is typed, when it is not, how often, and how secrets are masked.
 */
import t from 'tap';
import { answerPattern, CommandAnswers, type Answer } from '../src/session/answers.js';
import { FakeClock } from './kit/fake-clock.js';
import { streamChannel } from './kit/stream-channel.js';

const answer = (pattern: string, reply: string, secret = false): Answer => ({ source: pattern, pattern: answerPattern(pattern, 'answers[0].pattern'), reply, secret });

function setup() {
  const clock = new FakeClock();
  const { ch, typed, print } = streamChannel({ clock });
  ch.prompt = 'R1#';
  return { clock, typed, ch, print };
}

t.test('the pattern must match at the end of the line, after trailing blanks', async (t) => {
  const a = new CommandAnswers([answer('\\[confirm\\]', '')]);
  t.equal(a.take('Proceed with reload? [confirm] and more'), undefined, 'not in the middle of a line');
  t.equal(a.take('Proceed with reload? [conf'), undefined, 'not half a question');
  t.ok(a.take('Proceed with reload? [confirm]  '), 'at the end, blanks allowed');
});

t.test('each answer once, first unused match in order; an unchanged line is not answered twice', async (t) => {
  const a = new CommandAnswers([answer('\\?', 'one'), answer('\\?', 'two')]);
  t.equal(a.take('Q1?')?.reply, 'one');
  t.equal(a.take('Q1?'), undefined, 'the same line again (a bell, an ANSI sequence) is not a new question');
  t.equal(a.take('Q1? oneQ2?')?.reply, 'two', 'new text on the line is');
  a.linesEnded();
  t.equal(a.take('Q1?'), undefined, 'every answer used');
  t.equal(a.open, false);
  t.equal(a.count, 2);
});

t.test('secret replies: the echo after its question is masked, long secrets anywhere, short ones only there', async (t) => {
  const short = new CommandAnswers([answer('\\(y/n\\)', 'y', true)]);
  t.equal(short.mask('yes, any y stays\n'), 'yes, any y stays\n', 'nothing before the answer');
  short.take('Sure? (y/n)');
  t.equal(short.mask('Sure? (y/n) y\nyes\n'), 'Sure? (y/n) [REDACTED]\nyes\n');
  const long = new CommandAnswers([answer('Password:', 'Sx-hunter2', true)]);
  long.take('Password:');
  t.equal(long.mask('Password:\n'), 'Password:\n', 'not echoed: nothing to mask');
  t.equal(long.mask('% Bad password Sx-hunter2 for x\n'), '% Bad password [REDACTED] for x\n');
  t.equal(long.maskQuoted('x Sx-hunter2'), 'x [REDACTED]');
  const plain = new CommandAnswers([answer('\\?', 'startup-config')]);
  plain.take('Destination?');
  t.equal(plain.mask('Destination? startup-config\n'), 'Destination? startup-config\n', 'a reply not marked secret is left as echoed');
});

t.test('patterns are refused like expect', async (t) => {
  t.throws(() => answerPattern('(a)\\1', 'answers[3].pattern'), { code: 'INVALID_ARGUMENT', message: /^answers\[3\]\.pattern: backreferences/ });
  t.throws(() => answerPattern('x'.repeat(1025), 'answers[0].pattern'), { message: /over the limit of 1024/ });
});

t.test('the read types the reply at the question and goes on to the prompt', async (t) => {
  const { typed, ch, print } = setup();
  const p = ch.command({ command: 'reload in 5', timeoutMs: 5000, answers: new CommandAnswers([answer('\\[confirm\\]', '')]) });
  await print('reload in 5\r\nProceed with reload? [confirm]');
  t.same(typed, ['reload in 5\n', '\n'], 'Enter typed once at the question');
  await print('\r\nReload scheduled\r\nR1#');
  const r = await p;
  t.equal(r.output, 'Proceed with reload? [confirm]\nReload scheduled\n');
  t.equal(r.ended, 'prompt');
});

t.test('no reply before the echo of the command, nor at the prompt', async (t) => {
  const { typed, ch, print } = setup();
  const p = ch.command({ command: 'delete x', timeoutMs: 5000, answers: new CommandAnswers([answer('x', 'y'), answer('#', 'boom')]) });
  await print('delete x');
  t.same(typed, ['delete x\n'], 'the echo of the command is not a question');
  await print('\r\nR1#');
  const r = await p;
  t.same(typed, ['delete x\n'], 'a pattern that matches the prompt does not type a command there');
  t.equal(r.output, '');
});

t.test('an unanswered question: the timeout names the line it stopped at', async (t) => {
  const { clock, ch, print } = setup();
  const p = ch.command({ command: 'copy run start', timeoutMs: 1000, answers: new CommandAnswers([answer('nope', 'x', true)]) }).catch((e: Error) => e);
  await print('copy run start\r\nDestination filename [startup-config]? ');
  clock.advance(1000);
  const e = (await p) as Error;
  t.equal(e.message, 'device r1: no prompt within 1000 ms waiting for the prompt after "copy run start"; the output ended at a question: "Destination filename [startup-config]?" (no unused answer\'s pattern matches its end)');
});
