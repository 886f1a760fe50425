/**
 * The scheduler's cost per task on a busy cluster (issue 5): JOBS small jobs (a 1 s 160x120 clip,
 * the same source for all, each job its own destination: one FFmpeg task each) over three
 * `mediaforge worker`s of MAX_CONCURRENT tasks each, on real processes on loopback with
 * `mediaforge orchestrator` (embedded PGlite, no local worker).
 *
 * The load is a closed loop of 3 × MAX_CONCURRENT clients: each submits a job, follows its event
 * stream to the end, then submits the next. The cluster is kept full but a task never waits for a
 * free slot, so the time between a task becoming ready and its dispatch is the scheduler's own:
 * waking up, reading the ready tasks and the workers, choosing, claiming, the worker's HTTP
 * answer, the event. The first round of jobs warms everything up and is not counted.
 *
 * 1. Dispatch overhead: per job, job.planned (its one task is ready) → task.dispatched, both the
 *    orchestrator's clock on its events (ms precision).
 * 2. Submit → FFmpeg spawn: each worker's `ffmpeg` is a bash wrapper that appends $EPOCHREALTIME
 *    and its argv to a file and execs the real ffmpeg; the job's spawn is the first line naming
 *    its destination (the workers' `-version`/`-encoders` runs name none), from just before the
 *    POST. The wrapper stamps a few ms late (setpriv and bash starting; calibrated and printed),
 *    never early. One job at a time on an idle system is bench/api.ts's measure; this is under load.
 *
 * Each worker runs on this machine, and on 2 cores the 3 × MAX_CONCURRENT FFmpeg processes, the
 * workers and the orchestrator share them: the figures include that contention.
 *
 * Knobs (environment): JOBS (200), MAX_CONCURRENT (1; the tasks each worker runs at once).
 * `npm run build` first: the cluster runs the built CLI. Last line:
 * `dispatch_overhead_p50_ms=.. dispatch_overhead_p99_ms=.. submit_to_spawn_p50_ms=.. submit_to_spawn_p99_ms=..`.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { JobEvent } from './cluster.js';

// Node runs this file by stripping its types, without a build; this maps the `./cluster.js`
// import to the `./cluster.ts` beside it (tsc resolves it so), as bench/api.ts does for src/.
registerHooks({
  resolve: (specifier, context, next) =>
    next(specifier === './cluster.js' ? './cluster.ts' : specifier, context),
});
const { binary, envNumber, fixed, LocalCluster, now, pct, runJob, runTool, table } = await import(
  './cluster.js'
);

const JOBS = envNumber('JOBS', 200);
const MAX_CONCURRENT = envNumber('MAX_CONCURRENT', 1);
const WORKERS = 3;
const CLIENTS = WORKERS * MAX_CONCURRENT;

interface Sample {
  token: string;
  submitted: number;
  events: JobEvent[];
}

function jobBody(token: string) {
  return {
    spec: {
      inputs: [{ id: 'in', source: 'in.mp4' }],
      outputs: [
        {
          id: 'in',
          destination: `out/${token}.mp4`,
          codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } },
        },
      ],
    },
  };
}

/** A bash script that logs `$EPOCHREALTIME argv…` to `log`, then becomes the real ffmpeg. */
function writeWrapper(path: string, log: string, ffmpeg: string): void {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeFileSync(
    path,
    `#!/bin/bash\nprintf '%s %s\\n' "$EPOCHREALTIME" "$*" >> ${q(log)}\nexec ${q(ffmpeg)} "$@"\n`,
  );
  chmodSync(path, 0o755);
}

/** Per line of the wrapper's log: its time (ms) under each token of `tokens` it names, the first only. */
function spawnTimes(log: string, tokens: ReadonlySet<string>): Map<string, number> {
  const times = new Map<string, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const at = Number(line.split(' ', 1)[0]!.replace(',', '.')) * 1000;
    for (const [uuid] of line.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g))
      if (tokens.has(uuid) && !times.has(uuid)) times.set(uuid, at);
  }
  return times;
}

/**
 * How long after spawn() the wrapper stamps its time, started as the workers start FFmpeg (through
 * setpriv where there is one): how late the spawn moments are.
 */
async function wrapperLag(wrapper: string, log: string): Promise<number> {
  const setpriv = '/usr/bin/setpriv';
  const lags: number[] = [];
  for (let i = 0; i < 10; i++) {
    const token = randomUUID();
    const args = [wrapper, '-hide_banner', '-version', token];
    const t0 = now();
    const child = existsSync(setpriv)
      ? spawn(setpriv, ['--pdeathsig', 'SIGKILL', '--', ...args], { stdio: 'ignore' })
      : spawn(args[0]!, args.slice(1), { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    const at = spawnTimes(log, new Set([token])).get(token);
    if (at !== undefined) lags.push(at - t0);
  }
  return pct(lags, 50);
}

/** The closed loop: CLIENTS clients, each with one job in flight at a time, until `total` are done. */
async function load(api: Parameters<typeof runJob>[0], total: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < total) {
        next++;
        const token = randomUUID();
        const { submitted, events } = await runJob(api, jobBody(token));
        samples.push({ token, submitted, events });
      }
    }),
  );
  return samples;
}

