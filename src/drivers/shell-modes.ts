/**
 * Moving a shell session between privilege and configuration levels: the walk follows the
 * platform's mode graph (session/mode-graph.ts) one edge at a time, typing the edge's commands
 * and reading the level from the prompt afterwards (docs/api.md, "Privileged and configure").
 */
import type { DeviceSpec } from '../config/types.js';
import { WarmpoolError } from '../core/errors.js';
import type { Channel } from '../session/channel.js';
import type { Level, ModeEdge, ModeGraph } from '../session/mode-graph.js';

export interface ModeWalk {
  channel: Channel;
  graph: ModeGraph;
  device: DeviceSpec;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Walk toward `target` (each edge at most once). Returns the first error line the exit commands
 * printed (a failed commit), '' when none. Throws when an edge does not reach its level.
 */
export async function walkTo(w: ModeWalk, target: Level): Promise<string> {
  let error = '';
  const taken: ModeEdge[] = [];
  for (let i = 0; i < 4; i++) {
    const edge = w.graph.next(w.graph.levelOf(w.channel.prompt, w.channel.context), target);
    if (!edge || taken.includes(edge)) break;
    taken.push(edge);
    const e = await step(w, edge);
    if (e && !error) error = e;
  }
  return error;
}

async function step(w: ModeWalk, edge: ModeEdge): Promise<string> {
  switch (edge.kind) {
    case 'enable':
      await enable(w, edge);
      return '';
    case 'disable':
      for (const cmd of edge.commands) await run(w, cmd);
      return '';
    case 'enter-config':
      await enterConfig(w, edge);
      return '';
    case 'exit-config':
      return exitConfig(w, edge);
  }
}

function run(w: ModeWalk, command: string, passwordPrompt?: ModeEdge['passwordPrompt']) {
  return w.channel.command({ command, timeoutMs: w.timeoutMs, signal: w.signal, passwordPrompt });
}

function level(w: ModeWalk): Level {
  return w.graph.levelOf(w.channel.prompt, w.channel.context);
}

async function enable(w: ModeWalk, edge: ModeEdge): Promise<void> {
  const id = w.device.id;
  let r = await run(w, edge.commands[0] as string, edge.passwordPrompt);
  if (r.ended === 'password') {
    const secret = w.device.enableSecret;
    if (!secret) throw new WarmpoolError('AUTH_FAILED', `device ${id}: the device asks for an enable secret and none is configured`, { device: id });
    // Typed without echo; never logged and never part of any output returned.
    w.channel.write(secret.reveal() + '\n');
    r = await w.channel.read({ command: '', timeoutMs: w.timeoutMs, signal: w.signal, what: 'the prompt after the enable secret', passwordPrompt: edge.passwordPrompt });
    if (r.ended === 'password') throw new WarmpoolError('AUTH_FAILED', `device ${id}: enable secret refused`, { device: id });
  }
  if (level(w) === 'unprivileged') {
    throw new WarmpoolError('AUTH_FAILED', `device ${id}: could not enter privileged mode${r.error ? ` (${r.error})` : ''}`, { device: id });
  }
}

async function enterConfig(w: ModeWalk, edge: ModeEdge): Promise<void> {
  for (const cmd of edge.commands) await run(w, cmd);
  if (level(w) !== 'config') {
    throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${w.device.id}: "${edge.commands.join('; ')}" did not reach configuration mode (prompt "${w.channel.shownPrompt}")`, { device: w.device.id });
  }
}

/** Leaves config mode; returns the first error line of the exit commands (a failed commit), '' when none. */
async function exitConfig(w: ModeWalk, edge: ModeEdge): Promise<string> {
  let error = '';
  for (const cmd of edge.commands) {
    const r = await run(w, cmd);
    if (r.error && !error) error = `${cmd}: ${r.error}`;
  }
  if (level(w) === 'config') {
    for (const cmd of edge.abort ?? []) await run(w, cmd);
    if (!error) error = `${edge.commands.join('; ')} did not leave configuration mode`;
  }
  if (level(w) === 'config') {
    throw new WarmpoolError('UNEXPECTED_PROMPT', `device ${w.device.id}: cannot leave configuration mode (prompt "${w.channel.shownPrompt}")`, { device: w.device.id });
  }
  return error;
}
