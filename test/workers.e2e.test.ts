/**
 * A cluster on loopback: an orchestrator in this process, `mediaforge worker` child processes on
 * their own ports sharing its media root. Enrolment and auth on both sides, spreading work within
 * each worker's capacity (429 → the next one), and a worker killed with SIGKILL mid-task.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from './helpers/db.js';
import {
  callApi,
  simpleSpec,
  startTestOrchestrator,
  type TestOrchestrator,
  waitForJob,
} from './helpers/orchestrator.js';
import { probeFile } from './helpers/pipeline.js';
import { eventually, readEvents } from './helpers/up-process.js';
import { enrolWorker, type WorkerProcess } from './helpers/worker-process.js';

let t: TestOrchestrator;
const workers: WorkerProcess[] = [];

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(t, method, path, body, headers);

async function worker(name: string, maxConcurrent: number): Promise<WorkerProcess> {
  const w = await enrolWorker(t, name, { maxConcurrent });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  t = await startTestOrchestrator(TEST_DATABASES[0]!, {
    worker: false,
    settings: { worker_timeout_seconds: 10 },
  });
  await mkdir(join(t.root, 'out'), { recursive: true });
}, 60_000);

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.child.exited));
  await t?.close();
});

describe('workers', () => {
  it('enrol with a token, show in the registry, run a job; every call is authenticated', async () => {
    const w = await worker('alpha', 1);
    const listed = await api('GET', '/api/v1/workers');
    expect(listed.status).toBe(200);
    const me = listed.body.data.find((x: { id: string }) => x.id === w.id);
    expect(me).toMatchObject({ name: 'alpha', online: true, status: 'idle', max_concurrent: 1 });
    // It read the marker the orchestrator keeps at the top of its root: the same storage.
    expect(me.capabilities.shared_roots).toEqual([t.root]);
    expect(me.capabilities.encoders.map((e: { name: string }) => e.name)).toContain('libx264');

    await t.clip('a.mp4', 2);
    const job = await api('POST', '/api/v1/jobs', simpleSpec('a.mp4', 'out/a-small.mp4'));
    expect(job.status).toBe(201);
    const done = await waitForJob(t.app, t.admin, job.body.job_id, 60_000);
    expect(done.status).toBe('completed');
    const info = await probeFile(join(t.root, 'out/a-small.mp4'));
    expect(info.streams.find((s) => s.type === 'video')).toMatchObject({ codec: 'h264', width: 160 });

    // Orchestrator side: no credential, a bad one, or speaking for another worker.
    expect(
      (await api('POST', '/api/v1/workers', { name: 'x', url: null, max_concurrent: 1 }, {})).status,
    ).toBe(401);
    expect(
      (await api('POST', `/api/v1/workers/${w.id}/heartbeat`, {}, { authorization: 'Bearer mfw_nope' }))
        .status,
    ).toBe(401);
    // A worker's secret reports only on its own tasks (here: another worker's path is refused).
    const other = await api(
      'POST',
      '/api/v1/workers/w-someoneelse/heartbeat',
      {},
      { authorization: 'Bearer mfw_nope' },
    );
    expect(other.status).toBe(401);
    // Worker side: its API wants the orchestrator's call secret.
    const direct = await fetch(`${w.url}/v1/jobs`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(direct.status).toBe(401);
    expect(
      (await fetch(`${w.url}/v1/status`, { headers: { authorization: 'Bearer mfc_wrong' } })).status,
    ).toBe(401);
    expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it("spreads tasks within each worker's capacity; a worker at capacity answers 429 and the next one gets it", async () => {
    // The jobs wait first (the worker of the first test is drained), so the scheduler meets a
    // full queue: `small` is offered more than it takes, deterministically.
    for (const w of workers)
      expect((await api('PATCH', `/api/v1/workers/${w.id}`, { draining: true })).status).toBe(200);
    // Long enough that tasks overlap: the scheduler must fill the workers, not one after another.
    const clip = join(t.root, await t.clip('s.mp4', 20));
    for (let i = 0; i < 12; i++) await copyFile(clip, join(t.root, `s${i}.mp4`));
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await api('POST', '/api/v1/jobs', simpleSpec(`s${i}.mp4`, `out/s${i}.mp4`))).body.job_id);
    await eventually('all 12 planned and waiting', async () => {
      const stages = await Promise.all(
        ids.map(async (id) => (await api('GET', `/api/v1/jobs/${id}`)).body.stage),
      );
      return stages.every((s) => s === 'queued') ? true : undefined;
    });
    const busyAnswers = async (w: WorkerProcess) =>
      Number(
        /mediaforge_worker_dispatches_total\{answer="busy"\} (\d+)/.exec(
          await (await fetch(`${w.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    // What each worker really runs at once, from its own gauge (the registry counts a task from
    // its claim, a moment before a refusing worker's 429 hands it back).
    const metric = async (w: WorkerProcess, re: RegExp) =>
      Number(re.exec(await (await fetch(`${w.url}/metrics`)).text())?.[1] ?? 0);
    const cluster: WorkerProcess[] = [];
    const peak = new Map<WorkerProcess, number>();
    let finished = false;
    const watch = (async () => {
      while (!finished) {
        for (const w of cluster)
          peak.set(w, Math.max(peak.get(w) ?? 0, await metric(w, /mediaforge_worker_tasks_running (\d+)/)));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // The registry is told `small` takes 3 at once; it takes 1: it must say 429, not run 3.
    const small = await worker('small', 1);
    cluster.push(small);
    expect((await api('PATCH', `/api/v1/workers/${small.id}`, { max_concurrent: 3 })).status).toBe(200);
    await eventually('small answered busy', async () => ((await busyAnswers(small)) > 0 ? true : undefined));
    const medium = await worker('medium', 2);
    const large = await worker('large', 3);
    cluster.push(medium, large);
    const jobs = await Promise.all(ids.map((id) => waitForJob(t.app, t.admin, id, 180_000)));
    finished = true;
    await watch;
    expect(jobs.map((j) => j.status)).toEqual(Array(12).fill('completed'));
    // Never more at once than each really takes: small 1 (its override said 3), medium 2, large 3.
    expect(peak.get(small)).toBe(1);
    expect(peak.get(medium)).toBeLessThanOrEqual(2);
    expect(peak.get(large)).toBeLessThanOrEqual(3);
    // Every one took work.
    for (const w of cluster)
      expect(
        await metric(w, /mediaforge_worker_dispatches_total\{answer="accepted"\} (\d+)/),
      ).toBeGreaterThan(0);
  }, 240_000);

  it('a worker killed with SIGKILL mid-task: the task runs elsewhere, the job completes with one output', async () => {
    await t.clip('long.mp4', 30);
    const job = await api('POST', '/api/v1/jobs', simpleSpec('long.mp4', 'out/long-small.mp4'));
    const id = job.body.job_id as string;
    const victim = await eventually('a worker running the task', async () => {
      const list = (await api('GET', '/api/v1/workers')).body.data as Array<{
        id: string;
        active_tasks: Array<{ job_id: string; state: string }>;
      }>;
      return list.find((w) => w.active_tasks.some((a) => a.job_id === id && a.state === 'running'))?.id;
    });
    const proc = workers.find((w) => w.id === victim)!;
    proc.child.kill('SIGKILL');
    await proc.child.exited;
    const done = await waitForJob(t.app, t.admin, id, 120_000);
    expect(done.status).toBe('completed');
    const info = await probeFile(join(t.root, 'out/long-small.mp4'));
    expect(info.format.duration).toBeGreaterThan(29);
    const events = await readEvents(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    const requeued = events.filter((e) => e.type === 'task.requeued');
    expect(requeued.map((e) => e.data.reason)).toEqual(['worker_lost']);
    const dispatched = events.filter((e) => e.type === 'task.dispatched').map((e) => e.data.worker);
    expect(dispatched).toHaveLength(2);
    expect(dispatched[0]).not.toBe(dispatched[1]);
    expect((await api('GET', `/api/v1/workers/${victim}`)).body).toMatchObject({
      state: 'offline',
      online: false,
    });
  }, 240_000);

  it('a job that asks for a label waits, saying why, until an admin gives a worker that label', async () => {
    const w = await worker('plain', 1);
    const body = { spec: { ...simpleSpec('a.mp4', 'out/placed.mp4').spec, placement: { labels: ['gpu'] } } };
    const job = await api('POST', '/api/v1/jobs', body);
    expect(job.status).toBe(201);
    const id = job.body.job_id as string;
    await eventually('the job waits for the label', async () => {
      const logs = (await api('GET', `/api/v1/jobs/${id}/logs`)).body.logs as Array<{ message: string }>;
      return logs.some((l) => l.message === 'waiting for a worker labelled gpu') ? true : undefined;
    });
    expect((await api('GET', `/api/v1/jobs/${id}`)).body.status).toBe('pending');
    expect((await api('PATCH', `/api/v1/workers/${w.id}`, { labels: ['gpu'] })).status).toBe(200);
    expect((await waitForJob(t.app, t.admin, id, 60_000)).status).toBe('completed');
    const events = await readEvents(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    expect(events.filter((e) => e.type === 'task.dispatched').map((e) => e.data.worker)).toEqual(['plain']);
  }, 120_000);
});
