/**
 * What chunked encoding buys (issue 5): one JobSpec, a SECONDS-long SIZE clip (x264 with a
 * keyframe every 2 s exactly, B-frames, AAC, in MP4) re-encoded to H.264 veryfast + AAC, run
 *   1. unchunked (`"chunking": {"enabled": false}`) on a cluster of one worker,
 *   2. in chunks of CHUNK_SECONDS over two workers,
 *   3. the same over three workers,
 * on real processes on loopback: for each variant a fresh `mediaforge orchestrator` (embedded
 * PGlite, no local worker) and its `mediaforge worker`s of one task at a time sharing its media
 * root, each given cores / workers threads, as that many machines would each have their own. Wall time is from just before the POST to the job's completed event; speedup = unchunked
 * time / chunked time. Each output's video packets are counted with ffprobe: frames_ok says every
 * output has the source's SECONDS × 30 frames.
 *
 * Each worker runs on this machine, so more workers share the same cores: on one 2-core machine
 * x264 already keeps both busy and the speedup is about 1.0. There the bar is no loss: what
 * chunking adds (a process per chunk, the audio encoded as a task of its own, the join) must cost
 * no more than the parallel chunks save; the `tail` column is what still runs after the last chunk.
 * The gain needs workers on separate machines, which the second mode measures:
 *
 * ORCHESTRATOR=URL ADMIN_KEY=K MEDIA_ROOT_SOURCE=path: a running orchestrator and the workers
 * already enrolled there. Nothing is uploaded or generated: MEDIA_ROOT_SOURCE is a clip already in
 * that orchestrator's media root (relative to it), readable by every worker; the outputs are left
 * under `mediaforge-bench/<time>/` there. It runs the job unchunked, then once chunked over the
 * whole cluster; frames are the output's as the job reports them (its media_info), and
 * frames_ok compares the two outputs. Its last line is
 * `chunked_speedup_cluster=X workers=N frames_ok=true|false`.
 *
 * Knobs (environment): SECONDS (60), SIZE (1280x720), CHUNK_SECONDS (20: three chunks, one per worker), VERBOSE=1 (each job's
 * events with their times: where the time went), and the mode's above.
 * `npm run build` first: the cluster runs the built CLI. Last line (local):
 * `chunked_speedup_2=X chunked_speedup_3=Y frames_ok=true|false`.
 */

import { copyFileSync, rmSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Api } from './cluster.js';

// Node runs this file by stripping its types, without a build; this maps the `./cluster.js`
// import to the `./cluster.ts` beside it (tsc resolves it so), as bench/api.ts does for src/.
registerHooks({
  resolve: (specifier, context, next) =>
    next(specifier === './cluster.js' ? './cluster.ts' : specifier, context),
});
const { apiClient, binary, envNumber, fixed, LocalCluster, runJob, runTool, table, videoFrames } =
  await import('./cluster.js');

const SECONDS = envNumber('SECONDS', 60);
const SIZE = process.env.SIZE ?? '1280x720';
const CHUNK_SECONDS = envNumber('CHUNK_SECONDS', 20);
const FPS = 30;
const SOURCE = 'src.mp4';

interface Run {
  label: string;
  workers: string;
  ms: number;
  tasks: number;
  chunks: number;
  /** The workers its tasks were dispatched to. */
  ranOn: string[];
  /** From the last chunk's end to the job's: what the audio task and the join add (NaN unchunked). */
  tailMs: number;
  frames: number;
}

function jobBody(source: string, destination: string, chunkSeconds: number | null) {
  return {
    spec: {
      inputs: [{ id: 'in', source }],
      outputs: [
        {
          id: 'in',
          destination,
          codec: {
            video: { codec: 'h264', preset: 'veryfast', crf: 23 },
            audio: { codec: 'aac', bitrate: '128k' },
          },
        },
      ],
      chunking: chunkSeconds === null ? { enabled: false } : { enabled: true, chunk_seconds: chunkSeconds },
    },
  };
}

