/**
 * SSE while a job is stuck in its encode: the stream keeps reminding the client of the job's
 * progress (events without an id), and a cancel stops FFmpeg, ends the stream with the job's
 * last event, and leaves no partial file. FFmpeg here is a wrapper that hangs instead of encoding.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeExecutable } from '../src/media/test-support/make-media.js';
import { TEST_DATABASES } from './helpers/db.js';
import { simpleSpec, startTestOrchestrator, type TestOrchestrator } from './helpers/orchestrator.js';
import { processesMentioning } from './helpers/procs.js';
import { eventually } from './helpers/up-process.js';

let t: TestOrchestrator;
let marker: string;
beforeAll(async () => {
  // Version and encoder queries go to the real FFmpeg, and so do encodes, except one that writes
  // a file named hang (its temporary name holds it): that one hangs,
  // and the shell stays alive under the script's own name, so the test can see it run and stop.
  const ffmpeg = makeExecutable(
    `ffmpeg-hangs-${process.pid}`,
    'case "$*" in *-progress*hang*) sleep 300; exit 1 ;; esac\nexec ffmpeg "$@"',
  );
  marker = ffmpeg;
  t = await startTestOrchestrator(TEST_DATABASES[0]!, { settings: { ffmpeg } });
  await t.clip('in.mp4', 2);
});
afterAll(async () => t?.close());

it('reminds the client while FFmpeg is silent, and a cancel ends the stream with nothing left', async () => {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/jobs',
    headers: t.admin,
    payload: simpleSpec('in.mp4', 'out/hang.mp4'),
  });
  const id = created.json().job_id as string;
  const res = await fetch(`${t.url}/api/v1/jobs/${id}/events`, { headers: t.admin });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Array<{ id: string | undefined; type: string; data: Record<string, unknown> }> = [];
  const parser = createParser({
    onEvent: (e) => events.push({ id: e.id, type: e.event ?? 'message', data: JSON.parse(e.data) }),
  });
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  })();

  await eventually(
    'two reminders',
    async () =>
      events.filter((e) => e.type === 'job.progress' && e.id === undefined).length >= 2 ? true : undefined,
    20_000,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}; events: ${JSON.stringify(events)}`);
  });
  const reminder = events.find((e) => e.id === undefined)!;
  expect(reminder.data).toMatchObject({
    job_id: id,
    status: 'processing',
    stage: 'encoding',
    overall_percent: 0,
  });
  expect(processesMentioning(marker)).toHaveLength(1);

  const cancelled = await t.app.inject({
    method: 'POST',
    url: `/api/v1/jobs/${id}/cancel`,
    headers: t.admin,
  });
  expect(cancelled.statusCode).toBe(200);
  expect(cancelled.json()).toMatchObject({ job_id: id, status: 'cancelled' });
  await reading;
  expect(events.at(-1)).toMatchObject({ type: 'job.cancelled', data: { status: 'cancelled' } });
  await eventually(
    'FFmpeg stopped',
    async () => (processesMentioning(marker).length === 0 ? true : undefined),
    15_000,
  );
  const out = await readdir(join(t.root, 'out')).catch(() => []);
  expect(out).toEqual([]);
  const job = (await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: t.admin })).json();
  expect(job).toMatchObject({ status: 'cancelled', output_files: [] });
  expect(job.cancelled_at).not.toBeNull();
});

it('a cancel removes what the finished tasks of the job had written', async () => {
  // Two unconnected parts: two tasks, one after the other on the single slot.
  const spec = {
    spec: {
      inputs: [
        { id: 'a', source: 'in.mp4' },
        { id: 'b', source: 'in.mp4' },
      ],
      outputs: [
        {
          id: 'a',
          destination: 'out/first.mp4',
          codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } },
        },
        {
          id: 'b',
          destination: 'out/hang.mp4',
          codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } },
        },
      ],
    },
  };
  const id = (
    await t.app.inject({ method: 'POST', url: '/api/v1/jobs', headers: t.admin, payload: spec })
  ).json().job_id;
  await eventually('the first output written', async () =>
    (await readdir(join(t.root, 'out')).catch(() => [] as string[])).includes('first.mp4') ? true : undefined,
  );
  await eventually('the second task hangs', async () =>
    processesMentioning(marker).length === 1 ? true : undefined,
  );
  const r = await t.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}`, headers: t.admin });
  expect(r.statusCode).toBe(204);
  await eventually(
    'FFmpeg stopped',
    async () => (processesMentioning(marker).length === 0 ? true : undefined),
    15_000,
  );
  expect(await readdir(join(t.root, 'out'))).toEqual([]);
  const logs = (
    await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}/logs`, headers: t.admin })
  ).json().logs;
  expect(logs.map((l: { message: string }) => l.message)).toContain(
    'removed 1 file(s) finished tasks had written',
  );
});
