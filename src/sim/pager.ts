/**
 * The simulated --More-- pager: output shown a screen at a time, a key per page (space: next
 * screen, Enter: one more line, q/Ctrl-C: quit), as IOS-style CLIs do when paging is not off.
 */
import { pagerStyle, type SimPlatform } from './platforms.js';

/** Paging commands every simulated CLI accepts besides the platform's own. */
const PAGING_OFF = /^(term(inal)? len(gth)? 0|set cli screen-length 0)$/;

export function isPagingCommand(trimmed: string, platformCommand: string | undefined): boolean {
  return PAGING_OFF.test(trimmed) || trimmed === platformCommand;
}

export class SimPager {
  readonly #text: string;
  readonly #style: { prompt: string; erase: string };
  readonly #rows: number;
  #pos = 0;

  constructor(text: string, platform: SimPlatform, rows: number) {
    this.#text = text;
    this.#style = pagerStyle(platform);
    this.#rows = rows;
  }

  /** The first screen. `done`: the output ended (the caller prints the CLI prompt next). */
  first(): { text: string; done: boolean } {
    return this.#page(this.#rows - 1, '');
  }

  /** What a key at the pager prompt prints; undefined for keys the pager ignores (as IOS does). */
  key(key: string): { text: string; done: boolean } | undefined {
    if (key === 'q' || key === 'Q' || key === '\x03') return { text: this.#style.erase, done: true };
    if (key === ' ') return this.#page(this.#rows - 1, this.#style.erase);
    if (key === '\r' || key === '\n') return this.#page(1, this.#style.erase);
    return undefined;
  }

  #page(lines: number, prefix: string): { text: string; done: boolean } {
    let end = this.#pos;
    for (let n = 0; n < lines; n++) {
      const nl = this.#text.indexOf('\n', end);
      if (nl < 0) {
        end = this.#text.length;
        break;
      }
      end = nl + 1;
    }
    const chunk = prefix + this.#text.slice(this.#pos, end);
    this.#pos = end;
    if (this.#pos >= this.#text.length) return { text: chunk, done: true };
    return { text: chunk + this.#style.prompt, done: false };
  }
}
