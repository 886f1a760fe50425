/**
 * The orchestrator killed with SIGKILL while two remote workers run tasks, and started again 20 s
 * later on the same database and port: the workers go on meanwhile, journal the ends of their
 * tasks, and replay them once it answers; the jobs complete, and no task runs twice.
 * On the PostgreSQL server when there is one (what a cluster runs on), else on PGlite.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeClip } from '../src/media/test-support/make-media.js';
import { dropSchema, freshSchema, TEST_DATABASES } from './helpers/db.js';
import { ADMIN_KEY, slowSpec } from './helpers/orchestrator.js';
import { probeFile, tempRoot } from './helpers/pipeline.js';
import { eventually, freePort, readEvents, startUpProcess, type UpProcess } from './helpers/up-process.js';
import { startWorkerProcess, type WorkerProcess, workerMetric } from './helpers/worker-process.js';

const db = TEST_DATABASES.at(-1)!;
const schema = db.url ? freshSchema() : undefined;
const procs: Array<{ child: UpProcess['child'] }> = [];

afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.child.exited));
  if (db.url && schema) await dropSchema(db.url, schema);
});

describe(`the orchestrator killed while workers run (${db.name})`, () => {
  it('restarted 20 s later: the journals are replayed, the jobs complete, no task runs twice', async () => {
    const dataDir = tempRoot('mf-orch-');
    const root = join(dataDir, 'media');
    await mkdir(join(root, 'out'), { recursive: true });
    await copyFile(await makeClip({ seconds: 30, size: '320x240' }), join(root, 'long.mp4'));
    const port = await freePort();
    const start = async () => {
      const p = await startUpProcess({
        dataDir,
        db,
        schema,
        role: 'orchestrator',
        port,
        env: { MEDIAFORGE_MEDIA_ROOT: root },
      });
      procs.push(p);
      return p;
    };
    let o = await start();

    const workers: WorkerProcess[] = [];
    for (const name of ['w1', 'w2']) {
      const token = (await o.api<{ token: string }>('POST', '/api/v1/worker-tokens', { name })).body.token;
      const w = await startWorkerProcess({
        orchestrator: o.url,
        token,
        dataDir: tempRoot(`mf-${name}-`),
        mediaRoot: root,
        name,
      });
      workers.push(w);
      procs.push(w);
    }
    const ids: string[] = [];
    for (const d of ['out/a.mp4', 'out/b.mp4']) {
      const r = await o.api<{ job_id: string }>('POST', '/api/v1/jobs', slowSpec('long.mp4', d));
      expect(r.status).toBe(201);
      ids.push(r.body.job_id);
    }
    // Both workers busy, one job each.
    await eventually('both workers running a task', async () => {
      const running = await Promise.all(
        workers.map((w) => workerMetric(w, /mediaforge_worker_tasks_running (\d+)/)),
      );
      return running.every((n) => n === 1) ? true : undefined;
    });

    o.child.kill('SIGKILL');
    await o.child.exited;
    // The orchestrator is away; the tasks finish and their ends wait in the journals.
    await eventually(
      'both tasks finished, their reports journaled',
      async () => {
        const [running, pending] = await Promise.all([
          Promise.all(workers.map((w) => workerMetric(w, /mediaforge_worker_tasks_running (\d+)/))),
          Promise.all(workers.map((w) => workerMetric(w, /mediaforge_worker_reports_pending (\d+)/))),
        ]);
        return running.every((n) => n === 0) && pending.every((n) => n >= 1) ? true : undefined;
      },
      120_000,
    );
    await new Promise((r) => setTimeout(r, 20_000));
    o = await start();

    for (const id of ids) {
      const job = await eventually(
        `job ${id} completed`,
        async () => {
          const j = (await o.api<{ status: string }>('GET', `/api/v1/jobs/${id}`)).body;
          return ['completed', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
        },
        120_000,
      );
      expect(job.status).toBe('completed');
      const events = await readEvents(`${o.url}/api/v1/jobs/${id}/events`, {
        authorization: `Bearer ${ADMIN_KEY}`,
      });
      // Dispatched once, succeeded once, never re-queued: the work done during the outage counted.
      expect(events.filter((e) => e.type === 'task.dispatched')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'task.succeeded')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'task.requeued')).toEqual([]);
    }
    for (const w of workers) expect(await workerMetric(w, /mediaforge_worker_reports_pending (\d+)/)).toBe(0);
    for (const f of ['out/a.mp4', 'out/b.mp4'])
      expect((await probeFile(join(root, f))).format.duration).toBeGreaterThan(29);
  }, 360_000);
});
