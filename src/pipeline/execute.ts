/**
 * Plan → files. Tasks run in order (analysis passes before the tasks that read them). Each
 * output is written under a temporary name beside its destination, probed and checked, and only
 * then renamed into place; on any failure or cancel the temporary files are removed, so a
 * destination is either the complete new file or untouched.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Progress } from '../core/ffmpeg/progress.js';
import {
  AppError,
  buildArgs,
  checkOutput,
  type chooseEncoders,
  EncoderUnavailableError,
  type MediaInfo,
  seriesPaths,
  type TaskOutput,
  type TaskSpec,
  taskWeight,
} from '../core/index.js';
import { parseLoudnormReport } from '../core/operators/loudnorm.operator.js';
import { spriteVttFor } from '../core/operators/sprite.operator.js';
import { type MediaRoots, prepareDestination } from '../storage/index.js';
import { openJoin, removeScratch, runPiece } from './chunked.js';
import { type EncoderHealth, runWithFallback, workerEncoders } from './encoder-health.js';
import type { PreparedJob } from './prepare.js';
import type { MediaTools } from './tools.js';

export interface JobProgress extends Progress {
  /** The task running now. */
  task: string;
  /** 0..100 of the whole job, weighted by each task's media duration. */
  jobPercent: number | null;
}

export interface ExecuteContext {
  roots: MediaRoots;
  /**
   * Names this task's temporary files (a worker gives a hash of the task id): a later attempt
   * removes what a killed one left. Without it, nothing is swept.
   */
  tempTag?: string;
  tools: MediaTools;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  /** Hardware encoders allowed: those tools.hardwareEncoders() proved, first (encoder-health.ts). */
  hardware?: boolean;
  /** Remembers a hardware encoder that failed at a task's start; the task then runs in software. */
  health?: EncoderHealth;
  vaapiDevice?: string;
}

export interface WrittenOutput {
  index: number;
  id: string;
  /** The files written: one, or several for a thumbnail series, plus a sidecar. */
  files: string[];
  size: number;
  info: MediaInfo;
}

export interface JobResult {
  outputs: WrittenOutput[];
  /** Wall-clock milliseconds spent inside FFmpeg processes: the rest of a run is mediaforge's own. */
  ffmpegMs: number;
}

interface Staged {
  out: TaskOutput;
  final: string;
  /** Where FFmpeg writes: a file, or a pattern inside a temporary folder for image series. */
  temp: string;
  tempDir?: string;
}

const token = () => randomBytes(4).toString('hex');

/** The longest suffix a temporary name gets ('.part'): the name is cut the same way for all. */
const SUFFIX_ROOM = 5;

/**
 * `.<name>.mediaforge-[<tag>-]` : the start of the temporary names beside a destination, with the
 * name cut so a whole temporary name stays within the 255 bytes a file name may have (a legal
 * long destination must not fail).
 */
function tempPrefix(name: string, tag?: string): string {
  const head = `.mediaforge-${tag ? `${tag}-` : ''}`;
  const room = 255 - 1 - Buffer.byteLength(head) - 8 - SUFFIX_ROOM;
  let cut = name;
  while (Buffer.byteLength(cut) > room) cut = cut.slice(0, -1);
  return `.${cut}${head}`;
}

export function tempName(name: string, suffix: string, tag?: string): string {
  return `${tempPrefix(name, tag)}${token()}${suffix}`;
}

/**
 * What an earlier attempt of the same task left beside the destination when it was killed
 * (kill -9, a lost machine): its temporary files carry the task's tag, and only those go.
 */
async function sweepEarlierAttempts(dir: string, name: string, tag: string): Promise<void> {
  const prefix = tempPrefix(name, tag);
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix))
      .map((n) => rm(join(dir, n), { recursive: true, force: true }).catch(() => {})),
  );
}

async function stage(out: TaskOutput, roots: MediaRoots, tag?: string): Promise<Staged> {
  const final = await prepareDestination(out.path, roots);
  const dir = dirname(final);
  const name = basename(final);
  if (tag) await sweepEarlierAttempts(dir, name, tag);
  if (out.image && out.image.frames > 1) {
    const tempDir = join(dir, tempName(name, '.d', tag));
    await mkdir(tempDir);
    // image2 reads % as a pattern: the user's name is escaped, our counter added.
    const ext = extname(name);
    const pattern = `${name.slice(0, name.length - ext.length).replace(/%/g, '%%')}-%04d${ext}`;
    return { out, final, temp: join(tempDir, pattern), tempDir };
  }
  return { out, final, temp: join(dir, tempName(name, '.part', tag)) };
}