async function measure(
  api: Api,
  label: string,
  workers: string,
  body: ReturnType<typeof jobBody>,
  frames: (jobId: string) => Promise<number>,
): Promise<Run> {
  const { id, submitted, events } = await runJob(api, body);
  const dispatched = events.filter((e) => e.type === 'task.dispatched');
  // A chunk task's id ends with its number (…-c0003).
  const isChunk = (e: (typeof events)[number]) => /-c\d{4}$/.test(String(e.data.task_id));
  const chunkEnds = events.filter((e) => e.type === 'task.succeeded' && isChunk(e)).map((e) => e.at);
  const completed = events.find((e) => e.type === 'job.completed')!;
  const run: Run = {
    label,
    workers,
    ms: completed.seen - submitted,
    tasks: new Set(dispatched.map((e) => e.data.task_id)).size,
    chunks: new Set(dispatched.filter(isChunk).map((e) => e.data.task_id)).size,
    ranOn: [...new Set(dispatched.map((e) => String(e.data.worker)))].sort(),
    tailMs: chunkEnds.length > 0 ? completed.at - Math.max(...chunkEnds) : Number.NaN,
    frames: await frames(id),
  };
  console.log(
    `  ${label}: ${fixed(run.ms / 1000, 1)} s, ${run.tasks} task(s) (${run.chunks} chunks) on ${run.ranOn.join(', ')}, ${run.frames} frames`,
  );
  // Where the time went: every event of the job, ms after the first, on the orchestrator's clock.
  if (process.env.VERBOSE === '1') {
    const t0 = events[0]!.at;
    for (const e of events.filter((e) => e.type !== 'job.progress'))
      console.log(
        `    ${String(e.at - t0).padStart(6)} ms  ${e.type.padEnd(16)} ${String(e.data.task_id ?? '')
          .split(':')
          .pop()} ${e.data.worker ?? ''}`,
      );
  }
  return run;
}

function report(runs: Run[], expected: number | null): void {
  const base = runs[0]!.ms;
  console.log('');
  console.log(
    table([
      ['variant', 'workers', 'tasks', 'chunks', 'ran on', 'wall s', 'speedup', 'tail s', 'frames'],
      ...runs.map((r) => [
        r.label,
        r.workers,
        String(r.tasks),
        String(r.chunks),
        r.ranOn.join(','),
        fixed(r.ms / 1000, 1),
        fixed(base / r.ms, 2),
        fixed(r.tailMs / 1000, 1),
        String(r.frames),
      ]),
    ]),
  );
  console.log(
    `  (wall: submit → job.completed, read from the job's event stream; speedup: unchunked wall / this wall; tail: last chunk's end → the job's, on the orchestrator's clock: the audio task still running, then the join; frames: ${expected === null ? "the output's video frames as the job reports them" : `video packets by ffprobe, ${expected} expected`})`,
  );
}

/**
 * Threads for each of `n` local workers: the machine's cores split between them, as `n` machines
 * would each have their own (several x264s that each take every core only fight over them).
 * One worker takes them all (FFmpeg's default).
 */
const threadsFor = (n: number) => (n === 1 ? 0 : Math.max(1, Math.floor(availableParallelism() / n)));

