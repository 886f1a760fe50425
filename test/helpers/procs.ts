/**
 * Processes seen through /proc (Linux): which ones mention a path in their command line (a test's
 * unique media root names exactly the FFmpeg and ffprobe that test started), and whether a pid
 * still runs. A zombie counts as gone: it runs no more, and on some machines (this VM's PID 1)
 * nobody reaps orphans.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  /** The executable's name (/proc/pid/comm), e.g. "ffmpeg". */
  comm: string;
  /** R, S, D, Z, ... from /proc/pid/stat. */
  state: string;
  argv: string[];
}

function read(pid: number): ProcInfo | null {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0] ?? '?';
    return { pid, comm, state, argv };
  } catch {
    return null; // gone while we looked
  }
}

/** Live (not zombie) processes, other than this one, with `text` in an argument. */
export function processesMentioning(text: string): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const p = read(Number(name));
    if (p && isRunningState(p.state) && p.argv.some((a) => a.includes(text))) found.push(p);
  }
  return found;
}

function isRunningState(state: string): boolean {
  return state !== 'Z' && state !== 'X';
}

/** Still running: it exists and is not a zombie. */
export function running(pid: number): boolean {
  const p = read(pid);
  return p !== null && isRunningState(p.state);
}

/** Polls instead of sleeping a fixed time: the machine is shared and its timing is not ours. */
export async function until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Cleanup after a failed test: SIGKILL to the processes that mention `text` (the test's own root). */
export function killMentioning(text: string): void {
  for (const p of processesMentioning(text)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
