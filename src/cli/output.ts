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

/** Prints an error the documented way and returns the exit code: 2 for an invalid spec, else 1. */
export function reportError(e: unknown, io: Io, json: boolean): number {
  const err =
    e instanceof AppError ? e : new AppError('internal_error', e instanceof Error ? e.message : String(e));
  const invalid = ['validation_error', 'missing_spec', 'invalid_request', 'config_invalid'].includes(
    err.code,
  );
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
    io.err(
      `error: ${err.code}: the job spec has ${err.details.length} problem${err.details.length > 1 ? 's' : ''}:\n${describeIssues(err.details)}`,
    );
  } else {
    io.err(`error: ${err.code}: ${err.message}`);
  }
  return invalid ? EXIT_INVALID : EXIT_FAILED;
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

/** A progress bar on a terminal, JSON lines with --json, nothing otherwise. */
export function progressReporter(io: Io, json: boolean): { update(p: JobProgress): void; stop(): void } {
  if (json) return { update: (p) => io.out(JSON.stringify({ type: 'progress', ...p })), stop: () => {} };
  if (!io.isTTY) return { update: () => {}, stop: () => {} };
  const { SingleBar } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new SingleBar({
    format: ' {bar} {percentage}% | {task} | {fps} fps | {speed} | ETA {eta}',
    hideCursor: true,
    clearOnComplete: false,
    barCompleteChar: '█',
    barIncompleteChar: '░',
  });
  let started = false;
  return {
    update(p) {
      const payload = {
        task: p.task,
        fps: p.fps?.toFixed(0) ?? '-',
        speed: p.speed ? `${p.speed.toFixed(2)}x` : '-',
        eta: p.etaSeconds === null ? '-' : `${Math.ceil(p.etaSeconds)}s`,
      };
      if (!started) {
        bar.start(100, 0, payload);
        started = true;
      }
      bar.update(Math.floor(p.jobPercent ?? 0), payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
