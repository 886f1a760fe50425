/**
 * The worker's encoder probe, through real worker processes: a fake `ffmpeg` (a wrapper around
 * the real one) lists h264_nvenc. When it fails its test encode it is not advertised; when it
 * passes the probe but fails on a real task, the task runs in software, the encoder is reported
 * unhealthy, and a probe asked for from the orchestrator measures it again. Probe results are
 * kept in the worker's data folder across restarts.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_SOURCE } from '../src/media/index.js';
import { writeFakeFfmpeg } from '../src/media/test-support/fake-ffmpeg.js';
import { TEST_DATABASES } from './helpers/db.js';
import {
  callApi,
  simpleSpec,
  startTestOrchestrator,
  type TestOrchestrator,
  waitForJob,
} from './helpers/orchestrator.js';
import { probeFile, tempRoot } from './helpers/pipeline.js';
import { eventually } from './helpers/up-process.js';
import { enrolWorker, startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

let t: TestOrchestrator;
const running: WorkerProcess[] = [];

interface Caps {
  encoders: Array<{ name: string; hardware: string | null; fps: number }>;
  unhealthy: Array<{ name: string; error: string }>;
  probed_at: string | null;
}

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(t, method, path, body, headers);

const caps = async (id: string) => (await api('GET', `/api/v1/workers/${id}`)).body.capabilities as Caps;
const names = (c: Caps) => c.encoders.map((e) => e.name);
/** The fake's log: one line per FFmpeg run, its arguments. */
const runs = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean);

async function worker(name: string, ffmpeg: string, dataDir: string): Promise<WorkerProcess> {
  const w = await enrolWorker(t, name, {
    dataDir,
    // Enough for the fake NVENC and libx264 (tried first); those not reached in time are not advertised.
    env: { MEDIAFORGE_FFMPEG: ffmpeg, MEDIAFORGE_PROBE_SECONDS: '10', MEDIAFORGE_HARDWARE: 'auto' },
  });
  running.push(w);
  return w;
}

async function stop(w: WorkerProcess): Promise<void> {
  w.child.kill('SIGKILL');
  await w.child.exited;
  running.splice(running.indexOf(w), 1);
}

beforeAll(async () => {
  t = await startTestOrchestrator(TEST_DATABASES[0]!, { worker: false });
  await mkdir(join(t.root, 'out'), { recursive: true });
  await t.clip('a.mp4', 2);
}, 60_000);

afterEach(async () => {
  for (const w of [...running]) await stop(w);
});

afterAll(async () => {
  await t?.close();
});

