/**
 * Chunked encoding through the real pipeline: the same spec encoded whole and in chunks cut at the
 * source's keyframes, compared frame for frame with ffprobe and FFmpeg's own frame hashes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { isAppError, type TaskSpec } from '../src/core/index.js';
import { runProcess } from '../src/media/index.js';
import {
  executeJob,
  executeTask,
  localTools,
  type PreparedJob,
  prepareJob,
  removeScratch,
} from '../src/pipeline/index.js';
import { mediaRoots } from '../src/storage/index.js';
import {
  countFrames,
  keyframedClip,
  listFiles,
  probeFile,
  runSpec,
  tempRoot,
  testBinaries,
  videoPacketTimes,
} from './helpers/pipeline.js';

const FPS = 30;
const SECONDS = 20;

/** ffprobe's words on one stream of a file: `key=value` pairs, video or audio. */
async function streamFacts(path: string, stream: 'v:0' | 'a:0'): Promise<Record<string, string>> {
  const r = await runProcess(
    (await testBinaries()).ffprobe.path,
    [
      '-v',
      'error',
      '-select_streams',
      stream,
      '-show_entries',
      'stream=duration,start_time',
      '-of',
      'default=nw=1',
      `file:${path}`,
    ],
    { timeoutMs: 60_000 },
  );
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
}

/** FFmpeg's hash of every decoded picture, in order: equal lists are the same frames. */
async function frameHashes(path: string): Promise<string[]> {
  const r = await runProcess(
    (await testBinaries()).ffmpeg.path,
    ['-v', 'error', '-nostdin', '-i', `file:${path}`, '-map', '0:v:0', '-f', 'framemd5', '-'],
    { timeoutMs: 120_000, maxStdoutBytes: 16 * 1024 * 1024 },
  );
  return r.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(',').at(-1)!.trim());
}

function spec(destination: string, extra: Record<string, unknown> = {}, operations: unknown[] = []) {
  return {
    inputs: [{ id: 'src', source: 'src.mp4' }],
    operations,
    outputs: [
      {
        id: operations.length > 0 ? 'out' : 'src',
        destination,
        codec: {
          video: { codec: 'h264', preset: 'veryfast', crf: 26 },
          audio: { codec: 'aac', bitrate: '96k' },
        },
      },
    ],
    ...extra,
  };
}

/** Validated, probed and planned, as `mediaforge run` does before it runs: with the tools it used. */
async function prepared(root: string, doc: unknown, idleWorkers?: number) {
  const config = loadConfig('run', { env: {}, overrides: { media_root: root } });
  const tools = localTools(config, await testBinaries());
  const roots = mediaRoots(root);
  const limits = { maxPixels: config.max_pixels, maxSeconds: config.max_input_seconds };
  const job = await prepareJob(doc, {
    roots,
    tools,
    limits,
    ...(idleWorkers === undefined ? {} : { idleWorkers }),
  });
  return { job, tools, roots };
}

const chunking = { chunking: { enabled: true, chunk_seconds: 4 } };

