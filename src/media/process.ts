/**
 * The one place that starts processes. Every child gets:
 * - an argv array, never a shell;
 * - its own process group (`detached`), so a kill reaches everything it started;
 * - on Linux, death with its parent: it runs through `setpriv --pdeathsig SIGKILL`, so a worker
 *   killed with -9 (or by the OOM killer) leaves no FFmpeg behind;
 * - stdin closed, stdout/stderr piped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { cachedFact } from './binary-cache.js';

export interface ProcessExit {
  /** null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the child when this process dies (Linux, where setpriv is there). Default true. */
  dieWithParent?: boolean;
}

export interface ChildHandle {
  /** Also its process group id. */
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles once it exited and its output was read; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Signals the whole process group; false when nothing was left to signal. */
  kill(signal: NodeJS.Signals): boolean;
}

/** After the exit, how long a grandchild may keep our pipes open before we stop reading. */
const PIPE_CLOSE_GRACE_MS = 2_000;
const GROUPS = process.platform !== 'win32';

/** `command` as given when it has a directory part, else the first executable of that name on PATH. */
export function findExecutable(
  command: string,
  pathEnv: string | undefined,
  pathExt?: string,
): string | null {
  const exts = process.platform === 'win32' ? ['', ...(pathExt ?? '.EXE;.CMD;.BAT;.COM').split(';')] : [''];
  const candidates =
    command.includes('/') || command.includes('\\') || isAbsolute(command)
      ? [resolve(command)]
      : (pathEnv ?? '')
          .split(delimiter)
          .filter((dir) => dir !== '')
          .map((dir) => join(dir, command));
  for (const base of candidates) {
    for (const ext of exts) {
      const file = base + ext;
      try {
        if (statSync(file).isFile()) {
          accessSync(file, constants.X_OK);
          return file;
        }
      } catch {
        // Not this one: keep looking.
      }
    }
  }
  return null;
}

let deathSignalWrapper: string | null | undefined;

/**
 * The setpriv that can set a parent-death signal, or null (not Linux, not installed, too old).
 * Looked up once: it is a fact about this machine.
 */
export function deathSignalSupport(): string | null {
  if (deathSignalWrapper !== undefined) return deathSignalWrapper;
  deathSignalWrapper = null;
  if (process.platform !== 'linux') return null;
  const found = setprivPath();
  if (found && setprivKnowsPdeathsig(found)) deathSignalWrapper = found;
  return deathSignalWrapper;
}

function setprivPath(): string | null {
  return findExecutable('/usr/bin/setpriv', undefined) ?? findExecutable('setpriv', process.env.PATH);
}

function setprivKnowsPdeathsig(found: string): boolean {
  const help = spawnSync(found, ['--help'], {
    encoding: 'utf8',
    timeout: 5_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return help.status === 0 && help.stdout.includes('--pdeathsig');
}

/**
 * deathSignalSupport() without its `setpriv --help` on every run: the answer is kept on disk
 * keyed by the setpriv binary, like FFmpeg's version (a short job should not pay a process start for it).
 */
async function deathSignalWrapperCached(): Promise<string | null> {
  if (deathSignalWrapper !== undefined) return deathSignalWrapper;
  if (process.platform !== 'linux') return deathSignalSupport();
  const found = setprivPath();
  if (!found) return deathSignalSupport();
  const ok = await cachedFact('setpriv-pdeathsig', found, async () => setprivKnowsPdeathsig(found));
  deathSignalWrapper = ok ? found : null;
  return deathSignalWrapper;
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * Starts `command args` and resolves once it runs. Rejects with an errno error (ENOENT, EACCES)
 * when it cannot start: the command is checked before it goes through setpriv, so that a missing
 * binary is the same error with or without the wrapper.
 */
export async function startProcess(
  command: string,
  args: readonly string[],
  options: StartOptions = {},
): Promise<ChildHandle> {
  const env = options.env ?? process.env;
  const executable = findExecutable(command, env.PATH, env.PATHEXT);
  if (!executable) throw errnoError('ENOENT', `${command}: not found or not executable`);
  const wrapper = options.dieWithParent === false ? null : await deathSignalWrapperCached();
  const [file, argv] = wrapper
    ? [wrapper, ['--pdeathsig', 'SIGKILL', '--', executable, ...args]]
    : [executable, [...args]];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: GROUPS,
    windowsHide: true,
  });

  return new Promise((resolveStart, rejectStart) => {
    child.once('error', rejectStart);
    child.once('spawn', () => {
      child.off('error', rejectStart);
      // Later errors (a failed kill) surface through kill()'s return value, not as a crash.
      child.on('error', () => {});
      const pid = child.pid as number;
      const exited = new Promise<ProcessExit>((resolveExit) => {
        let exit: ProcessExit | null = null;
        const done = () => resolveExit(exit ?? { code: child.exitCode, signal: child.signalCode });
        child.once('exit', (code, signal) => {
          exit = { code, signal };
          setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            done();
          }, PIPE_CLOSE_GRACE_MS).unref();
        });
        child.once('close', done);
      });
      resolveStart({
        pid,
        stdout: child.stdout,
        stderr: child.stderr,
        exited,
        kill(signal) {
          try {
            if (GROUPS) process.kill(-pid, signal);
            else child.kill(signal);
            return true;
          } catch {
            return false; // ESRCH: the group is gone.
          }
        },
      });
    });
  });
}

