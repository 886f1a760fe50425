/**
 * One FFmpeg run with a lifecycle: start, progress events, cancel, a wall-clock deadline, a stall
 * detector, and an idempotent close. The process runs in its own group (cancel reaches all of it)
 * and dies with its parent on Linux (see process.ts).
 *
 * The runner owns stdout and stderr: it adds `-progress pipe:1` (so the arguments must not write
 * their output to stdout), `-nostdin`, `-nostats` and `-hide_banner` when the arguments lack them,
 * and keeps the end of stderr for the error message. It sets no log level: filters such as
 * loudnorm print their measurements at `info`, and callers read them from `stderrTail`.
 */
import { AppError, type ErrorCode } from '../core/errors.js';
import { createProgressParser, type Progress, toProgress } from '../core/ffmpeg/progress.js';
import { type ChildHandle, OutputTail, type ProcessExit, startProcess, stderrSummary } from './process.js';

export const RUN_DEFAULTS = {
  /** SIGTERM lets FFmpeg finish its output file; SIGKILL follows after this. */
  killGraceMs: 5_000,
  /** No change of output time, frame or size for this long: stopped as stalled. */
  stallTimeoutMs: 120_000,
  stderrTailChars: 64 * 1024,
  stderrTailLines: 100,
} as const;

export interface FfmpegRunOptions {
  /** The ffmpeg binary. */
  ffmpeg: string;
  /** Everything after the binary: inputs, filters, outputs (never `-progress`). */
  args: readonly string[];
  /** Seconds of output expected, for percent and ETA; null when unknown. */
  expectedDurationSeconds?: number | null;
  onProgress?: (progress: Progress) => void;
  /** Called once the process runs, with its pid (also its process group id). */
  onSpawn?: (pid: number) => void;
  signal?: AbortSignal;
  killGraceMs?: number;
  /** Wall-clock limit; null for none (the default). */
  deadlineMs?: number | null;
  /** null turns the stall detector off. */
  stallTimeoutMs?: number | null;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface FfmpegRunResult {
  exitCode: number;
  stderrTail: string;
  lastProgress: Progress | null;
  durationMs: number;
}

/** What a failed run leaves: the same as a result, but it may have no exit code (signal, never started). */
export interface FfmpegRunOutcome extends Omit<FfmpegRunResult, 'exitCode'> {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** An AppError (ffmpeg_failed, cancelled, timeout, stalled, ...) that carries the run's end state. */
export class FfmpegRunError extends AppError {
  readonly outcome: FfmpegRunOutcome;
  constructor(code: ErrorCode, message: string, outcome: FfmpegRunOutcome, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.name = 'FfmpegRunError';
    this.outcome = outcome;
  }
}

type StopReason = 'cancelled' | 'timeout' | 'stalled' | 'listener';
type State = 'new' | 'starting' | 'running' | 'finished';

/** What the runner needs in every command line; added in front unless the arguments already have it. */
const RUNNER_ARGS: readonly (readonly string[])[] = [
  ['-hide_banner'],
  ['-nostdin'],
  ['-nostats'],
  ['-progress', 'pipe:1'],
];

export function withRunnerArgs(args: readonly string[]): string[] {
  const at = args.indexOf('-progress');
  if (at >= 0 && args[at + 1] !== 'pipe:1') {
    throw new AppError(
      'internal_error',
      `the runner reads progress from pipe:1, not ${args[at + 1] ?? '(nothing)'}`,
    );
  }
  const missing = RUNNER_ARGS.filter(([flag]) => !args.includes(flag as string));
  return [...missing.flat(), ...args];
}

export class FfmpegRun {
  /** Resolves when FFmpeg exits 0; rejects with a FfmpegRunError otherwise. */
  readonly done: Promise<FfmpegRunResult>;
  readonly #opts: FfmpegRunOptions;
  readonly #argv: string[];
  readonly #tail: OutputTail;
  #resolve!: (r: FfmpegRunResult) => void;
  #reject!: (e: Error) => void;
  #state: State = 'new';
  #child: ChildHandle | undefined;
  #stopReason: StopReason | undefined;
  #listenerError: unknown;
  #lastProgress: Progress | null = null;
  #lastChangeAt = 0;
  #progressKey = '';
  #startedAt = 0;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(options: FfmpegRunOptions) {
    this.#opts = options;
    this.#argv = withRunnerArgs(options.args); // a bad -progress is a programming error: throw now
    this.#tail = new OutputTail(RUN_DEFAULTS.stderrTailChars, RUN_DEFAULTS.stderrTailLines);
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only uses close() must not get an unhandled rejection.
    this.done.catch(() => {});
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get lastProgress(): Progress | null {
    return this.#lastProgress;
  }

