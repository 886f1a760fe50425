/**
 * Spec → plan: validate, resolve every location under the media roots, probe the inputs, admit
 * them (allowed demuxers, size limits), then plan. Nothing is written here, so a bad job fails
 * with nothing on disk.
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import {
  AppError,
  admitInput,
  CHUNK_SECONDS_DEFAULT,
  type ChunkRequest,
  chunkBlocker,
  chunkSource,
  type FfmpegVersion,
  type Issue,
  indexPackets,
  isAppError,
  type JobSpec,
  type MediaInfo,
  type Plan,
  planJob,
  type StreamMeta,
  shouldChunk,
  streamMetaOf,
  type ValidSpec,
  validateJobSpec,
  validationError,
  versionProblems,
  writtenFiles,
} from '../core/index.js';
import { confirmSource, fileIdentity, type MediaRoots, resolveLocation } from '../storage/index.js';
import type { MediaTools } from './tools.js';

export interface PrepareContext {
  roots: MediaRoots;
  tools: MediaTools;
  limits: { maxPixels: number; maxSeconds: number };
  /** The FFmpeg that will run the job, when known: features it lacks are refused up front. */
  ffmpegVersion?: FfmpegVersion | null;
  /**
   * Workers idle now (the orchestrator knows): with several of them and a long input, a job that
   * did not say may be chunked. Without it, only a job that asks is.
   */
  idleWorkers?: number;
  signal?: AbortSignal;
}

export interface PreparedJob {
  spec: JobSpec;
  plan: Plan;
  probes: Map<string, MediaInfo>;
}

/** `{spec: {...}}` as the API takes it, or a bare spec as files often hold it. */
export function unwrapSpec(doc: unknown): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new AppError('invalid_request', 'a job must be a JSON object');
  if ('spec' in doc) {
    const spec = (doc as { spec: unknown }).spec;
    if (spec === null || spec === undefined) throw new AppError('missing_spec', 'the job has no spec');
    return spec;
  }
  if ('inputs' in doc || 'outputs' in doc || 'operations' in doc) return doc;
  throw new AppError(
    'missing_spec',
    'the job has no spec (expected {"spec": {"inputs": [...], "operations": [...], "outputs": [...]}})',
  );
}

export async function prepareJob(doc: unknown, ctx: PrepareContext): Promise<PreparedJob> {
  const validation = validateJobSpec(unwrapSpec(doc));
  if (!validation.ok) throw validationError(validation.issues);
  const { spec } = validation.value;
  const tooOld = versionProblems(validation.value, ctx.ffmpegVersion ?? null);
  if (tooOld.length > 0) {
    throw new AppError(
      'ffmpeg_too_old',
      `${tooOld.join('; ')}. Install a current FFmpeg (apt-get install ffmpeg, brew install ffmpeg) or set MEDIAFORGE_FFMPEG.`,
    );
  }

  const issues: Issue[] = [];
  const inputPaths = new Map<string, string>();
  spec.inputs.forEach((inp, i) => {
    const r = resolveLocation(inp.source, ctx.roots, `inputs[${i}].source`);
    if ('issue' in r) issues.push(r.issue);
    else inputPaths.set(inp.id, r.path);
  });
  const outputPaths: string[] = [];
  spec.outputs.forEach((out, j) => {
    const r = resolveLocation(out.destination, ctx.roots, `outputs[${j}].destination`);
    if ('issue' in r) {
      issues.push(r.issue);
      return;
    }
    if ([...inputPaths.values()].includes(r.path)) {
      issues.push({
        path: `outputs[${j}].destination`,
        code: 'invalid_value',
        message: 'would overwrite an input',
      });
    }
    // The graph compares destinations as written; `out.mp4` and `./out.mp4` are one file too.
    const prior = outputPaths.indexOf(r.path);
    if (prior >= 0) {
      issues.push({
        path: `outputs[${j}].destination`,
        code: 'duplicate_id',
        message: `outputs[${prior}] writes the same destination`,
      });
    }
    outputPaths[j] = r.path;
  });
  if (issues.length > 0) throw validationError(issues);

  for (const inp of spec.inputs)
    inputPaths.set(inp.id, await confirmSource(inputPaths.get(inp.id)!, ctx.roots));
  // The names differ, the file may not: a symlink, a hard link or a linked folder can lead an
  // output onto an input, which the rename into place would replace.
  const inputFiles = new Set(await Promise.all([...inputPaths.values()].map(fileIdentity)));
  for (const [j, p] of outputPaths.entries()) {
    const id = await fileIdentity(p);
    if (id !== null && inputFiles.has(id))
      issues.push({
        path: `outputs[${j}].destination`,
        code: 'invalid_value',
        message: 'would overwrite an input (the same file through a link)',
      });
  }
  if (issues.length > 0) throw validationError(issues);

  const probes = new Map<string, MediaInfo>();
  const metas = new Map<string, StreamMeta>();
  for (const [i, inp] of spec.inputs.entries()) {
    const where = `inputs[${i}] (${inp.source})`;
    const real = inputPaths.get(inp.id)!;
    let info: MediaInfo;
    try {
      info = await ctx.tools.probeInput(real, ctx.signal);
    } catch (e) {
      if (e instanceof AppError) throw new AppError(e.code, `${where}: ${e.message}`, { cause: e });
      throw e;
    }
    admitInput(info, where, ctx.limits);
    probes.set(inp.id, info);
    metas.set(inp.id, streamMetaOf(info));
  }

  const chunking = await chunkRequest(validation.value, metas, inputPaths, ctx);
  const planning = planJob(validation.value, metas, { inputs: inputPaths, outputs: outputPaths }, chunking);
  if (!planning.ok) throw validationError(planning.issues);
  await checkWrittenFiles(planning.plan, outputPaths, inputFiles);
  return { spec, plan: planning.plan, probes };
}

