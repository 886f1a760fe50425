/**
 * `mediaforge up` as a real process: the README's example over HTTP, followed by SSE to the end,
 * checked with ffprobe; then the faults: kill -9 mid-run loses no job and runs none twice, on
 * PGlite and on PostgreSQL; SIGTERM hands running work back; two replicas, the leader killed,
 * the other takes over.
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 180_000 });

import { makeClip } from '../src/media/test-support/make-media.js';
import { dropSchema, freshSchema, TEST_DATABASES } from './helpers/db.js';
import { ADMIN_KEY } from './helpers/orchestrator.js';
import { probeFile, tempRoot } from './helpers/pipeline.js';
import { killMentioning, processesMentioning } from './helpers/procs.js';
import { eventually, readEvents, startUpProcess, type UpProcess } from './helpers/up-process.js';

const README_JOB = {
  spec: {
    inputs: [{ id: 'video', source: 'in.mp4' }],
    operations: [
      { op: 'trim', input: 'video', output: 'clip', params: { start: '00:00:01', duration: '00:00:02' } },
      { op: 'scale', input: 'clip', output: 'small', params: { width: 320, height: 180 } },
    ],
    outputs: [
      {
        id: 'small',
        destination: 'out/clip.mp4',
        codec: {
          video: { codec: 'h264', crf: 23, preset: 'fast' },
          audio: { codec: 'aac', bitrate: '128k' },
        },
      },
    ],
  },
};

/** A job slow enough to be caught running (a few seconds): a 540p clip encoded with a slow preset. */
const slowJob = (dest: string) => ({
  spec: {
    inputs: [{ id: 'v', source: 'long.mp4' }],
    outputs: [
      {
        id: 'v',
        destination: dest,
        codec: { video: { codec: 'h264', preset: 'slow' }, audio: { codec: 'aac' } },
      },
    ],
  },
});

const procs: UpProcess[] = [];
const schemas: Array<[string, string]> = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.child.kill('SIGKILL');
    await p.child.exited;
  }
  for (const [url, s] of schemas.splice(0)) await dropSchema(url, s);
});

async function up(
  dataDir: string,
  db: (typeof TEST_DATABASES)[number],
  schema?: string,
  env?: Record<string, string>,
) {
  const p = await startUpProcess({ dataDir, db, schema, ...(env ? { env } : {}) });
  procs.push(p);
  return p;
}

async function media(dataDir: string, files: Record<string, { seconds: number; size: string }>) {
  const root = join(dataDir, 'media');
  await mkdir(root, { recursive: true });
  for (const [name, o] of Object.entries(files)) await copyFile(await makeClip(o), join(root, name));
  return root;
}