describe('chunked encoding', () => {
  let root: string;
  beforeAll(async () => {
    root = tempRoot();
    await keyframedClip(join(root, 'src.mp4'), { seconds: SECONDS, fps: FPS });
  });

  it('same frame count as the unchunked encode, duration ±1 frame, the same frame times, audio once', async () => {
    await runSpec(spec('whole.mp4'), root);
    let plan: PreparedJob['plan'] | undefined;
    await runSpec(spec('chunked.mp4', chunking), root, { onPrepared: (j) => (plan = j.plan) });

    expect(plan!.tasks.map((t) => t.kind)).toEqual([
      'audio',
      'chunk',
      'chunk',
      'chunk',
      'chunk',
      'chunk',
      'join',
    ]);
    expect(plan!.tasks.filter((t) => t.kind === 'chunk').map((t) => t.range!.frames)).toEqual([
      120, 120, 120, 120, 120,
    ]);
    expect(plan!.notes[0]).toMatch(/^chunked: 5 video chunks of about 4 s/);

    const whole = join(root, 'whole.mp4');
    const chunked = join(root, 'chunked.mp4');
    expect(await countFrames(chunked)).toBe(SECONDS * FPS);
    expect(await countFrames(chunked)).toBe(await countFrames(whole));
    const [w, c] = [await probeFile(whole), await probeFile(chunked)];
    expect(c.streams.map((s) => [s.type, s.codec])).toEqual([
      ['video', 'h264'],
      ['audio', 'aac'],
    ]);
    expect(Math.abs(c.streams[0]!.duration! - w.streams[0]!.duration!)).toBeLessThanOrEqual(1 / FPS);

    // Every frame once, at the time it has in the whole encode: none repeated or lost at a join.
    const [wt, ct] = [await videoPacketTimes(whole), await videoPacketTimes(chunked)];
    expect(ct.length).toBe(wt.length);
    for (let i = 1; i < ct.length; i++) expect(ct[i]!).toBeGreaterThan(ct[i - 1]!);
    expect(ct.map((t, i) => Math.abs(t - wt[i]!)).every((d) => d < 0.001)).toBe(true);

    const [wa, ca] = [await streamFacts(whole, 'a:0'), await streamFacts(chunked, 'a:0')];
    expect(Number(ca.duration)).toBeCloseTo(Number(wa.duration), 2);
    expect(Number(ca.start_time)).toBeCloseTo(Number(wa.start_time), 3);

    // The scratch folder went with the join: nothing but the source and the two results.
    expect(listFiles(root)).toEqual(['chunked.mp4', 'src.mp4', 'whole.mp4']);
    expect(existsSync(plan!.tasks.at(-1)!.join!.scratch)).toBe(false);
  });

  it('with a filter (scale), the decoded frames are those of the unchunked encode, one for one', async () => {
    // Lossless (crf 0), so equal hashes mean equal frames: a frame repeated or lost at a join would shift them.
    const scaled = (destination: string, extra: Record<string, unknown> = {}) => ({
      ...spec(destination, extra, [{ op: 'scale', input: 'src', output: 'out', params: { width: 320 } }]),
      outputs: [
        {
          id: 'out',
          destination,
          codec: { video: { codec: 'h264', preset: 'ultrafast', crf: 0 }, audio: { codec: 'aac' } },
        },
      ],
    });
    await runSpec(scaled('small-whole.mkv'), root);
    await runSpec(scaled('small-chunked.mkv', { chunking: { enabled: true, chunk_seconds: 6 } }), root);
    const info = await probeFile(join(root, 'small-chunked.mkv'));
    expect(info.streams[0]).toMatchObject({ width: 320, height: 180 });
    const [w, c] = [
      await frameHashes(join(root, 'small-whole.mkv')),
      await frameHashes(join(root, 'small-chunked.mkv')),
    ];
    expect(c.length).toBe(SECONDS * FPS);
    expect(c).toEqual(w);
    expect(listFiles(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('is refused with a note, not an error, when an operation needs the whole timeline (trim)', async () => {
    let plan: PreparedJob['plan'] | undefined;
    await runSpec(
      spec('trimmed.mp4', chunking, [
        { op: 'trim', input: 'src', output: 'out', params: { start: 2, duration: 6 } },
      ]),
      root,
      { onPrepared: (j) => (plan = j.plan) },
    );
    expect(plan!.tasks.map((t) => t.kind)).toEqual(['transcode']);
    expect(plan!.notes).toEqual(['not chunked: trim is not chunk-safe (it needs the whole timeline)']);
    expect(await countFrames(join(root, 'trimmed.mp4'))).toBe(6 * FPS);
  });

  it('a chunk whose run was stopped runs again alone, and the join takes it', async () => {
    const { job, tools, roots } = await prepared(root, spec('retried.mp4', chunking));
    const run = (t: TaskSpec, signal?: AbortSignal, via = tools) =>
      executeTask(t, { roots, tools: via, analysis: {}, tempTag: t.id, ...(signal ? { signal } : {}) });
    const [first, second] = job.plan.tasks.filter((t) => t.kind === 'chunk');
    const rest = job.plan.tasks.filter((t) => t !== first && t !== second);

    // The second chunk's worker goes away mid-encode (stopped as soon as its FFmpeg starts): nothing of it counts.
    const stop = new AbortController();
    const stopping = {
      ...tools,
      run: (args: readonly string[], opts: Parameters<typeof tools.run>[1]) => {
        const running = tools.run(args, opts);
        setImmediate(() => stop.abort());
        return running;
      },
    };
    const e = await run(second!, stop.signal, stopping).then(
      () => null,
      (err: unknown) => err,
    );
    expect(isAppError(e) && e.code).toBe('cancelled');
    const scratch = job.plan.tasks.at(-1)!.join!.scratch;
    expect(existsSync(join(scratch, 'chunk-0001.nut'))).toBe(false);

    // The join cannot start without it.
    await run(first!);
    for (const t of rest.filter((t) => t.kind !== 'join')) await run(t);
    const early = await run(job.plan.tasks.at(-1)!).then(
      () => null,
      (err: unknown) => err,
    );
    expect(isAppError(early) && early.code).toBe('output_verification_failed');
    expect((early as Error).message).toMatch(/chunk-0001\.nut/);

    // Run again, alone: then the join makes the whole file.
    expect((await run(second!)).outputs).toEqual([]);
    const joined = await run(job.plan.tasks.at(-1)!);
    expect(joined.outputs.map((o) => o.files)).toEqual([[join(root, 'retried.mp4')]]);
    expect(await countFrames(join(root, 'retried.mp4'))).toBe(SECONDS * FPS);
    // The pieces stay until the job has ended (a join taken back would need them again); then the
    // orchestrator removes them, as here.
    expect(existsSync(join(scratch, 'chunk-0001.nut'))).toBe(true);
    await removeScratch(job.plan.tasks, roots);
    expect(existsSync(scratch)).toBe(false);
  });

  it('is chosen when several workers are idle and the input is long, unless the spec says no', async () => {
    const long = tempRoot();
    // 150 s, small and quick to make: a keyframe every 10 s, silent audio.
    const make = [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10:duration=150'],
      ...['-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '150'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '100', '-c:a', 'aac'],
      ...['-f', 'mp4', `file:${join(long, 'src.mp4')}`],
    ];
    const r = await runProcess((await testBinaries()).ffmpeg.path, make, { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const prepare = async (extra: Record<string, unknown>, idleWorkers: number) =>
      (await prepared(long, spec('out.mp4', extra), idleWorkers)).job;

    const chosen = await prepare({}, 3);
    expect(chosen.plan.notes[0]).toMatch(/^chunked \(chosen by the orchestrator/);
    expect(chosen.plan.tasks.filter((t) => t.kind === 'chunk')).toHaveLength(5); // 150 s in chunks of about 30 s
    expect((await prepare({}, 1)).plan.notes).toEqual([]);
    expect((await prepare({ chunking: { enabled: false } }, 3)).plan.tasks.map((t) => t.kind)).toEqual([
      'transcode',
    ]);
  });

  it('a local run that fails leaves no scratch folder', async () => {
    const { job, tools, roots } = await prepared(root, spec('failed.mp4', chunking));
    // The audio piece cannot be encoded here: the run fails after the chunks were written.
    const failing = { ...tools, encoders: async () => new Set(['libx264']) };
    const e = await executeJob(job, { roots, tools: failing }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(isAppError(e) && e.code).toBe('encoder_unavailable');
    expect(existsSync(job.plan.tasks.at(-1)!.join!.scratch)).toBe(false);
    expect(existsSync(join(root, 'failed.mp4'))).toBe(false);
  });
});
