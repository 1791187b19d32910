/**
 * The mode graph derived from platform profiles: levels and the commands between them, walked
 * from the lowest level to configuration mode and back (the shell driver's walks follow these).
 */
import t from 'tap';
import type { DeviceSpec, Platform } from '../src/config/types.js';
import { resolveProfile } from '../src/platforms/profiles.js';
import { ModeGraph, below, type ModeEdge } from '../src/session/mode-graph.js';
import { offlineDevice } from './kit/stream-channel.js';

function spec(platform: Platform, over: Partial<DeviceSpec> = {}): DeviceSpec {
  return { ...offlineDevice(platform, 'd1'), ...over };
}

const commands = (p: ModeEdge[] | undefined) => p?.map((e) => [e.kind, ...e.commands]);

for (const platform of ['cisco_ios', 'arista_eos', 'cisco_nxos'] as const) {
  t.test(`${platform}: unprivileged -> config is enable then configure terminal; back is end then disable`, async (t) => {
    const g = ModeGraph.of(resolveProfile(spec(platform)));
    t.same(g.levels, ['unprivileged', 'privileged', 'config']);
    t.same(commands(g.path('unprivileged', 'config')), [['enable', 'enable'], ['enter-config', 'configure terminal']]);
    t.same(commands(g.path('config', 'unprivileged')), [['exit-config', 'end'], ['disable', 'disable']]);
    t.same(commands(g.path('privileged', 'config')), [['enter-config', 'configure terminal']]);
    t.same(g.path('config', 'config'), [], 'already there: no edge');
    t.ok(g.path('unprivileged', 'privileged')?.[0]?.passwordPrompt?.test('Password: '), 'enable answers a password prompt');
    t.equal(g.levelOf('sw1>'), 'unprivileged');
    t.equal(g.levelOf('sw1#'), 'privileged');
    t.equal(g.levelOf('sw1(config-if)#'), 'config');
  });
}

t.test('juniper_junos: one operational level; configure in, commit and-quit out, with a rollback when the commit fails', async (t) => {
  const g = ModeGraph.of(resolveProfile(spec('juniper_junos')));
  t.same(g.levels, ['privileged', 'config']);
  t.same(commands(g.path('privileged', 'config')), [['enter-config', 'configure']]);
  const [exit] = g.path('config', 'privileged') ?? [];
  t.same(exit?.commands, ['commit and-quit']);
  t.same(exit?.abort, ['rollback 0', 'exit configuration-mode']);
  t.equal(g.path('config', 'unprivileged'), undefined, 'no lower level to reach');
  t.equal(g.next('config', 'unprivileged'), exit, 'walking down still leaves configuration mode');
  t.equal(g.levelOf('admin@r1>'), 'privileged');
  t.equal(g.levelOf('admin@r1#'), 'config');
});

t.test('linux: no configuration level and no edges', async (t) => {
  const g = ModeGraph.of(resolveProfile(spec('linux')));
  t.same(g.levels, ['privileged']);
  t.equal(g.has('config'), false);
  t.same(g.edges, []);
  t.equal(g.path('privileged', 'config'), undefined);
});

t.test('device overrides reach the graph: a generic device with its own enable command', async (t) => {
  const g = ModeGraph.of(resolveProfile(spec('generic', { enableCommand: 'super' })));
  t.same(commands(g.path('unprivileged', 'privileged')), [['enable', 'super']]);
  t.same(commands(g.path('privileged', 'unprivileged')), [['disable', 'disable']]);
});

t.test('the graph is built once per profile object', async (t) => {
  const p = resolveProfile(spec('cisco_ios'));
  t.equal(ModeGraph.of(p), ModeGraph.of(p));
  t.not(ModeGraph.of(p), ModeGraph.of(resolveProfile(spec('cisco_ios'))), 'another device, another profile object');
});

t.test('levels are ordered unprivileged < privileged < config', async (t) => {
  t.ok(below('unprivileged', 'privileged'));
  t.ok(below('privileged', 'config'));
  t.notOk(below('config', 'privileged'));
  t.notOk(below('privileged', 'privileged'));
});