it('runs the README example over HTTP, with SSE to the end', async () => {
  const db = TEST_DATABASES[0]!;
  const dataDir = tempRoot('mf-up-');
  const root = await media(dataDir, { 'in.mp4': { seconds: 4, size: '640x360' } });
  const p = await up(dataDir, db);
  expect((await p.api('GET', '/readyz')).body).toMatchObject({ status: 'ready', database: 'pglite' });

  const created = await p.api<{ job_id: string; status: string }>('POST', '/api/v1/jobs', README_JOB);
  expect(created.status).toBe(201);
  const events = await readEvents(`${p.url}/api/v1/jobs/${created.body.job_id}/events`, {
    'x-api-key': ADMIN_KEY,
  });
  const types = events.map((e) => e.type);
  expect(types[0]).toBe('job.created');
  expect(types.at(-1)).toBe('job.completed');
  expect(types).toEqual(expect.arrayContaining(['job.planned', 'job.processing', 'task.succeeded']));
  const ids = events.map((e) => e.id);
  expect([...ids].sort((a, b) => a - b)).toEqual(ids);

  // Replay from an id gives exactly what came after it.
  const middle = events[2]!.id;
  const rest = await readEvents(`${p.url}/api/v1/jobs/${created.body.job_id}/events`, {
    'x-api-key': ADMIN_KEY,
    'last-event-id': String(middle),
  });
  expect(rest.map((e) => e.id)).toEqual(ids.filter((i) => i > middle));

  const info = await probeFile(join(root, 'out/clip.mp4'));
  expect(info.format.duration).toBeCloseTo(2, 0);
  expect(info.streams.find((s) => s.type === 'video')).toMatchObject({ width: 320, height: 180 });
  expect(info.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
});

describe.each(TEST_DATABASES)('faults on $name', (db) => {
  it('kill -9 mid-run: after a restart every job completes once and no FFmpeg is left', async () => {
    const dataDir = tempRoot('mf-crash-');
    const root = await media(dataDir, { 'long.mp4': { seconds: 6, size: '960x540' } });
    const schema = db.url ? freshSchema() : undefined;
    if (db.url && schema) schemas.push([db.url, schema]);
    const first = await up(dataDir, db, schema);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++)
      ids.push(
        (await first.api<{ job_id: string }>('POST', '/api/v1/jobs', slowJob(`out/${i}.mp4`))).body.job_id,
      );
    await eventually('a job running with progress', async () => {
      const j = (
        await first.api<{ status: string; progress: { overall_percent: number } }>(
          'GET',
          `/api/v1/jobs/${ids[0]}`,
        )
      ).body;
      return j.status === 'processing' && j.progress.overall_percent > 0 ? j : undefined;
    });
    process.kill(first.child.pid, 'SIGKILL');
    await first.child.exited;
    // Its FFmpeg died with it (parent-death signal): nothing writes into the media root now.
    await eventually(
      'no FFmpeg left',
      async () => (processesMentioning(`${root}/`).length === 0 ? true : undefined),
      10_000,
    );
    killMentioning(`${root}/`);

    const second = await up(dataDir, db, schema);
    for (const id of ids) {
      const j = await eventually(
        `job ${id} finished`,
        async () => {
          const b = (await second.api<{ status: string }>('GET', `/api/v1/jobs/${id}`)).body;
          return ['completed', 'failed', 'cancelled'].includes(b.status) ? b : undefined;
        },
        120_000,
      );
      expect(j.status, id).toBe('completed');
    }
    const plan = (await second.api<{ tasks: unknown[] }>('GET', `/api/v1/jobs/${ids[0]}`))
      .body as unknown as {
      progress: { tasks: Array<{ attempt: number }> };
    };
    // The interrupted task ran again as a new attempt; its first attempt never completed.
    expect(plan.progress.tasks[0]!.attempt).toBe(2);
    const events = await readEvents(`${second.url}/api/v1/jobs/${ids[0]}/events`, { 'x-api-key': ADMIN_KEY });
    expect(events.filter((e) => e.type === 'task.succeeded')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'job.completed')).toHaveLength(1);
    expect(events.map((e) => e.type)).toContain('task.requeued');
    for (let i = 0; i < 2; i++) {
      const info = await probeFile(join(root, `out/${i}.mp4`));
      expect(info.format.duration).toBeCloseTo(6, 0);
    }
    // The killed attempt's temporary file went when the task ran again.
    expect((await readdir(join(root, 'out'))).sort()).toEqual(['0.mp4', '1.mp4']);
  });
});

