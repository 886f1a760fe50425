/**
 * One file split across a cluster on loopback: an orchestrator in this process and three
 * `mediaforge worker` child processes sharing its media root. The chunks of one output run on all
 * three at once; the join gives the frames of the unchunked encode, and a chunk whose worker is
 * killed runs again alone.
 */
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from './helpers/db.js';
import { callApi, startTestOrchestrator, type TestOrchestrator, waitForJob } from './helpers/orchestrator.js';
import { countFrames, keyframedClip, probeFile, tempRoot, videoPacketTimes } from './helpers/pipeline.js';
import { eventually, readEvents } from './helpers/up-process.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

const FPS = 25;
const SECONDS = 16;

let t: TestOrchestrator;
const workers: WorkerProcess[] = [];

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(t, method, path, body, headers);

function spec(destination: string, chunkSeconds?: number, preset = 'veryfast') {
  return {
    spec: {
      inputs: [{ id: 'in', source: 'src.mp4' }],
      operations: [{ op: 'scale', input: 'in', output: 'small', params: { width: 320 } }],
      outputs: [
        {
          id: 'small',
          destination,
          codec: { video: { codec: 'h264', preset, crf: 28 }, audio: { codec: 'aac' } },
        },
      ],
      ...(chunkSeconds ? { chunking: { enabled: true, chunk_seconds: chunkSeconds } } : {}),
    },
  };
}

type JobEvent = Awaited<ReturnType<typeof readEvents>>[number];
const dispatchedChunks = (events: JobEvent[]) =>
  events.filter((e) => e.type === 'task.dispatched' && /-c\d{4}$/.test(String(e.data.task_id)));

beforeAll(async () => {
  t = await startTestOrchestrator(TEST_DATABASES[0]!, {
    worker: false,
    settings: { worker_timeout_seconds: 10 },
  });
  await mkdir(join(t.root, 'out'), { recursive: true });
  await keyframedClip(join(t.root, 'src.mp4'), { seconds: SECONDS, fps: FPS });
  for (const name of ['w1', 'w2', 'w3']) {
    const token = (await api('POST', '/api/v1/worker-tokens', { name })).body.token as string;
    workers.push(
      await startWorkerProcess({
        orchestrator: t.url,
        token,
        dataDir: tempRoot(`mf-${name}-`),
        mediaRoot: t.root,
        name,
        maxConcurrent: 1,
      }),
    );
  }
  // All three online before any job: the first dispatch round sees the whole cluster.
  await eventually('three workers online', async () => {
    const list = (await api('GET', '/api/v1/workers')).body.data as Array<{ online: boolean }>;
    return list.filter((w) => w.online).length === 3 ? true : undefined;
  });
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.child.exited));
  await t?.close();
});

