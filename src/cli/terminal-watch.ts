import { readFileSync } from 'node:fs';

/**
 * True when this process is in its terminal's foreground process group (Linux /proc). Reading a
 * terminal from the background stops the process (SIGTTIN), so stdin is only watched from the
 * foreground; elsewhere (no /proc) the answer is false and SIGHUP alone tells a closed terminal.
 */
export function inForeground(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after "(comm)": state ppid pgrp session tty_nr tpgid ...
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    const tpgid = Number(f[5]);
    return pgrp > 0 && pgrp === tpgid;
  } catch {
    return false;
  }
}

/**
 * Calls `onGone` once when the terminal on stdin goes away: stdin ends (the terminal closed, or
 * Ctrl-D) or fails (EIO after a hang-up). Does nothing when stdin is not a terminal: a demo
 * started from a script or with `< /dev/null` runs until signalled. Returns a function that stops watching.
 */
export function watchTerminal(onGone: (why: string) => void, stdin: NodeJS.ReadStream = process.stdin): () => void {
  if (!stdin.isTTY) return () => {};
  let done = false;
  const gone = (why: string) => {
    if (done) return;
    done = true;
    onGone(why);
  };
  const onEnd = () => gone('terminal closed (end of input)');
  const onError = () => gone('terminal closed (read error)');
  // Input typed into the demo's terminal is not for us: read and drop it, watching for the end.
  const onData = () => {};
  const follow = () => {
    if (done) return;
    if (inForeground()) stdin.resume();
    else stdin.pause(); // moved to the background (Ctrl-Z, bg): reading now would stop us
  };
  stdin.on('end', onEnd);
  stdin.on('error', onError);
  stdin.on('data', onData);
  stdin.pause();
  follow();
  process.on('SIGCONT', follow);
  return () => {
    done = true;
    process.off('SIGCONT', follow);
    stdin.off('end', onEnd);
    stdin.off('error', onError);
    stdin.off('data', onData);
    stdin.pause();
  };
}