async function main(): Promise<void> {
  const cluster = await LocalCluster.start();
  try {
    const ffmpeg = binary('ffmpeg');
    mkdirSync(join(cluster.media, 'out'));
    runTool(ffmpeg, [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=1'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=1'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
      ...['-f', 'mp4', `file:${join(cluster.media, 'in.mp4')}`],
    ]);
    const log = join(cluster.root, 'spawns.log');
    const wrapper = join(cluster.root, 'ffmpeg');
    writeFileSync(log, '');
    writeWrapper(wrapper, log, ffmpeg);
    for (let i = 1; i <= WORKERS; i++)
      await cluster.addWorker(`w${i}`, MAX_CONCURRENT, { MEDIAFORGE_FFMPEG: wrapper });
    console.log(
      `${JOBS} jobs (1 s 160x120 → h264 ultrafast + aac, one task each) after ${CLIENTS} warm-up, ${CLIENTS} clients with one job in flight each; ${WORKERS} workers of ${MAX_CONCURRENT} task(s) on this machine's ${availableParallelism()} cores`,
    );
    const lag = await wrapperLag(wrapper, log);
    await load(cluster.api, CLIENTS);
    const t0 = now();
    const samples = await load(cluster.api, JOBS);
    const wallS = (now() - t0) / 1000;
    report(samples, spawnTimes(log, new Set(samples.map((s) => s.token))), lag, wallS);
  } finally {
    await cluster.close();
  }
}

function report(samples: Sample[], spawns: Map<string, number>, lag: number, wallS: number): void {
  const rows = new Map<string, number[]>();
  const add = (name: string, ms: number) => {
    rows.set(name, [...(rows.get(name) ?? []), ...(Number.isFinite(ms) ? [ms] : [])]);
  };
  const perWorker = new Map<string, number>();
  let redispatched = 0;
  for (const s of samples) {
    const first = (type: string) => s.events.find((e) => e.type === type);
    const [created, planned, completed] = [
      first('job.created'),
      first('job.planned'),
      first('job.completed'),
    ];
    const dispatches = s.events.filter((e) => e.type === 'task.dispatched');
    if (dispatches.length > 1) redispatched++;
    const dispatched = dispatches[0];
    const worker = String(dispatched?.data.worker);
    perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
    const spawned = spawns.get(s.token) ?? Number.NaN;
    add('created → planned', (planned?.at ?? Number.NaN) - (created?.at ?? Number.NaN));
    add('planned → dispatched (overhead)', (dispatched?.at ?? Number.NaN) - (planned?.at ?? Number.NaN));
    add('dispatched → FFmpeg spawn', spawned - (dispatched?.at ?? Number.NaN));
    add('submit → FFmpeg spawn', spawned - s.submitted);
    add('submit → completed seen', (completed?.seen ?? Number.NaN) - s.submitted);
  }
  const overhead = rows.get('planned → dispatched (overhead)') ?? [];
  const spawn = rows.get('submit → FFmpeg spawn') ?? [];
  console.log('');
  console.log(
    table([
      ['ms, over the jobs', 'n', 'p50', 'p90', 'p99', 'max'],
      ...[...rows].map(([name, xs]) => [
        name,
        String(xs.length),
        ...[50, 90, 99, 100].map((p) => fixed(pct(xs, p), 1)),
      ]),
    ]),
  );
  console.log(
    `  (created/planned/dispatched: the orchestrator's clock on the job's events, ms precision; spawn: the FFmpeg wrapper's clock, which stamps ${fixed(lag, 1)} ms (median) after spawn(); submit and completed seen: this process, just before the POST and on reading the event)`,
  );
  console.log(
    `  ${fixed(samples.length / wallS, 1)} jobs/s; tasks per worker: ${[...perWorker]
      .sort()
      .map(([w, n]) => `${w} ${n}`)
      .join(
        ', ',
      )}; jobs dispatched more than once: ${redispatched}; jobs without a spawn line: ${samples.length - spawn.length}`,
  );
  console.log(
    `dispatch_overhead_p50_ms=${fixed(pct(overhead, 50), 1)} dispatch_overhead_p99_ms=${fixed(pct(overhead, 99), 1)} submit_to_spawn_p50_ms=${fixed(pct(spawn, 50), 1)} submit_to_spawn_p99_ms=${fixed(pct(spawn, 99), 1)}`,
  );
}

await main();
