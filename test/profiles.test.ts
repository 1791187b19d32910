import t from 'tap';
import { resolveProfile } from '../src/platforms/profiles.js';
import { decidePrompt, isPagerPrompt, isPromptLine, matchPrompt, promptLevel } from '../src/session/prompt.js';
import type { DeviceSpec, Platform } from '../src/config/types.js';
import { offlineDevice } from './kit/stream-channel.js';

function spec(platform: Platform, over: Partial<DeviceSpec> = {}): DeviceSpec {
  return { ...offlineDevice(platform, 'd1'), ...over };
}

t.test('IOS prompts: user, privileged and config levels are told apart', async (t) => {
  const p = resolveProfile(spec('cisco_ios'));
  t.equal(promptLevel(p, 'Router>'), 'unprivileged');
  t.equal(promptLevel(p, 'Router#'), 'privileged');
  t.equal(promptLevel(p, 'Router(config)#'), 'config');
  t.equal(promptLevel(p, 'Router(config-if)#'), 'config');
  t.equal(matchPrompt(p, 'core-1.fra(config-router)#')?.base, 'core-1.fra');
  t.equal(matchPrompt(p, '### AUTHORIZED ACCESS ONLY ###'), undefined);
  t.equal(matchPrompt(p, '>>> all sessions are logged >>>'), undefined);
  t.same(p.pagingCommands, ['terminal length 0']);
});

t.test('Junos prompts: operational ">" and configuration "#"', async (t) => {
  const p = resolveProfile(spec('juniper_junos'));
  t.equal(promptLevel(p, 'admin@r1>'), 'privileged');
  t.equal(promptLevel(p, 'admin@r1#'), 'config');
  t.equal(matchPrompt(p, 'admin@r1> ')?.base, 'admin@r1');
  t.same(p.config?.exit, ['commit and-quit']);
  t.equal(p.enable, undefined, 'Junos has no enable');
  t.ok(p.errorPatterns.some((re) => re.test('syntax error.')));
  t.ok(p.errorPatterns.some((re) => re.test('error: configuration check-out failed')));
});

t.test('NX-OS and EOS use terminal length 0 and the Cisco error lines', async (t) => {
  for (const pl of ['cisco_nxos', 'arista_eos'] as const) {
    const p = resolveProfile(spec(pl));
    t.same(p.pagingCommands, ['terminal length 0']);
    t.ok(p.errorPatterns.some((re) => re.test('% Invalid input')), pl);
    t.ok(matchPrompt(p, 'sw1(config-if-Et1)#'), pl);
  }
});

t.test('linux has neither privileged nor config level and defaults to exec', async (t) => {
  const p = resolveProfile(spec('linux'));
  t.equal(p.defaultMode, 'exec');
  t.equal(p.config, undefined);
  t.ok(matchPrompt(p, 'admin@host:~$ '));
  t.ok(matchPrompt(p, 'root@host:/etc# '));
});

t.test('generic platform is configured from prompt, pagingCommand and enableCommand', async (t) => {
  const p = resolveProfile(spec('generic', { prompt: '<[\\w-]+>', pagingCommand: 'screen-length 0 temporary', enableCommand: 'super' }));
  t.ok(p.promptPattern.test('<HUAWEI-1>'));
  t.notOk(p.promptPattern.test('<HUAWEI-1> trailing text'));
  t.same(p.pagingCommands, ['screen-length 0 temporary']);
  t.equal(p.enable?.command, 'super');
  const none = resolveProfile(spec('cisco_ios', { pagingCommand: '' }));
  t.same(none.pagingCommands, [], 'an empty pagingCommand disables the paging command');
});

t.test('an invalid prompt regex is a CONFIG_INVALID error naming the field', async (t) => {
  t.throws(() => resolveProfile(spec('generic', { prompt: '([' })), { code: 'CONFIG_INVALID', field: 'prompt' });
});

t.test('decidePrompt: known prompt and same-host modes end at once, strangers must settle', async (t) => {
  const p = resolveProfile(spec('cisco_ios'));
  t.equal(decidePrompt(p, 'Router#', 'Router#').decision, 'prompt');
  t.equal(decidePrompt(p, 'Router(config)#', 'Router#').decision, 'prompt');
  t.equal(decidePrompt(p, 'R2#', 'Router#').decision, 'settle');
  t.equal(decidePrompt(p, 'change-freeze>', undefined).decision, 'settle');
  t.equal(decidePrompt(p, 'Building configuration', 'Router#').decision, 'none');
});

t.test('isPromptLine answers as matchPrompt does, and takes the learned prompt without running the pattern', async (t) => {
  const lines = ['Router#', 'Router#  ', 'Router(config-if)#', 'R2>', 'Building configuration...', '', 'x'.repeat(300) + '#',
    'admin@r1> ', 'root@host:/etc# ', '### AUTHORIZED ACCESS ONLY ###'];
  for (const platform of ['cisco_ios', 'juniper_junos', 'linux'] as const) {
    const p = resolveProfile(spec(platform));
    for (const line of lines) t.equal(isPromptLine(p, line, undefined), matchPrompt(p, line) !== undefined, `${platform}: ${JSON.stringify(line.slice(0, 40))}`);
  }
  // A generic device whose learned prompt the pattern would not take (it was learned under another
  // pattern): equality with the learned prompt alone makes it a prompt line.
  const g = resolveProfile(spec('generic', { prompt: '^sw1#$' }));
  t.equal(isPromptLine(g, 'sw1# ', 'sw1#'), true, 'the learned prompt, trailing blanks ignored');
  t.equal(isPromptLine(g, 'sw1# ', undefined), false, 'without it the pattern decides');
  t.equal(isPromptLine(g, 'y'.repeat(257), 'y'.repeat(257)), false, 'over 256 characters is never a prompt line');
});

t.test('pager prompts of every platform are recognised', async (t) => {
  const p = resolveProfile(spec('cisco_ios'));
  for (const s of [' --More-- ', '---(more)---', '---(more 45%)---', ' -- More -- ', '<--- More --->']) t.ok(isPagerPrompt(p, s), s);
  t.notOk(isPagerPrompt(p, 'Router#'));
});

t.test('two-line prompts (a context line) never come with the end marker, which compares single prompt lines', async (t) => {
  const { PLATFORMS } = await import('../src/config/types.js');
  const twoLine = PLATFORMS.filter((p) => p !== 'generic' && resolveProfile(spec(p)).contextLine !== undefined);
  t.same(twoLine, ['nokia_sros_mdcli']);
  for (const p of twoLine) t.equal(resolveProfile(spec(p)).endMarker, undefined, p);
});