  start(): this {
    if (this.#state !== 'new') return this;
    this.#state = 'starting';
    this.#startedAt = performance.now();
    void this.#run();
    return this;
  }

  /** SIGTERM to the process group, SIGKILL after the grace period; `done` rejects with 'cancelled'. */
  cancel(): void {
    if (this.#state === 'new') {
      this.#stopReason = 'cancelled';
      this.#finish(null);
    } else this.#stop('cancelled');
  }

  /** Cancels if still running and waits until the process is gone. Idempotent; never rejects. */
  async close(): Promise<void> {
    this.cancel();
    await this.done.then(
      () => undefined,
      () => undefined,
    );
  }

  async #run(): Promise<void> {
    const o = this.#opts;
    const onAbort = () => this.cancel();
    if (o.signal?.aborted) {
      this.#stopReason = 'cancelled';
      return this.#finish(null);
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      try {
        this.#child = await startProcess(o.ffmpeg, this.#argv, { cwd: o.cwd, env: o.env });
      } catch (e) {
        this.#state = 'finished';
        const code = (e as NodeJS.ErrnoException).code;
        this.#reject(
          new FfmpegRunError(
            'ffmpeg_not_found',
            `cannot run ${o.ffmpeg}: ${code ?? (e as Error).message}`,
            this.#outcome(null),
            e,
          ),
        );
        return;
      }
      const child = this.#child;
      this.#state = 'running';
      this.#lastChangeAt = performance.now();
      if (this.#stopReason) this.#signalStop(child); // cancelled while starting
      this.#armTimers();
      const parser = createProgressParser();
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        for (const block of parser.push(chunk))
          this.#onProgress(toProgress(block, o.expectedDurationSeconds ?? null));
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => this.#tail.push(chunk));
      if (o.onSpawn) this.#callListener(() => o.onSpawn?.(child.pid));

      const exit = await child.exited;
      child.kill('SIGKILL'); // whatever it left in its group
      this.#finish(exit);
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      clearTimeout(this.#deadlineTimer);
      clearTimeout(this.#stallTimer);
      clearTimeout(this.#killTimer);
    }
  }

  #armTimers(): void {
    const o = this.#opts;
    if (o.deadlineMs != null) this.#deadlineTimer = setTimeout(() => this.#stop('timeout'), o.deadlineMs);
    const stallMs = o.stallTimeoutMs === undefined ? RUN_DEFAULTS.stallTimeoutMs : o.stallTimeoutMs;
    if (stallMs != null) {
      const every = Math.max(10, Math.min(1_000, stallMs / 4));
      const check = () => {
        if (performance.now() - this.#lastChangeAt >= stallMs) this.#stop('stalled');
        else this.#stallTimer = setTimeout(check, every);
      };
      this.#stallTimer = setTimeout(check, every);
    }
  }

  #onProgress(p: Progress): void {
    this.#lastProgress = p;
    // FFmpeg reports on a timer even when stuck: only a moving position counts as progress.
    const key = `${p.outTimeSeconds}|${p.frame}|${p.totalSizeBytes}|${p.done}`;
    if (key !== this.#progressKey) {
      this.#progressKey = key;
      this.#lastChangeAt = performance.now();
    }
    const listener = this.#opts.onProgress;
    if (listener) this.#callListener(() => listener(p));
  }

  /** A listener that throws stops the run: its error is what `done` rejects with. */
  #callListener(call: () => void): void {
    try {
      call();
    } catch (e) {
      this.#listenerError ??= e;
      this.#stop('listener');
    }
  }

  #stop(reason: StopReason): void {
    if (this.#state === 'finished' || this.#stopReason) return;
    this.#stopReason = reason;
    if (this.#child) this.#signalStop(this.#child);
  }

  #signalStop(child: ChildHandle): void {
    child.kill('SIGTERM');
    const grace = this.#opts.killGraceMs ?? RUN_DEFAULTS.killGraceMs;
    this.#killTimer = setTimeout(() => child.kill('SIGKILL'), grace);
  }

  #outcome(exit: ProcessExit | null): FfmpegRunOutcome {
    return {
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      stderrTail: this.#tail.text(),
      lastProgress: this.#lastProgress,
      durationMs: this.#startedAt ? performance.now() - this.#startedAt : 0,
    };
  }

