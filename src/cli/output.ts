/** How the CLI prints: problems with their paths, errors with their codes, results, progress. */
import { createRequire } from 'node:module';
import { AppError, type Issue } from '../core/index.js';
import type { JobProgress } from '../pipeline/index.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_INVALID = 2;

export function describeIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `  ${i.path || '(spec)'}: ${i.message} [${i.code}]`).join('\n');
}

/** What an error line needs: an AppError, or an error body a server sent (its code may be newer than ours). */
export interface CodedError {
  code: string;
  message: string;
  details?: readonly Issue[] | undefined;
}

const INVALID = ['validation_error', 'missing_spec', 'invalid_request', 'config_invalid'];

/** Prints an error the documented way and returns the exit code: 2 for an invalid spec, else 1. */
export function reportError(e: unknown, io: Io, json: boolean): number {
  const err =
    e instanceof AppError ? e : new AppError('internal_error', e instanceof Error ? e.message : String(e));
  const n = err.details?.length ?? 0;
  return printError(err, io, json, `the job spec has ${n} problem${n > 1 ? 's' : ''}:`);
}

/** `error: <code>: <message>`, then each problem of a validation_error; or one JSON line. */
export function printError(err: CodedError, io: Io, json: boolean, validationHeadline = err.message): number {
  if (json) {
    io.out(
      JSON.stringify({
        type: 'error',
        error: err.code,
        message: err.message,
        ...(err.details ? { details: err.details } : {}),
      }),
    );
  } else if (err.code === 'validation_error' && err.details) {
    io.err(`error: ${err.code}: ${validationHeadline}\n${describeIssues(err.details)}`);
  } else {
    io.err(`error: ${err.code}: ${err.message}`);
  }
  return INVALID.includes(err.code) ? EXIT_INVALID : EXIT_FAILED;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export interface ProgressLine {
  task: string;
  fps: number | null | undefined;
  speed: number | null | undefined;
  etaSeconds: number | null | undefined;
}

/** A progress bar on stderr when it is a terminal; null otherwise. */
export function progressBar(io: Io): { update(percent: number, p: ProgressLine): void; stop(): void } | null {
  if (!io.isTTY) return null;
  const { SingleBar } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new SingleBar({
    format: ' {bar} {percentage}% | {task} | {fps} fps | {speed} | ETA {remaining}',
    hideCursor: true,
    clearOnComplete: false,
    barCompleteChar: '█',
    barIncompleteChar: '░',
  });
  let started = false;
  return {
    update(percent, p) {
      const payload = {
        task: p.task,
        fps: p.fps?.toFixed(0) ?? '-',
        speed: p.speed ? `${p.speed.toFixed(2)}x` : '-',
        remaining: p.etaSeconds === null || p.etaSeconds === undefined ? '-' : `${Math.ceil(p.etaSeconds)}s`,
      };
      if (!started) {
        bar.start(100, 0, payload);
        started = true;
      }
      bar.update(Math.floor(percent), payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** A progress bar on a terminal, JSON lines with --json, nothing otherwise. */
export function progressReporter(io: Io, json: boolean): { update(p: JobProgress): void; stop(): void } {
  if (json) return { update: (p) => io.out(JSON.stringify({ type: 'progress', ...p })), stop: () => {} };
  const bar = progressBar(io);
  if (!bar) return { update: () => {}, stop: () => {} };
  return { update: (p) => bar.update(p.jobPercent ?? 0, p), stop: () => bar.stop() };
}
