/**
 * Running the tasks of a chunked output. A piece (a chunk of the video, or the audio) is written
 * to the job's scratch folder under a temporary name, checked, then renamed: a piece that is
 * there is whole, so a chunk whose worker died runs again alone. The join checks that every
 * piece is there and writes the concat list. The folder goes with the job, not with the join: a
 * join whose attempt is taken back must leave the pieces for the next one (the orchestrator, or
 * a local run, removes it once the job has ended).
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Progress } from '../core/ffmpeg/progress.js';
import {
  AppError,
  buildArgs,
  checkOutput,
  chooseEncoders,
  concatList,
  EncoderUnavailableError,
  type TaskSpec,
} from '../core/index.js';
import { isInside, type MediaRoots, prepareDestination } from '../storage/index.js';
import type { MediaTools } from './tools.js';

export interface PieceContext {
  roots: MediaRoots;
  tools: MediaTools;
  /** The worker's hash of the task id: names the temporary file. */
  tempTag?: string;
  threads?: number;
  signal?: AbortSignal;
  report: (p: Progress) => void;
  timing: { ffmpegMs: number };
}

const fail = (why: string) => new AppError('output_verification_failed', why);

/**
 * A piece's earlier attempts (killed by a lost worker) left `<name>.*.part` beside it. The scratch
 * folder is this job's alone and each piece has its own name, so they are all this task's.
 */
async function sweep(dir: string, name: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(`${name}.`) && n.endsWith('.part'))
      .map((n) => rm(join(dir, n), { force: true }).catch(() => {})),
  );
}

/** A chunk holds exactly its frames and starts on a keyframe, or the join would repeat, lose or break frames. */
async function checkChunk(task: TaskSpec, file: string, tools: MediaTools): Promise<void> {
  const range = task.range!;
  const { packets } = await tools.videoPackets(file);
  if (packets.length !== range.frames)
    throw fail(
      `chunk ${range.index} holds ${packets.length} frames where the source has ${range.frames} (frames ${range.first_frame}–${range.first_frame + range.frames - 1}): this input cannot be chunked exactly; run it without chunking`,
    );
  if (!packets[0]!.key) throw fail(`chunk ${range.index} does not start with a keyframe`);
}

export async function runPiece(task: TaskSpec, ctx: PieceContext): Promise<[]> {
  const out = task.outputs[0]!;
  const final = await prepareDestination(out.path, ctx.roots);
  const dir = dirname(final);
  const name = basename(final);
  await sweep(dir, name);
  const temp = join(dir, `${name}.${ctx.tempTag ?? 'run'}-${randomBytes(4).toString('hex')}.part`);
  try {
    // The join copies the chunks as they are, so all of them must come from one encoder with one
    // set of settings: the software one, never a hardware encoder that one worker has and another lacks.
    const encoders = chooseEncoders(await ctx.tools.encoders());
    let args: string[];
    try {
      args = buildArgs(task, encoders, {
        outputPaths: [temp],
        ...(ctx.threads ? { threads: ctx.threads } : {}),
      });
    } catch (e) {
      if (e instanceof EncoderUnavailableError)
        throw new AppError('encoder_unavailable', `this FFmpeg has no encoder for ${e.codec}`);
      throw e;
    }
    const result = await ctx.tools.run(args, {
      expectedDuration: task.expected_duration,
      onProgress: ctx.report,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    ctx.timing.ffmpegMs += result.durationMs;
    if (task.kind === 'chunk') await checkChunk(task, temp, ctx.tools);
    else {
      const problems = checkOutput(out.expect, await ctx.tools.probeOutput(temp, out.format));
      if (problems.length > 0) throw fail(`the audio of output ${out.index} ${problems.join('; ')}`);
    }
    await rename(temp, final);
    return [];
  } finally {
    await rm(temp, { force: true }).catch(() => {});
  }
}

export interface OpenJoin {
  /** The joined file (not yet in place) holds every frame once, in order. */
  check(file: string): Promise<void>;
}

/** Before the join's FFmpeg: every piece is there, and the concat list is written beside them. */
export async function openJoin(
  task: TaskSpec,
  ctx: { roots: MediaRoots; tools: MediaTools },
): Promise<OpenJoin> {
  const pieces = task.join!;
  const list = await prepareDestination(task.inputs[0]!.path, ctx.roots);
  const dir = dirname(list);
  const wanted = [...pieces.chunks.map((c) => join(dir, c.file)), ...task.inputs.slice(1).map((i) => i.path)];
  const missing: string[] = [];
  for (const f of wanted) if (!(await stat(f).catch(() => null))?.isFile()) missing.push(basename(f));
  if (missing.length > 0)
    throw fail(
      `the pieces ${missing.join(', ')} are missing from ${pieces.scratch}: their tasks must run again`,
    );
  // Under a temporary name, then renamed: a link planted at the list's name is replaced, not written through.
  const temp = `${list}.${randomBytes(4).toString('hex')}.part`;
  try {
    await writeFile(temp, concatList(pieces), { flag: 'wx' });
    await rename(temp, list);
  } finally {
    await rm(temp, { force: true }).catch(() => {});
  }
  const frames = pieces.chunks.reduce((n, c) => n + c.frames, 0);
  return {
    check: async (file) => {
      const { packets } = await ctx.tools.videoPackets(file);
      if (packets.length !== frames)
        throw fail(`the joined video holds ${packets.length} frames, its chunks ${frames}`);
      const times = packets.map((p) => p.pts).sort((a, b) => a - b);
      const repeat = times.findIndex((t, i) => i > 0 && t <= times[i - 1]!);
      if (repeat > 0) throw fail(`the joined video repeats the time ${times[repeat]} s at frame ${repeat}`);
    },
  };
}

/** The scratch folders of these tasks' joins, removed (only inside the media roots). */
export async function removeScratch(tasks: readonly TaskSpec[], roots: MediaRoots): Promise<void> {
  const folders = tasks.flatMap((t) => (t.join ? [t.join.scratch] : []));
  await Promise.all(
    folders
      .filter((f) => roots.all.some((root) => isInside(root, f)))
      .map((f) => rm(f, { recursive: true, force: true }).catch(() => {})),
  );
}
