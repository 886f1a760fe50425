/**
 * Runs one assignment on this machine and reports on it: running, progress (at most twice a
 * second), then succeeded with each output's size, MD5 and media info, or failed with a code
 * that says whether another attempt may help. A report answered `stale` means the attempt is no
 * longer ours (cancelled, or given to someone else): the run stops.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Logger } from 'pino';
import {
  AppError,
  isAppError,
  type OutputFile,
  RETRYABLE_CODES,
  type TaskAssignment,
  type TaskReport,
  type TaskReportSink,
} from '../core/index.js';
import { type EncoderHealth, executeTask, type MediaTools } from '../pipeline/index.js';
import type { MediaRoots } from '../storage/index.js';
import type { TransferHooks } from './transfer.js';

export interface RunnerContext {
  roots: MediaRoots;
  tools: MediaTools;
  threads: number;
  logger: Logger;
  /** Hardware allowed (tools.hardwareEncoders() says which), and the encoders seen failing. */
  encoders?: { hardware: boolean; health: EncoderHealth; vaapiDevice?: string };
  /** For an assignment marked `transfer`: its files fetched before and uploaded after. */
  transfer?: TransferHooks;
}

export async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export type RunOutcome = 'finished' | 'stopped';

/** Runs the assignment to its end; the caller's signal stops it (cancel, shutdown). */
export async function runAssignment(
  a: TaskAssignment,
  sink: TaskReportSink,
  ctx: RunnerContext,
  stop: AbortController,
): Promise<RunOutcome> {
  const ref = { task_id: a.task_id, attempt: a.attempt };
  const send = async (r: TaskReport) => {
    if ((await sink.report(r)) === 'stale') stop.abort();
  };
  // The end of a run must reach the orchestrator: a database that is away for a while (a
  // restart, a fail-over) is waited for, about two minutes, before the report is given up.
  const deliver = async (r: TaskReport) => {
    for (let i = 0; ; i++) {
      try {
        return await send(r);
      } catch (e) {
        if (i >= 10) throw e;
        ctx.logger.warn({ err: e, task_id: a.task_id, report: r.type }, 'report failed; trying again');
        await new Promise((res) => setTimeout(res, Math.min(500 * 2 ** i, 15_000)));
      }
    }
  };
  // FFmpeg starts at once; the `running` report goes out beside it (reports stay in order: the
  // others queue behind it), and a `stale` answer stops the run like any other.
  let inFlight: Promise<void> = send({ type: 'running', ...ref }).catch((e) =>
    ctx.logger.warn({ err: e }, 'running report failed'),
  );
  let lastProgress = 0;
  const transfer = a.transfer ? ctx.transfer : undefined;
  if (a.transfer && !transfer)
    throw new AppError('internal_error', 'a transfer task on a worker that cannot fetch');
  // Bytes moving count as progress: without it, a long fetch or upload would be stopped as hung.
  let lastMoved = 0;
  const moving = () => {
    const now = Date.now();
    if (now - lastMoved < 5000) return;
    lastMoved = now;
    inFlight = inFlight.then(() =>
      send({
        type: 'progress',
        ...ref,
        progress: { percent: null, fps: null, speed: null, out_seconds: null },
      }).catch((e) => ctx.logger.warn({ err: e }, 'progress report failed')),
    );
  };
  try {
    await transfer?.fetch(a, stop.signal, moving);
    const result = await executeTask(a.spec, {
      roots: ctx.roots,
      tempTag: createHash('sha256').update(a.task_id).digest('hex').slice(0, 8),
      tools: ctx.tools,
      ...(ctx.threads > 0 ? { threads: ctx.threads } : {}),
      ...(ctx.encoders ?? {}),
      analysis: a.analysis,
      signal: stop.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastProgress < 400) return;
        lastProgress = now;
        // Reports go one after another: a slow database must not queue them up.
        inFlight = inFlight.then(() =>
          send({
            type: 'progress',
            ...ref,
            progress: {
              percent: p.percent === null ? null : Math.min(100, Math.max(0, p.percent)),
              fps: p.fps ?? null,
              speed: p.speed ?? null,
              out_seconds: p.outTimeSeconds ?? null,
            },
          }).catch((e) => ctx.logger.warn({ err: e }, 'progress report failed')),
        );
      },
    });
    await inFlight;
    await transfer?.upload(a, stop.signal, moving);
    const outputs: OutputFile[] = [];
    for (const o of result.outputs)
      outputs.push({
        index: o.index,
        node: o.id,
        files: o.files,
        size: o.size,
        md5: await md5File(o.files[0]!),
        duration: o.info.format.duration,
        media_info: o.info as unknown as Record<string, unknown>,
      });
    await deliver({
      type: 'succeeded',
      ...ref,
      outputs,
      ...(result.analysis ? { analysis: result.analysis } : {}),
      ffmpeg_ms: result.ffmpegMs,
    });
    return 'finished';
  } catch (e) {
    await inFlight;
    if (stop.signal.aborted) return 'stopped';
    const err = isAppError(e) ? e : new AppError('internal_error', (e as Error).message, { cause: e });
    if (!isAppError(e)) ctx.logger.error({ err: e, task_id: a.task_id }, 'task failed unexpectedly');
    const [message, ...tail] = err.message.split('\n');
    await deliver({
      type: 'failed',
      ...ref,
      error: {
        code: err.code,
        message: (message ?? '').slice(0, 4000),
        retryable: RETRYABLE_CODES.has(err.code),
        ...(tail.length > 0 ? { log_tail: tail.join('\n').slice(-8000) } : {}),
      },
    });
    return 'finished';
  } finally {
    await transfer?.clean(a);
  }
}