describe('the encoder probe of a worker', () => {
  it('does not advertise a listed h264_nvenc that fails its test encode; the result is kept across restarts', async () => {
    const log = join(tempRoot('mf-fake-'), 'runs.log');
    const ffmpeg = writeFakeFfmpeg({ list: ['h264_nvenc'], fail: ['h264_nvenc'], log });
    const data = tempRoot('mf-probe-a-');
    const w = await worker('nogpu', ffmpeg, data);

    const c = await caps(w.id);
    expect(names(c)).not.toContain('h264_nvenc');
    expect(c.encoders.find((e) => e.name === 'libx264')!.fps).toBeGreaterThan(0);
    expect(c.unhealthy.find((u) => u.name === 'h264_nvenc')!.error).toContain('Cannot load libcuda.so.1');
    expect(c.probed_at).not.toBeNull();
    const testEncodes = runs(log).filter((l) => l.includes(PROBE_SOURCE)).length;
    expect(testEncodes).toBeGreaterThanOrEqual(2);

    const job = await api('POST', '/api/v1/jobs', simpleSpec('a.mp4', 'out/nogpu.mp4'));
    expect((await waitForJob(t.app, t.admin, job.body.job_id, 60_000)).status).toBe('completed');
    const encodes = runs(log).filter((l) => !l.includes(PROBE_SOURCE) && l.includes('-c:v'));
    expect(encodes.some((l) => l.includes('h264_nvenc'))).toBe(false);
    expect(encodes.some((l) => l.includes('libx264'))).toBe(true);

    // Restarted on the same data folder and FFmpeg: the kept result, no test encode.
    await stop(w);
    const again = await startWorkerProcess({
      orchestrator: t.url,
      token: 'unused-once-enrolled',
      dataDir: data,
      mediaRoot: t.root,
      name: 'nogpu',
      env: { MEDIAFORGE_FFMPEG: ffmpeg, MEDIAFORGE_PROBE_SECONDS: '10', MEDIAFORGE_HARDWARE: 'auto' },
    });
    running.push(again);
    expect(again.id).toBe(w.id);
    expect((await caps(w.id)).probed_at).toBe(c.probed_at);
    expect(runs(log).filter((l) => l.includes(PROBE_SOURCE))).toHaveLength(testEncodes);
  }, 180_000);

  it('a hardware encoder that passed the probe and fails on a task: the task runs in software, the encoder is reported unhealthy, a new probe measures it again', async () => {
    const log = join(tempRoot('mf-fake-'), 'runs.log');
    const ffmpeg = writeFakeFfmpeg({ list: ['h264_nvenc'], failOutsideProbe: ['h264_nvenc'], log });
    const w = await worker('flaky', ffmpeg, tempRoot('mf-probe-b-'));

    const first = await caps(w.id);
    expect(first.encoders.find((e) => e.name === 'h264_nvenc')).toMatchObject({ hardware: 'nvenc' });

    const job = await api('POST', '/api/v1/jobs', simpleSpec('a.mp4', 'out/flaky.mp4'));
    expect((await waitForJob(t.app, t.admin, job.body.job_id, 60_000)).status).toBe('completed');
    const video = (await probeFile(join(t.root, 'out/flaky.mp4'))).streams.find((s) => s.type === 'video');
    expect(video).toMatchObject({ codec: 'h264', width: 160 });
    // One try on NVENC, then the same task in software.
    const encodes = runs(log).filter((l) => !l.includes(PROBE_SOURCE) && l.includes('-c:v'));
    expect(encodes.map((l) => (l.includes('h264_nvenc') ? 'nvenc' : 'x264'))).toEqual(['nvenc', 'x264']);

    // The next heartbeat carries the change: the scheduler no longer counts on NVENC there.
    const after = await eventually('h264_nvenc reported unhealthy', async () => {
      const c = await caps(w.id);
      return c.unhealthy.some((u) => u.name === 'h264_nvenc') ? c : undefined;
    });
    expect(names(after)).not.toContain('h264_nvenc');
    expect(names(after)).toContain('libx264');

    // Asked from the orchestrator: measured again, and NVENC (passing its probe) is back.
    const asked = await api('POST', `/api/v1/workers/${w.id}/probe`);
    expect(asked.status).toBe(202);
    const reprobed = await eventually(
      'a new probe',
      async () => {
        const c = await caps(w.id);
        return c.probed_at !== first.probed_at ? c : undefined;
      },
      60_000,
    );
    expect(names(reprobed)).toContain('h264_nvenc');
    expect(reprobed.unhealthy.some((u) => u.name === 'h264_nvenc')).toBe(false);

    expect((await api('POST', '/api/v1/workers/w-nonexistent/probe')).status).toBe(404);
    const anonymous = await fetch(`${t.url}/api/v1/workers/${w.id}/probe`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  }, 180_000);

  it("up's local worker probes too: hardware that passed is used, falls back, and is reported unhealthy", async () => {
    const log = join(tempRoot('mf-fake-'), 'runs.log');
    const ffmpeg = writeFakeFfmpeg({ list: ['h264_nvenc'], failOutsideProbe: ['h264_nvenc'], log });
    const up = await startTestOrchestrator(TEST_DATABASES[0]!, { settings: { ffmpeg, probe_seconds: 10 } });
    try {
      const local = async () =>
        ((await callApi(up, 'GET', '/api/v1/workers')).body.data as Array<{ capabilities: Caps }>)[0]!
          .capabilities;
      // Listed at once, probed in the background: NVENC appears once it has passed.
      await eventually('the local worker probed', async () =>
        names(await local()).includes('h264_nvenc') ? true : undefined,
      );
      await up.clip('a.mp4', 2);
      const job = await callApi(up, 'POST', '/api/v1/jobs', simpleSpec('a.mp4', 'up.mp4'));
      expect((await waitForJob(up.app, up.admin, job.body.job_id, 60_000)).status).toBe('completed');
      const encodes = runs(log).filter((l) => !l.includes(PROBE_SOURCE) && l.includes('-c:v'));
      expect(encodes.map((l) => (l.includes('h264_nvenc') ? 'nvenc' : 'x264'))).toEqual(['nvenc', 'x264']);
      const after = await local();
      expect(names(after)).not.toContain('h264_nvenc');
      expect(after.unhealthy.map((u) => u.name)).toContain('h264_nvenc');
    } finally {
      await up.close();
    }
  }, 120_000);
});
