/**
 * A cluster with no shared storage: `mediaforge worker` processes without a media root fetch each
 * task's inputs from the orchestrator and upload its outputs, streamed, with a SHA-256, through
 * short-lived signed URLs. And the transfer route's refusals: a URL changed, expired, for another
 * method or outside the roots; an upload that arrives damaged; URLs for an attempt not held.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTransfer, TRANSFER_ROUTE } from '../src/storage/index.js';
import { TEST_DATABASES } from './helpers/db.js';
import {
  callApi,
  simpleSpec,
  startTestOrchestrator,
  type TestOrchestrator,
  waitForJob,
} from './helpers/orchestrator.js';
import { countFrames, keyframedClip, probeFile, tempRoot } from './helpers/pipeline.js';
import { eventually, readEvents } from './helpers/up-process.js';
import { enrolWorker, hangingFfmpeg, type WorkerProcess } from './helpers/worker-process.js';

let t: TestOrchestrator;
const workers: Array<WorkerProcess & { dataDir: string }> = [];

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(t, method, path, body, headers);

const secret = () => t.started.orchestrator.control.transferSecret();
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
/** Every file left under a folder, recursively. */
const filesUnder = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());

/** A worker without a media root: it shares no storage with the orchestrator. */
/** A worker without a media root (or with one that is not the storage): it shares none. */
async function island(name: string, env?: Record<string, string>, mediaRoot: string | null = null) {
  const w = await enrolWorker(t, name, { mediaRoot, ...(env ? { env } : {}) });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  t = await startTestOrchestrator(TEST_DATABASES[0]!, { worker: false });
  await mkdir(join(t.root, 'out'), { recursive: true });
  await t.clip('a.mp4', 2);
  await keyframedClip(join(t.root, 'long.mp4'), { seconds: 12, fps: 25, size: '320x240' });
  for (const name of ['island-1', 'island-2']) await island(name);
  await eventually('two workers online', async () => {
    const list = (await api('GET', '/api/v1/workers')).body.data as Array<{ online: boolean }>;
    return list.filter((w) => w.online).length === 2 ? true : undefined;
  });
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.child.exited));
  await t?.close();
});