  #finish(exit: ProcessExit | null): void {
    if (this.#state === 'finished') return;
    this.#state = 'finished';
    const outcome = this.#outcome(exit);
    const error = this.#failure(outcome);
    const { signal: _signal, ...result } = outcome;
    if (error) this.#reject(error);
    else this.#resolve({ ...result, exitCode: 0 });
  }

  /** Why the run failed, or null when it succeeded. A stop we asked for wins over the exit code. */
  #failure(outcome: FfmpegRunOutcome): FfmpegRunError | null {
    const said = stderrSummary(outcome.stderrTail);
    const log = said ? `; FFmpeg said:\n${said}` : '';
    const error = (code: ErrorCode, message: string, cause?: unknown) =>
      new FfmpegRunError(code, message, outcome, cause);
    switch (this.#stopReason) {
      case 'cancelled':
        return error('cancelled', 'the FFmpeg run was cancelled');
      case 'timeout':
        return error(
          'timeout',
          `FFmpeg ran past its deadline of ${this.#opts.deadlineMs} ms and was stopped${log}`,
        );
      case 'stalled': {
        const ms = this.#opts.stallTimeoutMs ?? RUN_DEFAULTS.stallTimeoutMs;
        return error('stalled', `FFmpeg made no progress for ${ms} ms and was stopped${log}`);
      }
      case 'listener': {
        const e = this.#listenerError;
        return error(
          'internal_error',
          `a run listener threw: ${e instanceof Error ? e.message : String(e)}`,
          e,
        );
      }
    }
    if (outcome.exitCode === 0) return null;
    // Stopped from outside (we stop it only through the cases above): the OOM killer's SIGKILL, or
    // an admin's or a service manager's SIGTERM/SIGINT/SIGHUP, which FFmpeg traps and answers with
    // exit 255 and "received signal N". The machine's doing, not the job's: worth another attempt.
    // A crash (SIGSEGV, SIGABRT, ...) is most often the input's doing: it fails like any error.
    const trapped = outcome.exitCode === 255 && /received signal \d+/.test(outcome.stderrTail);
    if (trapped || (outcome.signal !== null && OUTSIDE_STOPS.has(outcome.signal)))
      return error(
        'ffmpeg_killed',
        `FFmpeg was stopped by ${outcome.signal ?? 'a signal'} from outside${log}`,
      );
    const how =
      outcome.exitCode !== null ? `exited with code ${outcome.exitCode}` : `crashed (${outcome.signal})`;
    return error('ffmpeg_failed', `FFmpeg ${how}${log}`);
  }
}

/** Signals that stop a process from outside rather than report a fault of its own. */
const OUTSIDE_STOPS: ReadonlySet<NodeJS.Signals> = new Set([
  'SIGKILL',
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
]);

/** Starts a run: `const run = runFfmpeg({...}); await run.done`. */
export function runFfmpeg(options: FfmpegRunOptions): FfmpegRun {
  return new FfmpegRun(options).start();
}