/** The end of a stream of text, bounded in characters and lines. */
export class OutputTail {
  #text = '';
  readonly #maxChars: number;
  readonly #maxLines: number;

  constructor(maxChars = 64 * 1024, maxLines = 100) {
    this.#maxChars = maxChars;
    this.#maxLines = maxLines;
  }

  push(chunk: string): void {
    this.#text += chunk;
    // Trim in steps, not on every chunk.
    if (this.#text.length > 2 * this.#maxChars) this.#text = this.#text.slice(-this.#maxChars);
  }

  text(): string {
    const lines = this.#text.slice(-this.#maxChars).split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-this.#maxLines).join('\n');
  }
}

/**
 * The few lines of an FFmpeg/ffprobe log that say what went wrong: the last non-empty ones,
 * without the generic closing line and without memory addresses (`[libx264 @ 0x55d0...]`).
 */
export function stderrSummary(stderr: string, maxLines = 4): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/ @ 0x[0-9a-f]+\]/g, ']').trim())
    // Closing chatter ("N frames left in the queue on closing", one per encoder) would push the
    // cause out of the last lines.
    .filter(
      (l) =>
        l !== '' &&
        l !== 'Conversion failed!' &&
        !/^(frame|size)=/.test(l) &&
        !/frames left in the queue on closing/.test(l),
    );
  return lines
    .slice(-maxLines)
    .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l))
    .join('\n');
}

export interface RunOptions extends StartOptions {
  /** Kill the process group after this long; `timedOut` in the result. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Kill it when stdout grows past this (default 32 MiB); `stdoutOverflow` in the result. */
  maxStdoutBytes?: number;
}

export interface RunResult extends ProcessExit {
  stdout: string;
  /** The end of stderr (64 KiB, 100 lines). */
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  stdoutOverflow: boolean;
  ms: number;
}

/**
 * Runs a short command to its end and collects its output (ffprobe, `-version`, `-encoders`, a
 * test encode). Resolves whatever the exit status; rejects only when it cannot start.
 */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  const { signal } = options;
  if (signal?.aborted) {
    return {
      code: null,
      signal: null,
      stdout: '',
      stderr: '',
      timedOut: false,
      aborted: true,
      stdoutOverflow: false,
      ms: 0,
    };
  }
  const child = await startProcess(command, args, options);
  const maxStdout = options.maxStdoutBytes ?? 32 * 1024 * 1024;
  const chunks: Buffer[] = [];
  const tail = new OutputTail();
  let stdoutBytes = 0;
  let timedOut = false;
  let aborted = false;
  let stdoutOverflow = false;

  child.stdout.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    if (stdoutBytes > maxStdout) {
      stdoutOverflow = true;
      child.kill('SIGKILL');
      return;
    }
    chunks.push(chunk);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => tail.push(chunk));
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs);
  const onAbort = () => {
    aborted = true;
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const exit = await child.exited;
  clearTimeout(timer);
  signal?.removeEventListener('abort', onAbort);
  child.kill('SIGKILL'); // anything it left in its group
  return {
    ...exit,
    stdout: Buffer.concat(chunks).toString('utf8'),
    stderr: tail.text(),
    timedOut,
    aborted,
    stdoutOverflow,
    ms: performance.now() - started,
  };
}