/** Best effort: a clean-up that fails must not hide the error that made it necessary. */
async function discard(staged: readonly Staged[]): Promise<void> {
  await Promise.all(
    staged.map((s) => rm(s.tempDir ?? s.temp, { recursive: true, force: true }).catch(() => {})),
  );
}

async function verifyAndCommit(
  s: Staged,
  tools: MediaTools,
): Promise<{ files: string[]; size: number; info: MediaInfo }> {
  const fail = (why: string) =>
    new AppError('output_verification_failed', `output ${s.out.index} (${s.final}) ${why}`);
  if (s.tempDir) {
    const names = (await readdir(s.tempDir)).sort();
    if (names.length === 0) throw fail('produced no pictures');
    // Only the names prepare checked may be written (it refused those that would replace an input).
    const planned = new Set(seriesPaths(basename(s.final), s.out.image!.frames));
    const odd = names.find((n) => !planned.has(n));
    if (odd !== undefined) throw fail(`produced a picture that was not planned: ${odd}`);
    const info = await tools.probe(join(s.tempDir, names[0]!));
    const problems = checkOutput({ ...s.out.expect, duration: null, frames: 1 }, info);
    if (problems.length > 0) throw fail(problems.join('; '));
    const files: string[] = [];
    let size = 0;
    for (const n of names) {
      const to = join(dirname(s.final), n);
      await rename(join(s.tempDir, n), to);
      files.push(to);
      size += (await stat(to)).size;
    }
    await rm(s.tempDir, { recursive: true, force: true });
    return { files, size, info };
  }
  let size: number;
  try {
    size = (await stat(s.temp)).size;
  } catch {
    throw fail('was not written');
  }
  if (size === 0) throw fail('is empty');
  let info: MediaInfo;
  try {
    info = await tools.probeOutput(s.temp, s.out.format);
  } catch (e) {
    throw fail(`cannot be read back: ${(e as Error).message}`);
  }
  const problems = checkOutput(s.out.expect, info);
  if (problems.length > 0) throw fail(problems.join('; '));
  try {
    await rename(s.temp, s.final);
  } catch (e) {
    throw new AppError(
      'output_write_failed',
      `cannot move the output into ${s.final}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  return { files: [s.final], size, info };
}

/**
 * A small text file beside an output, written like one: under a temporary name, then renamed into
 * place, which replaces a link at that name instead of writing through it.
 */
async function writeSidecar(path: string, text: string, roots: MediaRoots): Promise<string> {
  const final = await prepareDestination(path, roots);
  const temp = join(dirname(final), tempName(basename(final), '.part'));
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, final);
  } catch (e) {
    await rm(temp, { force: true });
    throw new AppError(
      'output_write_failed',
      `cannot write ${final}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  return final;
}

export async function executeJob(job: PreparedJob, ctx: ExecuteContext): Promise<JobResult> {
  const { preferred: encoders, software } = await workerEncoders(ctx.tools, ctx);
  const analysis: Record<string, Record<string, unknown>> = {};
  const tasks = job.plan.tasks;
  const weights = tasks.map((t) => taskWeight(t.kind, t.expected_duration));
  const total = weights.reduce((a, b) => a + b, 0);
  let before = 0;
  const written: WrittenOutput[] = [];
  const timing = { ffmpegMs: 0 };

  try {
    for (const [k, task] of tasks.entries()) {
      if (ctx.signal?.aborted) throw new AppError('cancelled', 'the job was cancelled');
      const report = (p: Progress) =>
        ctx.onProgress?.({
          ...p,
          task: task.id,
          jobPercent:
            p.percent === null
              ? null
              : Math.min(100, (100 * (before + (weights[k]! * p.percent) / 100)) / total),
        });
      written.push(...(await runTask(task, { ...ctx, encoders, software, analysis, report, timing })));
      before += weights[k]!;
    }
  } finally {
    // Done or failed, a local run has no second attempt: the pieces of a chunked output are of no more use.
    await removeScratch(tasks, ctx.roots);
  }
  return { outputs: written.sort((a, b) => a.index - b.index), ffmpegMs: Math.round(timing.ffmpegMs) };
}

export interface TaskResult {
  outputs: WrittenOutput[];
  /** What a measure task found (loudnorm's first pass), for the tasks that read it. */
  analysis?: Record<string, unknown>;
  ffmpegMs: number;
}

/**
 * One task on its own, as a worker runs it: `analysis` holds, by node id, the results of the
 * measure tasks it depends on (the orchestrator carries them from those tasks' reports).
 */
export async function executeTask(
  task: TaskSpec,
  ctx: Omit<ExecuteContext, 'onProgress'> & {
    analysis: Readonly<Record<string, Record<string, unknown>>>;
    onProgress?: (p: Progress) => void;
  },
): Promise<TaskResult> {
  if (ctx.signal?.aborted) throw new AppError('cancelled', 'the task was cancelled');
  const { preferred: encoders, software } = await workerEncoders(ctx.tools, ctx);
  const byTask: Record<string, Record<string, unknown>> = {};
  for (const [node, from] of Object.entries(task.analysis_from)) {
    const a = ctx.analysis[node];
    if (a) byTask[from] = a;
  }
  const timing = { ffmpegMs: 0 };
  const outputs = await runTask(task, {
    ...ctx,
    onProgress: undefined,
    encoders,
    software,
    analysis: byTask,
    report: (p) => ctx.onProgress?.(p),
    timing,
  });
  const measured = byTask[task.id];
  return {
    outputs: outputs.sort((a, b) => a.index - b.index),
    ...(task.kind === 'measure' && measured ? { analysis: measured } : {}),
    ffmpegMs: Math.round(timing.ffmpegMs),
  };
}

async function runTask(
  task: TaskSpec,
  ctx: ExecuteContext & {
    encoders: ReturnType<typeof chooseEncoders>;
    software?: ReturnType<typeof chooseEncoders>;
    analysis: Record<string, Record<string, unknown>>;
    report: (p: Progress) => void;
    timing: { ffmpegMs: number };
  },
): Promise<WrittenOutput[]> {
  if (task.kind === 'chunk' || task.kind === 'audio') return runPiece(task, ctx);
  const staged: Staged[] = [];
  try {
    for (const out of task.outputs) staged.push(await stage(out, ctx.roots, ctx.tempTag));
    const join = task.kind === 'join' ? await openJoin(task, ctx) : null;
    const needed: Record<string, Record<string, unknown>> = {};
    for (const [node, from] of Object.entries(task.analysis_from)) {
      const a = ctx.analysis[from];
      if (!a)
        throw new AppError(
          'internal_error',
          `task ${task.id} needs the result of ${from}, which has not run`,
        );
      needed[node] = a;
    }
    const build = (encoders: ReturnType<typeof chooseEncoders>) => {
      try {
        return buildArgs(task, encoders, {
          analysis: needed,
          outputPaths: staged.map((s) => s.temp),
          ...(ctx.threads ? { threads: ctx.threads } : {}),
        });
      } catch (e) {
        if (e instanceof EncoderUnavailableError)
          throw new AppError('encoder_unavailable', `this FFmpeg has no encoder for ${e.codec}`);
        throw e;
      }
    };
    // A hardware encoder that fails before its first frame: once more in software.
    const result = await runWithFallback(
      ctx.tools,
      build,
      { preferred: ctx.encoders, software: ctx.software },
      {
        expectedDuration: task.expected_duration,
        onProgress: ctx.report,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
      ctx.health,
    );
    ctx.timing.ffmpegMs += result.durationMs;
    await join?.check(staged[0]!.temp);
    if (task.kind === 'measure') {
      ctx.analysis[task.id] = { ...parseLoudnormReport(result.stderrTail) };
      return [];
    }
    const done: WrittenOutput[] = [];
    for (const s of staged) {
      const c = await verifyAndCommit(s, ctx.tools);
      if (s.out.sidecar?.kind === 'sprite_vtt') {
        const node = task.nodes.find((n) => n.id === s.out.sidecar!.node)!;
        const input =
          task.nodes.find((n) => n.id === node.inputs[0]) ?? task.inputs.find((i) => i.id === node.inputs[0]);
        c.files.push(
          await writeSidecar(
            s.out.sidecar.path,
            spriteVttFor(node.params, input!.meta, basename(s.final)),
            ctx.roots,
          ),
        );
      }
      done.push({ index: s.out.index, id: s.out.node, ...c });
    }
    return done;
  } finally {
    await discard(staged);
  }
}