describe('workers without shared storage', () => {
  it('say they share no root, fetch the input, upload the output; nothing is left on the worker', async () => {
    const listed = (await api('GET', '/api/v1/workers')).body.data as Array<{
      capabilities: { shared_roots: string[] };
    }>;
    expect(listed.map((w) => w.capabilities.shared_roots)).toEqual([[], []]);

    const job = await api('POST', '/api/v1/jobs', simpleSpec('a.mp4', 'out/a-small.mp4'));
    expect(job.status).toBe(201);
    const done = await waitForJob(t.app, t.admin, job.body.job_id, 120_000);
    expect(done.status).toBe('completed');
    const out = join(t.root, 'out/a-small.mp4');
    const info = await probeFile(out);
    expect(info.streams.find((s) => s.type === 'video')).toMatchObject({ codec: 'h264', width: 160 });
    expect(info.format.duration).toBeGreaterThan(1.9);
    // What the job reports is the orchestrator's file, and its checksum is that file's.
    const reported = (done.output_files as Array<{ files: string[]; md5: string }>)[0]!;
    expect(reported.files).toEqual(['out/a-small.mp4']);
    expect(reported.md5).toBe(createHash('md5').update(readFileSync(out)).digest('hex'));
    for (const w of workers) expect(filesUnder(join(w.dataDir, 'scratch'))).toEqual([]);
  }, 180_000);

  it('a chunked job over both: the chunks travel both ways, the join has every frame once', async () => {
    const job = await api('POST', '/api/v1/jobs', {
      spec: {
        inputs: [{ id: 'in', source: 'long.mp4' }],
        outputs: [
          { id: 'in', destination: 'out/long.mp4', codec: { video: { codec: 'h264', preset: 'veryfast' } } },
        ],
        chunking: { enabled: true, chunk_seconds: 4 },
      },
    });
    expect(job.status).toBe(201);
    const done = await waitForJob(t.app, t.admin, job.body.job_id, 180_000);
    expect(done.status).toBe('completed');
    expect(await countFrames(join(t.root, 'out/long.mp4'))).toBe(12 * 25);
    const events = await readEvents(`${t.url}/api/v1/jobs/${job.body.job_id}/events`, t.admin);
    const ran = new Set(events.filter((e) => e.type === 'task.dispatched').map((e) => e.data.worker));
    expect(ran).toEqual(new Set(['island-1', 'island-2']));
    // The pieces uploaded to the orchestrator went with the job; the workers kept nothing.
    expect(readdirSync(join(t.root, 'out')).sort()).toEqual(['a-small.mp4', 'long.mp4']);
    for (const w of workers) expect(filesUnder(join(w.dataDir, 'scratch'))).toEqual([]);
  }, 240_000);

  it('the transfer route does only what a valid, unexpired URL for that file and method grants', async () => {
    const file = join(t.root, 'a.mp4');
    const get = signTransfer({ path: file, method: 'GET', expires: inAnHour() }, await secret());
    const ok = await fetch(`${t.url}${get}`);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(readFileSync(file))).toBe(true);

    const refused = async (url: string, init?: RequestInit) => {
      const r = await fetch(`${t.url}${url}`, init);
      return { status: r.status, body: (await r.json()) as { error: string; message: string } };
    };
    const q = new URL(get, t.url).searchParams;
    const changed = (k: string, v: string) => {
      const c = new URLSearchParams(q);
      c.set(k, v);
      return `${TRANSFER_ROUTE}?${c}`;
    };
    expect((await refused(changed('path', join(t.root, 'out/a-small.mp4')))).status).toBe(403);
    expect((await refused(changed('expires', String(inAnHour() + 60)))).status).toBe(403);
    expect((await refused(TRANSFER_ROUTE)).status).toBe(403);
    const expired = signTransfer({ path: file, method: 'GET', expires: 1 }, await secret());
    expect((await refused(expired)).body.message).toContain('expired');
    expect((await refused(get, { method: 'PUT' })).body.message).toContain('does not grant PUT');
    // Signed, but outside the media roots (a key that leaked would still not reach the disk).
    const outside = join(tempRoot('mf-outside-'), 'secret.txt');
    writeFileSync(outside, 'not yours');
    const far = await refused(
      signTransfer({ path: outside, method: 'GET', expires: inAnHour() }, await secret()),
    );
    expect(far.status).toBe(400);
    expect(far.body.error).toBe('path_outside_root');

    // An upload serves one live task attempt. A worker whose FFmpeg hangs holds one (placement
    // sends the job there alone).
    const hung = await island('stuck', {
      MEDIAFORGE_FFMPEG: hangingFfmpeg(tempRoot('mf-hang-')),
      MEDIAFORGE_LABELS: 'stuck',
    });
    const job = await api('POST', '/api/v1/jobs', {
      spec: { ...simpleSpec('a.mp4', 'out/held.mp4').spec, placement: { labels: ['stuck'] } },
    });
    const held = await eventually('the stuck worker holds the task', async () => {
      const me = ((await api('GET', `/api/v1/workers/${hung.id}`)).body.active_tasks ?? []) as Array<{
        task_id: string;
        attempt: number;
        state: string;
      }>;
      return me.find((x) => x.state === 'running');
    });
    const target = join(t.root, 'out/held.mp4');
    const attempt = `${held.task_id}#${held.attempt}`;
    const upload = async (
      path: string,
      task: string | undefined,
      body: Buffer | string,
      sha: Buffer | string = body,
    ) =>
      fetch(
        `${t.url}${signTransfer({ path, method: 'PUT', expires: inAnHour(), ...(task ? { task } : {}) }, await secret())}`,
        {
          method: 'PUT',
          headers: {
            'content-type': 'application/octet-stream',
            'x-mediaforge-sha256': createHash('sha256').update(sha).digest('hex'),
          },
          body,
        },
      );
    const error = async (r: Response) => ((await r.json()) as { error: string }).error;
    // Not bound to an attempt, or to a file its task does not write: refused.
    expect(await error(await upload(target, undefined, 'x'))).toBe('forbidden');
    expect(await error(await upload(join(t.root, 'out/other.mp4'), attempt, 'x'))).toBe('forbidden');
    // Bytes that do not match their checksum: refused, nothing written.
    const damaged = await upload(target, attempt, 'these bytes', 'something else');
    expect(damaged.status).toBe(500);
    const said = (await damaged.json()) as { error: string; message: string };
    expect(said.error).toBe('output_write_failed');
    // A 5xx says nothing of our disks' layout.
    expect(said.message).not.toContain(t.root);
    expect(existsSync(target)).toBe(false);
    // Larger than the JSON body limit, streamed: whole, and in place.
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    expect((await upload(target, attempt, big)).status).toBe(204);
    expect(readFileSync(target).equals(big)).toBe(true);
    // The attempt taken back (the job cancelled): its uploads no longer land.
    expect((await api('POST', `/api/v1/jobs/${job.body.job_id}/cancel`)).status).toBe(200);
    const late = await upload(target, attempt, 'late');
    expect(late.status).toBe(409);
    expect(await error(late)).toBe('stale_attempt');
    expect(readFileSync(target).equals(big)).toBe(true);
    expect(readdirSync(join(t.root, 'out')).filter((f) => f.includes('.part'))).toEqual([]);

    // URLs for a task come only to the worker holding the attempt.
    expect((await api('POST', '/api/v1/tasks/x:1:t0/transfer', { attempt: 1 }, {})).status).toBe(401);
    const identity = JSON.parse(readFileSync(join(workers[0]!.dataDir, 'identity.json'), 'utf8')) as {
      secret: string;
    };
    const notHeld = await api(
      'POST',
      '/api/v1/tasks/x:1:t0/transfer',
      { attempt: 1 },
      { authorization: `Bearer ${identity.secret}` },
    );
    expect(notHeld.status).toBe(409);
    expect(notHeld.body.error).toBe('stale_attempt');
  }, 120_000);
  it('a worker whose media root only looks like the storage (same name, another disk) works on copies', async () => {
    // Its root maps to the orchestrator's, but it is a folder of its own: no marker there.
    const decoy = tempRoot('mf-decoy-');
    await mkdir(join(decoy, 'out'));
    const w = await island(
      'decoy',
      {
        MEDIAFORGE_PATH_MAPPINGS: `${t.root}=${decoy}`,
        MEDIAFORGE_LABELS: 'decoy',
        MEDIAFORGE_LOG_LEVEL: 'warn',
      },
      decoy,
    );
    expect((await api('GET', `/api/v1/workers/${w.id}`)).body.capabilities.shared_roots).toEqual([]);
    expect(w.stderr()).toContain("is not the orchestrator's storage");
    const job = await api('POST', '/api/v1/jobs', {
      spec: { ...simpleSpec('a.mp4', 'out/decoy.mp4').spec, placement: { labels: ['decoy'] } },
    });
    expect((await waitForJob(t.app, t.admin, job.body.job_id, 120_000)).status).toBe('completed');
    // The output is where the user asked, on the orchestrator's storage, not on the worker's disk.
    expect((await probeFile(join(t.root, 'out/decoy.mp4'))).format.duration).toBeGreaterThan(1.9);
    expect(readdirSync(join(decoy, 'out'))).toEqual([]);
  }, 120_000);
});
