/**
 * Faults on a cluster on loopback, with real processes and real signals: FFmpeg killed under a
 * worker, a worker frozen (SIGSTOP) past the orchestrator's patience, a worker drained by
 * SIGTERM, a media root that goes away and comes back, and a worker reporting on a task that is
 * not its own.
 */
import { readdirSync, readFileSync, symlinkSync, unlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from './helpers/db.js';
import {
  callApi,
  slowSpec,
  startTestOrchestrator,
  type TestOrchestrator,
  waitForJob,
} from './helpers/orchestrator.js';
import { probeFile, tempRoot } from './helpers/pipeline.js';
import { eventually, readEvents } from './helpers/up-process.js';
import {
  childProcesses,
  enrolWorker,
  slowStartingFfmpeg,
  type WorkerProcess,
  workerMetric,
} from './helpers/worker-process.js';

let t: TestOrchestrator;
const running: WorkerProcess[] = [];
/** Each worker's data folder: its identity (and secret) is there. */
const dataDirs = new Map<string, string>();

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(t, method, path, body, headers);

async function worker(
  name: string,
  o: { env?: Record<string, string>; mediaRoot?: string; dataDir?: string } = {},
): Promise<WorkerProcess & { dataDir: string }> {
  const w = await enrolWorker(t, name, o);
  running.push(w);
  dataDirs.set(w.id, w.dataDir);
  return w;
}

async function submit(destination: string): Promise<string> {
  const job = await api('POST', '/api/v1/jobs', slowSpec('long.mp4', destination));
  expect(job.status).toBe(201);
  return job.body.job_id as string;
}

interface Listed {
  id: string;
  online: boolean;
  status: string;
  reason: string | null;
  active_tasks: Array<{ job_id: string; task_id: string; attempt: number; state: string }>;
}
const listed = async () => (await api('GET', '/api/v1/workers')).body.data as Listed[];

/** The worker running a task of `jobId`, once FFmpeg runs there, with that task. */
async function runningOn(jobId: string) {
  return eventually('a worker running the job', async () => {
    for (const w of await listed()) {
      const a = w.active_tasks.find((x) => x.job_id === jobId && x.state === 'running');
      const proc = running.find((p) => p.id === w.id);
      if (!a || !proc) continue;
      const [ffmpeg] = childProcesses(proc.child.pid, 'ffmpeg');
      if (ffmpeg) return { proc, task: a.task_id, attempt: a.attempt, ffmpeg };
    }
    return undefined;
  });
}

const durationOf = async (path: string) => (await probeFile(path)).format.duration ?? 0;
const outFiles = () => readdirSync(join(t.root, 'out')).sort();

beforeAll(async () => {
  t = await startTestOrchestrator(TEST_DATABASES[0]!, {
    worker: false,
    settings: { worker_timeout_seconds: 10 },
  });
  await mkdir(join(t.root, 'out'), { recursive: true });
  await t.clip('long.mp4', 30);
}, 60_000);

afterEach(async () => {
  for (const w of running.splice(0)) {
    w.child.kill('SIGCONT');
    w.child.kill('SIGKILL');
    await w.child.exited;
  }
});

afterAll(async () => {
  await t?.close();
});

describe('worker faults', () => {
  it('FFmpeg killed with SIGKILL under a worker: that attempt fails, the retry completes', async () => {
    await worker('solo');
    const id = await submit('out/killed-ffmpeg.mp4');
    const victim = await runningOn(id);
    process.kill(victim.ffmpeg, 'SIGKILL');

    const done = await waitForJob(t.app, t.admin, id, 180_000);
    expect(done.status).toBe('completed');
    expect(await durationOf(join(t.root, 'out/killed-ffmpeg.mp4'))).toBeGreaterThan(29);
    const events = await readEvents(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    const requeued = events.filter((e) => e.type === 'task.requeued');
    expect(requeued).toHaveLength(1);
    expect(requeued[0]!.data.error).toMatchObject({ code: 'ffmpeg_killed', retryable: true });
    expect(String((requeued[0]!.data.error as { message: string }).message)).toContain('SIGKILL');
    expect(events.filter((e) => e.type === 'task.dispatched').map((e) => e.data.attempt)).toEqual([1, 2]);
    expect(outFiles()).toEqual(['killed-ffmpeg.mp4']);
  }, 240_000);

  it('a worker frozen (SIGSTOP) past the timeout: its task runs elsewhere; thawed, its late reports get 409 and it stops its copy', async () => {
    await worker('frozen');
    await worker('spare');
    const id = await submit('out/frozen.mp4');
    const victim = await runningOn(id);
    // The whole machine stops: the worker and its FFmpeg.
    victim.proc.child.kill('SIGSTOP');
    process.kill(victim.ffmpeg, 'SIGSTOP');

    await eventually(
      'the task re-queued and running on the other worker',
      async () => {
        const others = (await listed()).filter((w) => w.id !== victim.proc.id);
        return others.some((w) =>
          w.active_tasks.some((a) => a.job_id === id && a.attempt === victim.attempt + 1),
        )
          ? true
          : undefined;
      },
      60_000,
    );
    victim.proc.child.kill('SIGCONT');
    process.kill(victim.ffmpeg, 'SIGCONT');

    // Thawed, it learns the attempt is no longer its own (its next heartbeat's answer, or a 409 to
    // its next report, whichever comes first) and stops its copy: FFmpeg gone, nothing running.
    await eventually('the frozen worker stopped its copy', async () =>
      childProcesses(victim.proc.child.pid, 'ffmpeg').length === 0 &&
      (await workerMetric(victim.proc, /mediaforge_worker_tasks_running (\d+)/)) === 0
        ? true
        : undefined,
    );
    expect(victim.proc.stderr()).toMatch(/gave this task to another|this attempt is no longer ours/);
    // Any late report of the old attempt, with the worker's own valid secret, is refused.
    const identity = readFileSync(join(dataDirs.get(victim.proc.id)!, 'identity.json'), 'utf8');
    const late = await api(
      'POST',
      `/api/v1/tasks/${encodeURIComponent(victim.task)}/events`,
      {
        type: 'progress',
        task_id: victim.task,
        attempt: victim.attempt,
        progress: { percent: 50, fps: null, speed: null, out_seconds: null },
      },
      { authorization: `Bearer ${(JSON.parse(identity) as { secret: string }).secret}` },
    );
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: 'stale_attempt' });
    const done = await waitForJob(t.app, t.admin, id, 180_000);
    expect(done.status).toBe('completed');
    const events = await readEvents(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    expect(events.filter((e) => e.type === 'task.requeued').map((e) => e.data.reason)).toEqual([
      'worker_lost',
    ]);
    expect(events.filter((e) => e.type === 'task.succeeded')).toHaveLength(1);
    expect(await durationOf(join(t.root, 'out/frozen.mp4'))).toBeGreaterThan(29);
    // One output, no temporary file of the stopped copy.
    expect(outFiles()).toEqual(['frozen.mp4', 'killed-ffmpeg.mp4']);
    // Thawed, it is back in the registry and takes work again.
    await eventually('the frozen worker online again', async () =>
      (await listed()).find((w) => w.id === victim.proc.id && w.online) ? true : undefined,
    );
  }, 240_000);

  it('SIGTERM drains a worker: maintenance at once, nothing new, the running task finishes, then it exits', async () => {
    // Its task outlasts worker_timeout_seconds (10 s) after the SIGTERM: a draining worker keeps
    // heartbeating, or it would be taken for lost and its task run again elsewhere.
    const w = await worker('drained', {
      env: {
        MEDIAFORGE_SHUTDOWN_GRACE_SECONDS: '120',
        MEDIAFORGE_FFMPEG: slowStartingFfmpeg(tempRoot('mf-slow-'), 14),
      },
    });
    const first = await submit('out/drained.mp4');
    await eventually('the task running on the drained worker', async () =>
      (await listed()).find((x) => x.id === w.id)?.active_tasks.some((a) => a.state === 'running')
        ? true
        : undefined,
    );
    w.child.kill('SIGTERM');
    await eventually('maintenance in the registry', async () =>
      (await listed()).find((x) => x.id === w.id)?.status === 'maintenance' ? true : undefined,
    );
    const second = await submit('out/after-drain.mp4');

    expect((await waitForJob(t.app, t.admin, first, 180_000)).status).toBe('completed');
    expect(await durationOf(join(t.root, 'out/drained.mp4'))).toBeGreaterThan(29);
    const firstEvents = await readEvents(`${t.url}/api/v1/jobs/${first}/events`, t.admin);
    expect(firstEvents.filter((e) => e.type === 'task.requeued')).toEqual([]);
    const exit = await w.child.exited;
    expect(exit.code).toBe(0);
    // The job that came during the drain waits, and says why; a new worker takes it.
    const waiting = await api('GET', `/api/v1/jobs/${second}`);
    expect(waiting.body.status).toBe('pending');
    const logs = (await api('GET', `/api/v1/jobs/${second}/logs`)).body.logs as Array<{ message: string }>;
    expect(logs.some((l) => /drained\b.*\bin maintenance|in maintenance.*\bdrained\b/.test(l.message))).toBe(
      true,
    );
    await worker('fresh');
    expect((await waitForJob(t.app, t.admin, second, 180_000)).status).toBe('completed');
    const events = await readEvents(`${t.url}/api/v1/jobs/${second}/events`, t.admin);
    expect(events.filter((e) => e.type === 'task.dispatched').map((e) => e.data.worker)).toEqual(['fresh']);
  }, 300_000);

  it('a media root that goes away: ERROR and no new task there; back: IDLE, and the waiting job runs', async () => {
    // The worker reaches the media root through a link, as through a mount: removing the link is
    // the NAS going away (a root user reads through any permission, so chmod would prove nothing).
    const mount = join(tempRoot('mf-mount-'), 'nas');
    symlinkSync(t.root, mount);
    const w = await worker('nas-client', {
      mediaRoot: mount,
      env: { MEDIAFORGE_STORAGE_CHECK_SECONDS: '1', MEDIAFORGE_PATH_MAPPINGS: `${t.root}=${mount}` },
    });
    unlinkSync(mount);
    const down = await eventually('error in the registry', async () => {
      const me = (await listed()).find((x) => x.id === w.id);
      return me?.status === 'error' ? me : undefined;
    });
    expect(down.reason).toContain(mount);

    const id = await submit('out/after-outage.mp4');
    await eventually('the job waits, saying why', async () => {
      const logs = (await api('GET', `/api/v1/jobs/${id}/logs`)).body.logs as Array<{ message: string }>;
      return logs.some((l) => /in error.*\bnas-client\b|\bnas-client\b.*in error/.test(l.message))
        ? true
        : undefined;
    });
    expect((await listed()).find((x) => x.id === w.id)!.active_tasks).toEqual([]);

    symlinkSync(t.root, mount);
    await eventually('idle again', async () =>
      ['idle', 'busy'].includes((await listed()).find((x) => x.id === w.id)?.status ?? '') ? true : undefined,
    );
    expect((await waitForJob(t.app, t.admin, id, 180_000)).status).toBe('completed');
    expect(await durationOf(join(t.root, 'out/after-outage.mp4'))).toBeGreaterThan(29);
  }, 240_000);

  it("a worker cannot report on another worker's task: 403", async () => {
    await worker('owner');
    await worker('intruder');
    const id = await submit('out/owned.mp4');
    const owned = await runningOn(id);
    // Whichever runs it, the other one speaks for it with its own valid secret.
    const other = running.find((p) => p.id !== owned.proc.id)!;
    const identity = readFileSync(join(dataDirs.get(other.id)!, 'identity.json'), 'utf8');
    const secret = (JSON.parse(identity) as { secret: string }).secret;
    const report = await api(
      'POST',
      `/api/v1/tasks/${encodeURIComponent(owned.task)}/events`,
      {
        type: 'failed',
        task_id: owned.task,
        attempt: owned.attempt,
        error: { code: 'internal_error', message: 'forged', retryable: false },
      },
      { authorization: `Bearer ${secret}` },
    );
    expect(report.status).toBe(403);
    expect(report.body).toMatchObject({ error: 'forbidden' });
    expect((await waitForJob(t.app, t.admin, id, 180_000)).status).toBe('completed');
  }, 240_000);
});