async function local(): Promise<void> {
  // The source, made once; each variant gets a fresh cluster of its own workers with a copy of it.
  const scratch = await LocalCluster.start();
  const expected = SECONDS * FPS;
  let sourceFrames: number;
  let srcFile: string;
  try {
    srcFile = join(scratch.media, SOURCE);
    runTool(binary('ffmpeg'), [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=${FPS}:duration=${SECONDS}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-pix_fmt', 'yuv420p'],
      // Keyframes at exactly every 2 s: the chunk boundaries do not depend on the picture.
      ...['-g', String(2 * FPS), '-keyint_min', String(2 * FPS), '-sc_threshold', '0'],
      ...['-c:a', 'aac', '-shortest', '-f', 'mp4', `file:${srcFile}`],
    ]);
    sourceFrames = videoFrames(srcFile);
    copyFileSync(srcFile, join(tmpdir(), `mf-bench-chunked-${process.pid}.mp4`));
  } finally {
    await scratch.close();
  }
  const kept = join(tmpdir(), `mf-bench-chunked-${process.pid}.mp4`);
  console.log(
    `${SECONDS} s ${SIZE} ${FPS} fps source (${sourceFrames} frames, a keyframe every 2 s) → h264 veryfast crf 23 + aac; chunks of ${CHUNK_SECONDS} s; workers of 1 task each, all on this machine's ${availableParallelism()} cores (threads per worker: cores / workers)`,
  );
  const runs: Run[] = [];
  try {
    for (const n of [1, 2, 3]) {
      const cluster = await LocalCluster.start();
      try {
        copyFileSync(kept, join(cluster.media, SOURCE));
        for (let i = 1; i <= n; i++)
          await cluster.addWorker(`w${i}`, 1, { MEDIAFORGE_THREADS: String(threadsFor(n)) });
        const out = n === 1 ? 'out/whole.mp4' : `out/chunked-${n}.mp4`;
        runs.push(
          await measure(
            cluster.api,
            n === 1 ? 'unchunked' : `chunked ×${n}`,
            String(n),
            jobBody(SOURCE, out, n === 1 ? null : CHUNK_SECONDS),
            async () => videoFrames(join(cluster.media, out)),
          ),
        );
      } finally {
        await cluster.close();
      }
    }
  } finally {
    rmSync(kept, { force: true });
  }
  report(runs, expected);
  const ok = sourceFrames === expected && runs.every((r) => r.frames === expected);
  const [whole, two, three] = runs as [Run, Run, Run];
  console.log(
    `chunked_speedup_2=${fixed(whole.ms / two.ms, 2)} chunked_speedup_3=${fixed(whole.ms / three.ms, 2)} frames_ok=${ok}`,
  );
}

async function remote(url: string): Promise<void> {
  const key = process.env.ADMIN_KEY;
  const source = process.env.MEDIA_ROOT_SOURCE;
  if (!key || !source)
    throw new Error('with ORCHESTRATOR, set ADMIN_KEY and MEDIA_ROOT_SOURCE (a clip in its media root)');
  const api = apiClient(url.replace(/\/+$/, ''), key);
  const { data } = await api.call<{ data: Array<{ name: string; online: boolean }> }>(
    'GET',
    '/api/v1/workers',
  );
  const online = data.filter((w) => w.online).map((w) => w.name);
  if (online.length === 0) throw new Error(`no worker is online at ${url}`);
  console.log(
    `${source} at ${url} → h264 veryfast crf 23 + aac; chunks of ${CHUNK_SECONDS} s; ${online.length} worker(s) online: ${online.join(', ')}`,
  );
  // Reported by the job: no access to its files needed.
  const frames = async (jobId: string) => {
    const job = await api.call<{
      output_files: Array<{ media_info?: { streams?: Array<{ type: string; frames?: number }> } }>;
    }>('GET', `/api/v1/jobs/${jobId}`);
    return job.output_files[0]?.media_info?.streams?.find((s) => s.type === 'video')?.frames ?? Number.NaN;
  };
  const dir = `mediaforge-bench/${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const whole = await measure(
    api,
    'unchunked',
    `1 of ${online.length}`,
    jobBody(source, `${dir}/whole.mp4`, null),
    frames,
  );
  const chunked = await measure(
    api,
    'chunked, whole cluster',
    `${online.length}`,
    jobBody(source, `${dir}/chunked.mp4`, CHUNK_SECONDS),
    frames,
  );
  report([whole, chunked], null);
  console.log(`  (the outputs stay in ${dir}/ under the orchestrator's media root)`);
  const ok = Number.isFinite(whole.frames) && whole.frames === chunked.frames;
  console.log(
    `chunked_speedup_cluster=${fixed(whole.ms / chunked.ms, 2)} workers=${online.length} frames_ok=${ok}`,
  );
}

if (process.env.ORCHESTRATOR) await remote(process.env.ORCHESTRATOR);
else await local();