describe('shutdown and replicas', () => {
  it('SIGTERM hands a running task back, and the next start finishes it', async () => {
    const db = TEST_DATABASES[0]!;
    const dataDir = tempRoot('mf-term-');
    const root = await media(dataDir, { 'long.mp4': { seconds: 6, size: '960x540' } });
    const first = await up(dataDir, db, undefined, { MEDIAFORGE_SHUTDOWN_GRACE_SECONDS: '0' });
    const id = (await first.api<{ job_id: string }>('POST', '/api/v1/jobs', slowJob('out/t.mp4'))).body
      .job_id;
    await eventually('running', async () => {
      const j = (await first.api<{ progress: { overall_percent: number } }>('GET', `/api/v1/jobs/${id}`))
        .body;
      return j.progress.overall_percent > 0 ? true : undefined;
    });
    process.kill(first.child.pid, 'SIGTERM');
    const exit = await first.child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toContain('stopping');
    expect(processesMentioning(`${root}/`)).toEqual([]);
    // Nothing half-written was left behind by the stopped FFmpeg.
    expect((await readdir(join(root, 'out'))).filter((n) => n.endsWith('.part'))).toEqual([]);

    const second = await up(dataDir, db);
    const j = await eventually(
      'completed after restart',
      async () => {
        const b = (
          await second.api<{ status: string; progress: { tasks: Array<{ attempt: number }> } }>(
            'GET',
            `/api/v1/jobs/${id}`,
          )
        ).body;
        return b.status === 'completed' ? b : undefined;
      },
      120_000,
    );
    expect(j.progress.tasks[0]!.attempt).toBe(2);
    const events = await readEvents(`${second.url}/api/v1/jobs/${id}/events`, { 'x-api-key': ADMIN_KEY });
    expect(events.map((e) => e.type)).toContain('task.released');
    expect(events.map((e) => e.type)).not.toContain('task.requeued');
  });

  const pg = TEST_DATABASES.find((d) => d.name === 'postgres');
  it.skipIf(!pg)(
    "two replicas: SSE on one shows the other's work; the leader killed, the other takes over",
    async () => {
      const db = pg!;
      const schema = freshSchema();
      schemas.push([db.url!, schema]);
      const env = { MEDIAFORGE_WORKER_TIMEOUT_SECONDS: '3' };
      const dirA = tempRoot('mf-rep-a-');
      const dirB = tempRoot('mf-rep-b-');
      // One media folder for both, as a shared NAS would be.
      const shared = await media(dirA, {
        'long.mp4': { seconds: 6, size: '960x540' },
        'in.mp4': { seconds: 4, size: '640x360' },
      });
      const a = await up(dirA, db, schema, { ...env, MEDIAFORGE_MEDIA_ROOT: shared });
      const b = await up(dirB, db, schema, { ...env, MEDIAFORGE_MEDIA_ROOT: shared });
      const leader = async (p: UpProcess) =>
        (await p.api<{ leader: boolean }>('GET', '/readyz')).body.leader ? true : undefined;
      const [first, other] = await eventually('one leader', async () => {
        const [la, lb] = [await leader(a), await leader(b)];
        if (la && !lb) return [a, b] as const;
        if (lb && !la) return [b, a] as const;
        return undefined;
      });

      // A job submitted to one replica and run by the leader's worker, followed on the other.
      const quick = (await other.api<{ job_id: string }>('POST', '/api/v1/jobs', README_JOB)).body.job_id;
      const seen = await readEvents(`${other.url}/api/v1/jobs/${quick}/events`, { 'x-api-key': ADMIN_KEY });
      expect(seen.map((e) => e.type)).toEqual(expect.arrayContaining(['job.processing', 'job.completed']));

      const id = (await first.api<{ job_id: string }>('POST', '/api/v1/jobs', slowJob('out/r.mp4'))).body
        .job_id;
      await eventually('running on the leader', async () => {
        const j = (await other.api<{ status: string }>('GET', `/api/v1/jobs/${id}`)).body;
        return j.status === 'processing' ? true : undefined;
      });
      const killedAt = Date.now();
      process.kill(first.child.pid, 'SIGKILL');
      await first.child.exited;
      await eventually('the other replica leads', () => leader(other), 10_000);
      const tookOverMs = Date.now() - killedAt;
      expect(tookOverMs).toBeGreaterThan(0);
      const done = await eventually(
        'the job completes on the new leader',
        async () => {
          const j = (await other.api<{ status: string }>('GET', `/api/v1/jobs/${id}`)).body;
          return ['completed', 'failed'].includes(j.status) ? j : undefined;
        },
        120_000,
      );
      expect(done.status).toBe('completed');
      expect((await probeFile(join(shared, 'out/r.mp4'))).format.duration).toBeCloseTo(6, 0);
    },
  );
});