/**
 * Whether to chunk, and the source's keyframes when so: asked by the spec, or chosen when the
 * orchestrator has idle workers and the input is long. The keyframes are read only then (a demux
 * of the whole input); when they cannot be read the job runs whole, with a note, not an error.
 */
async function chunkRequest(
  valid: ValidSpec,
  metas: ReadonlyMap<string, StreamMeta>,
  inputPaths: ReadonlyMap<string, string>,
  ctx: PrepareContext,
): Promise<ChunkRequest | undefined> {
  const asked = valid.spec.chunking;
  const source = chunkSource(valid);
  // Not asked: only a job that may be split is, and no note says why another is not.
  const auto =
    asked === undefined &&
    source !== null &&
    ctx.idleWorkers !== undefined &&
    chunkBlocker(valid) === null &&
    shouldChunk({
      durationSeconds: metas.get(source)!.duration,
      idleWorkers: ctx.idleWorkers,
      chunkSeconds: CHUNK_SECONDS_DEFAULT,
    });
  if (!asked?.enabled && !auto) return undefined;
  const request: ChunkRequest = {
    chunkSeconds: asked?.chunk_seconds ?? CHUNK_SECONDS_DEFAULT,
    index: null,
    tag: randomBytes(4).toString('hex'),
    ...(auto ? { auto: true } : {}),
  };
  const meta = source === null ? undefined : metas.get(source);
  if (source === null || !meta?.video || meta.still) return request; // the planner says why
  try {
    const { packets, startTime } = await ctx.tools.videoPackets(inputPaths.get(source)!, ctx.signal);
    request.index = indexPackets(packets, startTime);
  } catch (e) {
    if (isAppError(e) && e.code === 'cancelled') throw e;
    request.indexProblem = `the input's keyframes could not be read (${(e as Error).message})`;
  }
  return request;
}

/**
 * The files an output writes besides its destination (a series' numbered pictures, a sprite's
 * WebVTT) are known only once planned: each must not be an input, nor what another output writes.
 */
async function checkWrittenFiles(
  plan: Plan,
  destinations: readonly string[],
  inputFiles: ReadonlySet<string | null>,
): Promise<void> {
  const issues: Issue[] = [];
  const writer = new Map(destinations.map((p, j) => [p, j]));
  for (const out of plan.tasks.flatMap((t) => t.outputs)) {
    const at = `outputs[${out.index}].destination`;
    for (const f of writtenFiles(out)) {
      if (f === out.path) continue; // checked with the destinations
      const prior = writer.get(f);
      if (prior !== undefined && prior !== out.index)
        issues.push({
          path: at,
          code: 'duplicate_id',
          message: `outputs[${prior}] writes ${basename(f)} too`,
        });
      writer.set(f, out.index);
      const id = await fileIdentity(f); // inputs exist: an input at this name has its identity
      if (id !== null && inputFiles.has(id))
        issues.push({ path: at, code: 'invalid_value', message: `${basename(f)} would overwrite an input` });
    }
  }
  if (issues.length > 0) throw validationError(issues);
}
