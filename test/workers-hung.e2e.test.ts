/**
 * A hung FFmpeg on a worker that is otherwise fine (it heartbeats): no progress for
 * hung_task_seconds, so the orchestrator has the worker stop it and runs the task elsewhere.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from './helpers/db.js';
import {
  callApi,
  simpleSpec,
  startTestOrchestrator,
  type TestOrchestrator,
  waitForJob,
} from './helpers/orchestrator.js';
import { probeFile, tempRoot } from './helpers/pipeline.js';
import { eventually, readEvents } from './helpers/up-process.js';
import { childProcesses, enrolWorker, hangingFfmpeg, type WorkerProcess } from './helpers/worker-process.js';

let t: TestOrchestrator;
const workers: WorkerProcess[] = [];
const api = (method: string, path: string, body?: unknown) => callApi(t, method, path, body);

async function worker(name: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const w = await enrolWorker(t, name, { env });
  workers.push(w);
  return w;
}

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.child.exited));
  await t?.close();
});

describe('a hung FFmpeg', () => {
  it('no progress while its worker heartbeats: stopped there, the task runs elsewhere', async () => {
    t = await startTestOrchestrator(TEST_DATABASES[0]!, {
      worker: false,
      settings: { hung_task_seconds: 3 },
    });
    await mkdir(join(t.root, 'out'), { recursive: true });
    await t.clip('a.mp4', 2);
    // The worker's own stall limit is far away: this is the orchestrator's watchdog at work.
    const stuck = await worker('stuck', {
      MEDIAFORGE_FFMPEG: hangingFfmpeg(tempRoot('mf-hang-')),
      MEDIAFORGE_STALL_TIMEOUT_SECONDS: '600',
    });
    const job = await api('POST', '/api/v1/jobs', simpleSpec('a.mp4', 'out/a.mp4'));
    const id = job.body.job_id as string;
    await eventually('the hung FFmpeg runs on the stuck worker', async () =>
      childProcesses(stuck.child.pid, 'sleep').length === 1 ? true : undefined,
    );
    await worker('healthy');

    expect((await waitForJob(t.app, t.admin, id, 120_000)).status).toBe('completed');
    expect((await probeFile(join(t.root, 'out/a.mp4'))).format.duration).toBeGreaterThan(1.9);
    const events = await readEvents(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    const requeued = events.filter((e) => e.type === 'task.requeued');
    expect(requeued.map((e) => (e.data.error as { code: string }).code)).toEqual(['stalled']);
    expect(String((requeued[0]!.data.error as { message: string }).message)).toContain(
      'no progress for 3 s while its worker was alive',
    );
    expect(events.filter((e) => e.type === 'task.dispatched').map((e) => e.data.worker)).toEqual([
      'stuck',
      'healthy',
    ]);
    // The worker was told to stop it: nothing hangs there any more, and it is still online.
    await eventually('the hung FFmpeg stopped', async () =>
      childProcesses(stuck.child.pid, 'sleep').length === 0 ? true : undefined,
    );
    const listed = (await api('GET', `/api/v1/workers/${stuck.id}`)).body;
    expect(listed.online).toBe(true);
  }, 180_000);
});