describe('chunked encoding over three workers', () => {
  it('the chunks run on all three; the join has the frames of the unchunked encode, duration ±1 frame', async () => {
    const whole = await api('POST', '/api/v1/jobs', spec('out/whole.mp4'));
    expect(whole.status).toBe(201);
    expect((await waitForJob(t.app, t.admin, whole.body.job_id, 120_000)).status).toBe('completed');

    const job = await api('POST', '/api/v1/jobs', spec('out/chunked.mp4', 2));
    expect(job.status).toBe(201);
    const done = await waitForJob(t.app, t.admin, job.body.job_id, 180_000);
    expect(done.status).toBe('completed');
    expect((done.progress as { overall_percent: number }).overall_percent).toBe(100);

    const logs = (await api('GET', `/api/v1/jobs/${job.body.job_id}/logs`)).body.logs as Array<{
      message: string;
    }>;
    expect(logs.map((l) => l.message)).toContain(
      'chunked: 8 video chunks of about 2 s cut at source keyframes, the audio encoded once, then joined by stream copy',
    );
    const plan = await api('GET', `/api/v1/jobs/${job.body.job_id}/plan`);
    expect(plan.body.notes).toEqual([logs.find((l) => l.message.startsWith('chunked'))!.message]);
    const events = await readEvents(`${t.url}/api/v1/jobs/${job.body.job_id}/events`, t.admin);
    const chunks = dispatchedChunks(events);
    expect(chunks).toHaveLength(8);
    // Three idle workers of one slot each: the first round alone hands a chunk to every one.
    expect(new Set(chunks.map((e) => e.data.worker))).toEqual(new Set(['w1', 'w2', 'w3']));

    const [w, c] = [join(t.root, 'out/whole.mp4'), join(t.root, 'out/chunked.mp4')];
    expect(await countFrames(c)).toBe(SECONDS * FPS);
    expect(await countFrames(c)).toBe(await countFrames(w));
    const [wi, ci] = [await probeFile(w), await probeFile(c)];
    expect(ci.streams.map((s) => [s.type, s.codec, s.width ?? null])).toEqual([
      ['video', 'h264', 320],
      ['audio', 'aac', null],
    ]);
    expect(Math.abs(ci.streams[0]!.duration! - wi.streams[0]!.duration!)).toBeLessThanOrEqual(1 / FPS);
    // Every frame once, where the whole encode has it: none repeated or lost at a join.
    const [wt, ct] = [await videoPacketTimes(w), await videoPacketTimes(c)];
    expect(ct.map((x, i) => Math.abs(x - wt[i]!)).every((d) => d < 0.001)).toBe(true);
    // The scratch folder went with the join.
    expect(readdirSync(join(t.root, 'out')).sort()).toEqual(['chunked.mp4', 'whole.mp4']);
  }, 300_000);

  it('a worker killed mid-chunk: only its chunk runs again, elsewhere, and the output is whole', async () => {
    // A slow preset, and a chunk not yet half done: it cannot finish before the kill lands.
    const job = await api('POST', '/api/v1/jobs', spec('out/healed.mp4', 4, 'veryslow'));
    expect(job.status).toBe(201);
    const id = job.body.job_id as string;
    const victim = await eventually('a worker running a chunk', async () => {
      const list = (await api('GET', '/api/v1/workers')).body.data as Array<{
        id: string;
        active_tasks: Array<{
          job_id: string;
          task_id: string;
          state: string;
          progress: { percent: number | null } | null;
        }>;
      }>;
      for (const w of list) {
        const a = w.active_tasks.find(
          (a) =>
            a.job_id === id &&
            a.state === 'running' &&
            /-c\d{4}$/.test(a.task_id) &&
            (a.progress?.percent ?? 0) < 50,
        );
        if (a) return { id: w.id, task: a.task_id };
      }
      return undefined;
    });
    const proc = workers.find((w) => w.id === victim.id)!;
    proc.child.kill('SIGKILL');
    await proc.child.exited;

    const done = await waitForJob(t.app, t.admin, id, 180_000);
    expect(done.status).toBe('completed');
    const events = await readEvents(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    const requeued = events.filter((e) => e.type === 'task.requeued');
    expect(requeued.map((e) => [e.data.task_id, e.data.reason])).toEqual([[victim.task, 'worker_lost']]);
    // Each of the four chunks dispatched once, the lost one twice; its second run not on the dead worker.
    const chunks = dispatchedChunks(events);
    expect(chunks).toHaveLength(5);
    const again = chunks.filter((e) => e.data.task_id === victim.task);
    expect(again).toHaveLength(2);
    expect(again[1]!.data.worker).not.toBe(again[0]!.data.worker);

    const out = join(t.root, 'out/healed.mp4');
    expect(await countFrames(out)).toBe(SECONDS * FPS);
    const times = await videoPacketTimes(out);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    // Nothing else in the folder: no scratch folder, no piece of the killed run.
    expect(readdirSync(join(t.root, 'out')).sort()).toEqual(['chunked.mp4', 'healed.mp4', 'whole.mp4']);
  }, 300_000);
});
