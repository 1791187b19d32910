/**
 * Privilege and configuration levels as data: a graph derived from the platform Profile, whose
 * edges are the commands that move between levels (enable/disable, enter/exit configuration),
 * walked by the shell driver to reach the level a batch needs and to come back afterwards
 * (docs/api.md, "Privileged and configure"). Built once per profile object.
 */
import type { Pattern } from '../core/pattern.js';
import type { Profile } from '../platforms/profiles.js';
import { promptLevel, type PromptLevel } from './prompt.js';

/** unprivileged (IOS user EXEC) < privileged (enable) < config. */
export type Level = PromptLevel;

export type EdgeKind = 'enable' | 'disable' | 'enter-config' | 'exit-config';

export interface ModeEdge {
  readonly kind: EdgeKind;
  readonly from: Level;
  readonly to: Level;
  /** Typed in order; each ends at a prompt. */
  readonly commands: readonly string[];
  /** enable: a prompt that asks for the enable secret. */
  readonly passwordPrompt?: Pattern;
  /** exit-config: typed when the exit commands left the session in config mode (a failed commit). */
  readonly abort?: readonly string[];
}

const RANK: Record<Level, number> = { unprivileged: 0, privileged: 1, config: 2 };

/** Is `a` a lower level than `b`? */
export function below(a: Level, b: Level): boolean {
  return RANK[a] < RANK[b];
}

export class ModeGraph {
  readonly levels: readonly Level[];
  readonly edges: readonly ModeEdge[];
  readonly #profile: Profile;
  #lastLevel: { prompt: string; context: string; level: Level } | undefined;

  constructor(profile: Profile) {
    this.#profile = profile;
    const levels: Level[] = [];
    const edges: ModeEdge[] = [];
    // Without a privileged pattern every prompt counts as privileged (promptLevel): one level.
    if (profile.privilegedPattern) levels.push('unprivileged');
    levels.push('privileged');
    if (profile.config) levels.push('config');
    const en = profile.enable;
    if (profile.privilegedPattern && en) {
      edges.push({ kind: 'enable', from: 'unprivileged', to: 'privileged', commands: [en.command], passwordPrompt: en.passwordPrompt });
      edges.push({ kind: 'disable', from: 'privileged', to: 'unprivileged', commands: [en.disableCommand] });
    }
    const cfg = profile.config;
    if (cfg) {
      edges.push({ kind: 'enter-config', from: 'privileged', to: 'config', commands: cfg.enter });
      // No enable command: configuration mode is entered from wherever the session is.
      if (profile.privilegedPattern && !en) edges.push({ kind: 'enter-config', from: 'unprivileged', to: 'config', commands: cfg.enter });
      edges.push({ kind: 'exit-config', from: 'config', to: 'privileged', commands: cfg.exit, abort: cfg.abort });
    }
    this.levels = levels;
    this.edges = edges;
  }

  /** The graph of `profile` (cached per profile object). */
  static of(profile: Profile): ModeGraph {
    let g = cache.get(profile);
    if (!g) {
      g = new ModeGraph(profile);
      cache.set(profile, g);
    }
    return g;
  }

  has(level: Level): boolean {
    return this.levels.includes(level);
  }

  /** The level a prompt shows (`context`: the line above a two-line prompt, see Profile.contextLine). */
  levelOf(prompt: string, context = ''): Level {
    // Asked before and after every batch with the same prompt: remember the last answer
    // (a pure function of its inputs) instead of running the level patterns again.
    const last = this.#lastLevel;
    if (last && last.prompt === prompt && last.context === context) return last.level;
    const level = promptLevel(this.#profile, prompt, context);
    this.#lastLevel = { prompt, context, level };
    return level;
  }

  /** The edges from `from` to `to`, fewest first; [] when already there, undefined when unreachable. */
  path(from: Level, to: Level): ModeEdge[] | undefined {
    if (from === to) return [];
    // Breadth-first over at most three levels.
    const via = new Map<Level, ModeEdge[]>([[from, []]]);
    const queue: Level[] = [from];
    for (let level = queue.shift(); level !== undefined; level = queue.shift()) {
      const sofar = via.get(level) as ModeEdge[];
      for (const e of this.edges) {
        if (e.from !== level || via.has(e.to)) continue;
        const p = [...sofar, e];
        if (e.to === to) return p;
        via.set(e.to, p);
        queue.push(e.to);
      }
    }
    return undefined;
  }

  /**
   * The next edge to take from `from` toward `to`: the first of the shortest path, or, when `to`
   * cannot be reached (no disable command), an edge that gets closer without passing it.
   */
  next(from: Level, to: Level): ModeEdge | undefined {
    if (from === to) return undefined;
    const p = this.path(from, to);
    if (p) return p[0];
    const up = below(from, to);
    return this.edges.find((e) => e.from === from && (up ? below(from, e.to) && !below(to, e.to) : below(e.to, from) && !below(e.to, to)));
  }
}

const cache = new WeakMap<Profile, ModeGraph>();
