/**
 * Regression tests from a review of the orchestrator: races between replicas, cancels, retries
 * and reports; SSE streams that never ended or leaked; lost work after crashes and outages. The
 * comment above each test tells the defect as it was found (file:line of that time) and the fix
 * it suggested. Tests that need concurrent connections run on the PostgreSQL server
 * (MEDIAFORGE_TEST_DATABASE_URL, else the local one) and are skipped without it.
 */
import { existsSync } from 'node:fs';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskAssignment, TaskReport, TaskReportSink, WorkerLink } from '../src/core/index.js';
import { openStore } from '../src/db/index.js';
import { makeClip, makeExecutable, mediaTempDir } from '../src/media/test-support/make-media.js';
import { LocalWorker } from '../src/worker/index.js';
import { dropSchema, freshSchema, TEST_DATABASES, type TestDatabase } from './helpers/db.js';
import {
  simpleSpec,
  startTestOrchestrator,
  type TestOrchestrator,
  waitForJob,
} from './helpers/orchestrator.js';
import { tempRoot } from './helpers/pipeline.js';
import { eventually } from './helpers/up-process.js';

const PGLITE = TEST_DATABASES[0]!;
const PG_URL = process.env.MEDIAFORGE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG: TestDatabase = { name: 'postgres', url: PG_URL };
const pgAvailable = await (async () => {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
})();
/** `it` on PostgreSQL, skipped when no server answers. */
const pgIt = pgAvailable ? it : it.skip;

// ---- helpers

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function orchestrator(
  db: TestDatabase,
  opts: Parameters<typeof startTestOrchestrator>[1] = {},
): Promise<TestOrchestrator> {
  const t = await startTestOrchestrator(db, opts);
  cleanups.push(() => t.close());
  return t;
}

/** A remote-like worker: records what it is given, accepts everything, and its cancel may fail. */
function fakeWorker(opts: { cancelFails?: boolean } = {}) {
  const dispatched: TaskAssignment[] = [];
  const link: WorkerLink = {
    dispatch: async (a) => {
      dispatched.push(a);
      return 'accepted';
    },
    cancel: async () => {
      if (opts.cancelFails) throw new Error('connect ECONNREFUSED (the worker is unreachable)');
    },
  };
  return { dispatched, link };
}

async function attachFake(t: TestOrchestrator, id: string, opts: { cancelFails?: boolean } = {}) {
  const w = fakeWorker(opts);
  const { sink } = await t.started.orchestrator.control.attachWorker(
    { id, name: id, url: `http://${id}.invalid:9000`, maxConcurrent: 1, capabilities: {} },
    w.link,
  );
  cleanups.unshift(async () => t.started.orchestrator.control.detachWorker(id));
  return { ...w, sink };
}

async function submit(t: TestOrchestrator, headers: Record<string, string>, payload: unknown) {
  const r = await t.app.inject({ method: 'POST', url: '/api/v1/jobs', headers, payload: payload as object });
  if (r.statusCode !== 201) throw new Error(`submit answered ${r.statusCode}: ${r.body}`);
  return r.json().job_id as string;
}

async function getJob(t: TestOrchestrator, id: string) {
  return (await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: t.admin })).json() as {
    status: string;
    stage: string;
    attempts: number;
  };
}

interface SseEvent {
  id: number | undefined;
  type: string;
  data: Record<string, unknown>;
}

/** An SSE client that keeps what it reads; `ended` resolves when the server ends the stream. */
function openSse(url: string, headers: Record<string, string>) {
  const ctrl = new AbortController();
  const events: SseEvent[] = [];
  let ended = false;
  const done = (async () => {
    const r = await fetch(url, { headers, signal: ctrl.signal });
    const parser = createParser({
      onEvent: (e) =>
        events.push({
          id: e.id === undefined ? undefined : Number(e.id),
          type: e.event ?? 'message',
          data: JSON.parse(e.data) as Record<string, unknown>,
        }),
    });
    const decoder = new TextDecoder();
    for await (const chunk of r.body!) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    ended = true;
  })().catch(() => {});
  const stream = {
    events,
    get ended() {
      return ended;
    },
    done,
    abort: () => ctrl.abort(),
  };
  cleanups.push(async () => stream.abort());
  return stream;
}

/** True when `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((res) => {
      timer = setTimeout(() => res(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- findings

describe('fencing and lost work', () => {
  // FINDING 1 (high): fencing breaks across a job retry. A task's id is `${job}:${planTaskId}`
  // (src/orchestrator/control-plane.ts:479) and JobsRepository.retry deletes the tasks
  // (src/db/jobs.repository.ts:232) so the re-planned task starts again at attempt 0 → its first
  // dispatch is attempt 1 again (src/db/tasks.repository.ts:321). A run of the previous job attempt
  // that was not stopped (a remote worker whose cancel failed: control-plane.ts:456 only logs it)
  // reports with the same task id and attempt and is taken as the new attempt's result
  // (control-plane.ts:306 + tasks.repository.ts:370); its `failed` would fail the retried job.
  // Fix: make the fencing token survive a retry: keep the tasks' attempt counters (or carry
  // `max(attempt)` into the new rows), or put the job attempt into the task id
  // (`${job}:${jobAttempt}:${planTaskId}`), and check it in every report.
  it('refuses a late report from a run of the job before it was retried', async () => {
    const t = await orchestrator(PGLITE, { worker: false });
    await t.clip('in.mp4', 1);
    const w = await attachFake(t, 'remote-a', { cancelFails: true });
    const id = await submit(t, t.admin, simpleSpec('in.mp4', 'out/a.mp4'));
    const first = await eventually('first dispatch', async () => w.dispatched[0], 20_000);
    expect(await w.sink.report({ type: 'running', task_id: first.task_id, attempt: first.attempt })).toBe(
      'ok',
    );

    const cancel = await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: t.admin });
    expect(cancel.statusCode).toBe(200);
    const retry = await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: t.admin });
    expect(retry.statusCode).toBe(200);
    await eventually('second dispatch', async () => w.dispatched[1], 20_000);

    // The run from before the cancel, which nobody could stop, now finishes.
    const late = await w.sink.report({
      type: 'succeeded',
      task_id: first.task_id,
      attempt: first.attempt,
      outputs: [],
      ffmpeg_ms: 1,
    });
    expect(late).toBe('stale');
  });

  // FINDING 1b (high, same cause, with the real local worker): a retry while the cancelled run is
  // still stopping (FFmpeg gets kill_grace_seconds to exit; cancel awaits it, but the job row is
  // already `cancelled`, so the retry is accepted) dispatches the re-planned task with the SAME
  // task id and attempt 1. LocalWorker.dispatch sees the dying run under that id and attempt and
  // answers `accepted` without starting anything (src/worker/local-worker.ts:42-43); the old run
  // then ends and removes itself. The task stays `dispatched` for ever (the heartbeat is the
  // orchestrator's own timer, so rescue never fires) and the retried job never runs.
  // Fix: as above (a fencing token that survives retries), and LocalWorker should treat a
  // dispatch whose run is being stopped as a new run (or answer busy), never as a duplicate.
  it('runs a job retried while its cancelled run is still stopping', async () => {
    const marker = join(mediaTempDir(), `hang-once-${process.pid}-${Date.now()}`);
    await writeFile(marker, '');
    cleanups.push(() => rm(marker, { force: true }));
    // The first encode ignores SIGTERM (SIGKILL comes after kill_grace_seconds); later ones are real.
    const ffmpeg = makeExecutable(
      `ffmpeg-hang-once-${process.pid}`,
      `case "$*" in *-progress*) if [ -e '${marker}' ]; then rm -f '${marker}'; trap '' TERM; sleep 60; exit 1; fi ;; esac\nexec ffmpeg "$@"`,
    );
    const t = await orchestrator(PGLITE, { settings: { ffmpeg, kill_grace_seconds: 4 } });
    await t.clip('in.mp4', 1);
    const id = await submit(t, t.admin, simpleSpec('in.mp4', 'out/a2.mp4'));
    await eventually('processing', async () =>
      (await getJob(t, id)).status === 'processing' ? true : undefined,
    );
    // FFmpeg (the wrapper) has started: it removed the marker.
    await eventually('FFmpeg started', async () => (existsSync(marker) ? undefined : true), 20_000);
    const cancelling = t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: t.admin });
    await eventually('cancelled', async () =>
      (await getJob(t, id)).status === 'cancelled' ? true : undefined,
    );
    const retry = await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: t.admin });
    expect(retry.statusCode).toBe(200);
    expect((await cancelling).statusCode).toBe(200);
    const job = await waitForJob(t.app, t.admin, id, 20_000).catch((e) => ({ status: String(e) }));
    expect(job.status).toBe('completed');
  });

  // FINDING 2 (high): a job whose last task succeeded can stay `processing` forever. The
  // `succeeded` report commits the task (control-plane.ts:339) and only then, in a separate step,
  // completes the job (control-plane.ts:353 → 409-433). A crash (kill -9, the fault test),
  // or a database error between the two, leaves every task succeeded and the job processing; no
  // loop ever looks at such a job again (nor at a job whose task failed in tasks.fail /
  // rescueLost before #failJob ran: control-plane.ts:362-377, 286-298).
  // Fix: do the job's completion/failure in the same transaction as the task's transition, or add
  // a leader sweep: `processing` jobs whose tasks are all succeeded → complete; with a failed task
  // → fail.
  it('completes, after a restart, a job whose last task succeeded just before a crash', async () => {
    const dataDir = tempRoot('mf-review-crash-');
    const first = await startTestOrchestrator(PGLITE, { worker: false, dataDir });
    let closed = false;
    cleanups.push(async () => !closed && first.close());
    await first.clip('in.mp4', 1);
    const w = await attachFake(first, 'remote-b');
    const id = await submit(first, first.admin, simpleSpec('in.mp4', 'out/b.mp4'));
    const a = await eventually('dispatch', async () => w.dispatched[0], 20_000);
    expect(await w.sink.report({ type: 'running', task_id: a.task_id, attempt: a.attempt })).toBe('ok');
    // The first write of the `succeeded` report lands; the process dies before the second.
    expect(
      await first.started.orchestrator.control.tasks.succeed(a.task_id, a.attempt, { outputs: [] }),
    ).toBeDefined();
    closed = true;
    await first.close();

    const second = await orchestrator(PGLITE, { dataDir });
    const job = await waitForJob(second.app, second.admin, id, 15_000).catch((e) => ({
      status: String(e),
    }));
    expect(job.status).toBe('completed');
  });

  // FINDING 3 (high): the local worker's task can hang forever after a transient database error.
  // When the `succeeded` report throws (the database blinked), runAssignment
  // (src/worker/task-runner.ts:180-205) sends `failed`; if that throws too, LocalWorker logs
  // "task run crashed" (src/worker/local-worker.ts:53-54) and forgets the run. The task stays
  // `running` in the database for ever: its worker's heartbeat is the orchestrator's own timer
  // (control-plane.ts:128-134), not a sign of the run, so rescueLost never sees it, and no
  // journal replays the report (DESIGN.md promises one). The job never finishes.
  // Fix: retry/journal reports in the worker link (as DESIGN.md says for remote workers), and
  // reconcile: the heartbeat should carry the worker's active task ids, and held tasks the worker
  // no longer runs go back to ready.
  it('finishes a job even when the database fails the final reports of its task once', async () => {
    const t = await orchestrator(PGLITE, { worker: false });
    await t.clip('in.mp4', 1);
    const o = t.started.orchestrator;
    const worker = new LocalWorker({ roots: o.roots, tools: o.tools, threads: 0, logger: o.logger }, 1);
    cleanups.unshift(async () => worker.close(0));
    const { sink } = await o.control.attachWorker(
      { id: 'local-flaky', name: 'flaky', url: null, maxConcurrent: 1, capabilities: { local: true } },
      worker,
    );
    let blips = 0;
    const flaky: TaskReportSink = {
      report: async (r: TaskReport) => {
        if ((r.type === 'succeeded' || r.type === 'failed') && blips < 2) {
          blips++;
          throw new Error('Connection terminated unexpectedly');
        }
        return sink.report(r);
      },
    };
    worker.connect(flaky);
    const id = await submit(t, t.admin, simpleSpec('in.mp4', 'out/c.mp4'));
    const job = await waitForJob(t.app, t.admin, id, 20_000).catch(() => undefined);
    expect(blips).toBe(2);
    // Today: the job is still processing and its task still `running` in the database.
    const task = (await o.control.tasks.forJob(id))[0];
    expect({ job: job?.status, task: task?.state }).toMatchObject({
      job: expect.stringMatching(/completed|failed/),
    });
  });

  // FINDING 4 (medium-high): a planner that lost its claim still fails the job. #plan's catch
  // (control-plane.ts:197-201) calls jobs.fail(jobId) unguarded: it fails any unfinished job,
  // whoever plans it now. A job cancelled while probing and retried, or whose 120 s planner lease
  // lapsed and was re-planned by another replica, is failed when the old probe finally errors; the
  // retried attempt never runs. (The probe is not aborted on cancel either: prepare gets no signal,
  // control-plane.ts:39,173.)
  // Fix: fail only while the claim holds (`WHERE state='pending' AND stage='planning' AND
  // planner=$instance`), like savePlan does, and abort the probe when the job is cancelled.
  it('does not let the probe of a cancelled attempt fail the retried job', async () => {
    const marker = join(mediaTempDir(), `slow-probe-${process.pid}-${Date.now()}`);
    await writeFile(marker, '');
    cleanups.push(() => rm(marker, { force: true }));
    // The first probe of slow.mkv takes 3 s and then fails; later probes are the real ffprobe.
    const ffprobe = makeExecutable(
      `ffprobe-slow-${process.pid}`,
      `case "$*" in *slow.mkv*) if [ -e '${marker}' ]; then rm -f '${marker}'; sleep 3; exit 1; fi ;; esac\nexec ffprobe "$@"`,
    );
    const t = await orchestrator(PGLITE, { settings: { ffprobe } });
    await copyFile(await makeClip({ seconds: 1, format: 'mkv' }), join(t.root, 'slow.mkv'));
    const id = await submit(t, t.admin, simpleSpec('slow.mkv', 'out/d.mp4'));
    await eventually('planning', async () => ((await getJob(t, id)).stage === 'planning' ? true : undefined));
    expect(
      (await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: t.admin })).statusCode,
    ).toBe(200);
    expect(
      (await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: t.admin })).statusCode,
    ).toBe(200);
    const job = await waitForJob(t.app, t.admin, id, 30_000);
    // Today: failed with the first attempt's probe error, and the retried attempt never planned.
    expect({ status: job.status, attempts: job.attempts, error: job.error }).toMatchObject({
      status: 'completed',
      attempts: 2,
    });
  });
});

describe('SSE', () => {
  const failedJob = async (t: TestOrchestrator) => {
    const id = await submit(t, t.admin, simpleSpec('does-not-exist.mp4', 'out/x.mp4'));
    await waitForJob(t.app, t.admin, id, 20_000);
    return id;
  };

  // FINDING 5 (high): an SSE client that reconnects after the terminal event (EventSource does so
  // by itself, 2 s after the server ends the stream: `retry: 2000`, events.routes.ts:58) sends
  // Last-Event-ID = the terminal event's id; pump() then reads nothing and the stream never ends
  // (events.routes.ts:72-100 only closes on reading a terminal event). Each such stream lives for
  // ever and, through `beat` (events.routes.ts:118-129), reads the job 4 times a second.
  // Fix: after the replay, if the job is already terminal (and no later terminal event is
  // pending), close the stream; or send `retry` only while open and end with an explicit
  // terminal frame and HTTP 204 on reconnect to a finished job.
  it('ends a stream opened after the terminal event (an EventSource reconnecting)', async () => {
    const t = await orchestrator(PGLITE, { worker: false });
    const id = await failedJob(t);
    const url = `${t.url}/api/v1/jobs/${id}/events`;
    const firstRead = openSse(url, t.admin);
    await firstRead.done;
    const terminal = firstRead.events.at(-1)!;
    expect(terminal.type).toBe('job.failed');
    const again = openSse(url, { ...t.admin, 'last-event-id': String(terminal.id) });
    expect(await settlesWithin(again.done, 5000)).toBe(true);
  });

  // FINDING 6 (medium-high): after a retry, the job's log holds the old attempt's terminal event
  // (job.failed / job.cancelled) before job.retried; a stream replayed from the start closes on
  // that stale event (events.routes.ts:90) and never shows the retried attempt: `mediaforge
  // retry JOB && mediaforge watch JOB` reports the old failure while the job runs again.
  // Fix: close only on a terminal event that is the job's current state (compare with the job
  // row's attempts/state, or tag events with the job attempt and skip terminals of older ones).
  it("follows a retried job past its previous attempt's terminal event", async () => {
    const t = await orchestrator(PGLITE, { worker: false });
    const id = await failedJob(t);
    const retry = await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: t.admin });
    expect(retry.statusCode).toBe(200);
    await eventually('failed again', async () => {
      const j = await getJob(t, id);
      return j.attempts === 2 && j.status === 'failed' ? true : undefined;
    });
    const s = openSse(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    await settlesWithin(s.done, 5000);
    const types = s.events.filter((e) => e.id !== undefined).map((e) => e.type);
    expect(types).toContain('job.retried');
    expect(types.at(-1)).toBe('job.failed');
  });

  // FINDING 7 (high): shutdown hangs while any SSE client is connected. RunningOrchestrator.close
  // awaits app.close() first (src/orchestrator/server.ts:236); the SSE responses are hijacked
  // (events.routes.ts:49) and nothing ends them on close, so Node's server.close waits for the
  // clients to leave. SIGTERM of `mediaforge up` with a dashboard open never reaches the worker's
  // grace period / release (src/cli/up.ts:266-268), the control plane or the store.
  // Fix: keep the open streams in a set and end them in an onClose/preClose hook (or set
  // forceCloseConnections), and stop the worker before/independently of the HTTP drain.
  it('stops within seconds while an SSE client is connected', async () => {
    const t = await startTestOrchestrator(PGLITE, { worker: false });
    await t.clip('in.mp4', 1);
    const id = await submit(t, t.admin, simpleSpec('in.mp4', 'out/e.mp4'));
    const s = openSse(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    await eventually('stream open', async () => (s.events.length > 0 ? true : undefined), 10_000);
    const closing = t.close();
    const stopped = await settlesWithin(closing, 8000);
    s.abort();
    await closing;
    expect(stopped).toBe(true);
  });

  // FINDING 7b (medium): a stream whose client leaves before the handler is set up leaks for
  // ever. The handler awaits the job lookup (events.routes.ts:41) and only then listens for
  // `close` on the request (events.routes.ts:130); a client that disconnected meanwhile already
  // emitted it, so close() never runs: the store listener, the 15 s keepalive and the 250 ms
  // `beat` (which reads the job from the database 4 times a second) stay for the life of the
  // process, and (not unref'd) keep it alive.
  // Fix: listen on `res`/`req.raw` `close` before any await, and check `req.raw.destroyed ||
  // res.destroyed` right after hijacking; close() in that case.
  it('frees a stream whose client left while the job was being looked up', async () => {
    const t = await orchestrator(PGLITE, { worker: false });
    await t.clip('in.mp4', 1);
    const id = await submit(t, t.admin, simpleSpec('in.mp4', 'out/e2.mp4'));
    const control = t.started.orchestrator.control;
    const real = control.jobs.get.bind(control.jobs);
    let slowOnce = true;
    const spy = vi.spyOn(control.jobs, 'get').mockImplementation(async (...args) => {
      if (slowOnce) {
        slowOnce = false;
        await sleep(500); // a busy database
      }
      return real(...args);
    });
    cleanups.push(async () => spy.mockRestore());
    const s = openSse(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    await sleep(100);
    s.abort();
    await sleep(1500);
    spy.mockClear();
    await sleep(2000);
    // Nobody is listening any more: nothing should read this job.
    expect(spy.mock.calls.length).toBe(0);
  });

  // FINDING 8 (medium): an idle stream queries the database 4 times a second. `beat`
  // (events.routes.ts:118-129) runs every 250 ms and, whenever nothing was written for 900 ms,
  // reads the job, whatever its state; it only writes when the job is processing, so for a
  // queued (or, per finding 5, finished) job `lastWrite` never moves and every tick is a query:
  // 1,000 dashboards watching queued jobs = 4,000 queries/s.
  // Fix: only poll while the last known state is processing (update it from the events), at most
  // once a second, or serve the reminder from the last progress event in memory.
  it('does not poll the database several times a second for a queued job', async () => {
    const t = await orchestrator(PGLITE, { worker: false });
    await t.clip('in.mp4', 1);
    const id = await submit(t, t.admin, simpleSpec('in.mp4', 'out/f.mp4'));
    await eventually('queued', async () => ((await getJob(t, id)).stage === 'queued' ? true : undefined));
    const control = t.started.orchestrator.control;
    const spy = vi.spyOn(control.jobs, 'get');
    cleanups.push(async () => spy.mockRestore());
    const s = openSse(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    await eventually('stream open', async () => (s.events.length > 0 ? true : undefined), 10_000);
    spy.mockClear();
    await sleep(4000);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(4);
  });

  // FINDING 9 (medium-high, PostgreSQL): events are read by `id > last` (events.repository.ts:40)
  // but ids come from an IDENTITY sequence, taken when the row is inserted, not when it commits.
  // An event of a longer transaction (jobs.finish writes job.cancelled, then updates the tasks:
  // jobs.repository.ts:188-212) commits after a later-numbered event of another writer (the
  // scheduler's task.dispatched, a report's log: control-plane.ts:261, 312); the stream has moved
  // `last` past it (events.routes.ts:85-89) and never sends it. When the skipped event is the
  // terminal one, the stream never ends; Last-Event-ID replay has the same hole.
  // Fix: read only ids below the oldest in-flight transaction's (e.g. track
  // pg_snapshot_xmin/xid8 per event and only advance past committed-before-snapshot rows), or
  // serialise event writes per job (lock the job row before inserting any event), or re-read a
  // small window below `last`.
  pgIt('delivers an event that commits after a later-numbered one (and ends the stream)', async () => {
    const t = await orchestrator(PG, { worker: false });
    await t.clip('in.mp4', 1);
    const control = t.started.orchestrator.control;
    const w = await attachFake(t, 'remote-g');
    const id = await submit(t, t.admin, simpleSpec('in.mp4', 'out/g.mp4'));
    const a = await eventually('dispatch', async () => w.dispatched[0], 20_000);
    expect(await w.sink.report({ type: 'running', task_id: a.task_id, attempt: a.attempt })).toBe('ok');
    const s = openSse(`${t.url}/api/v1/jobs/${id}/events`, t.admin);
    await eventually('processing seen', async () =>
      s.events.some((e) => e.type === 'job.processing') ? true : undefined,
    );

    // Another session holds the task row for a moment (any concurrent task update would).
    const blocker = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${t.schema}` });
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query('SELECT id FROM tasks WHERE id = $1 FOR UPDATE', [a.task_id]);
    // The cancel writes job.cancelled (id N) and waits on the task row before it commits.
    const cancelling = control.cancelJob(id);
    await sleep(300);
    // Meanwhile another writer appends an event: it waits for the job's row, so it is numbered
    // after job.cancelled and a reader following ids cannot skip that one.
    const appending = control.events.append({
      jobId: id,
      taskId: a.task_id,
      type: 'task.dispatched',
      data: { task_id: a.task_id, note: 'a concurrent writer' },
    });
    await sleep(300);
    await blocker.query('ROLLBACK');
    expect(await cancelling).toBe(true);
    await appending;
    expect(await settlesWithin(s.done, 5000)).toBe(true);
    expect(s.events.map((e) => e.type)).toContain('job.cancelled');
  });
});

describe('replicas and the database', () => {
  // FINDING 10 (medium-high, PostgreSQL): the leader only dispatches to workers attached to its
  // own process (control-plane.ts:236 returns at once when it has none; :241-242 skips the others),
  // while only the leader schedules (:212-224). A `mediaforge orchestrator` replica that wins the
  // advisory lock starves every `mediaforge up` replica's worker: jobs stay queued for ever (and
  // with two `up` replicas, the non-leader's worker never works).
  // Fix: until remote workers exist, let every replica dispatch to its own attached workers
  // (claims are SKIP LOCKED, so that is safe), keeping leader-only rescue/prune; or make
  // dispatch go through an HTTP/URL link any replica can reach.
  pgIt('runs a job when the leader replica has no worker and another replica has one', async () => {
    const schema = freshSchema();
    cleanups.push(() => dropSchema(PG_URL, schema));
    // One media folder for both, as a shared NAS would be.
    const shared = tempRoot('mf-review-shared-');
    const leader = await orchestrator(PG, { worker: false, schema, settings: { media_root: shared } });
    await eventually('leads', async () => (leader.started.orchestrator.control.leading ? true : undefined));
    const withWorker = await orchestrator(PG, { schema, settings: { media_root: shared } });
    await withWorker.clip('in.mp4', 1);
    const id = await submit(withWorker, withWorker.admin, simpleSpec('in.mp4', 'out/h.mp4'));
    const job = await waitForJob(withWorker.app, withWorker.admin, id, 20_000).catch((e) => ({
      status: String(e),
    }));
    expect(job.status).toBe('completed');
  });

  // FINDING 11 (medium, PostgreSQL): the jobs-in-flight limit is checked with a count in the
  // INSERT's WHERE (jobs.repository.ts:58); under READ COMMITTED concurrent submits each count
  // only committed rows, so a burst creates many more unfinished jobs than max_jobs_in_flight.
  // Fix: serialise per owner (pg_advisory_xact_lock(hashtext(owner)) or SELECT … FOR UPDATE on the
  // user row in the same transaction) before counting, or keep a counter on users with a CHECK.
  pgIt('keeps max_jobs_in_flight under a burst of concurrent submits', async () => {
    const t = await orchestrator(PG, { worker: false, settings: { max_jobs_in_flight: 2 } });
    await t.clip('in.mp4', 1);
    const alice = await t.user('alice');
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/jobs',
          headers: alice,
          payload: simpleSpec('in.mp4', `out/burst-${i}.mp4`),
        }),
      ),
    );
    const created = answers.filter((r) => r.statusCode === 201).length;
    expect(created).toBeLessThanOrEqual(2);
  });

  // FINDING 12 (medium, PostgreSQL): the LISTEN connection reconnects once. On an error it
  // schedules listen() after 1 s (src/db/store.ts:164-168); if that connect fails (the server is
  // still restarting), the rejection is swallowed (`.catch(() => {})`) and nothing tries again:
  // this replica never hears another notification. Its SSE clients stop seeing work done on other
  // replicas, and nothing tells /readyz.
  // Fix: retry with backoff until it connects (and re-read/pump SSE streams after a reconnect,
  // since notifications sent meanwhile are lost).
  pgIt('hears notifications again after the database was away for a few seconds', async () => {
    const target = new URL(PG_URL);
    let refusing = false;
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      if (refusing) return client.destroy();
      const server = net.connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(server).pipe(client);
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    });
    const port = (proxy.address() as net.AddressInfo).port;
    const via = new URL(PG_URL);
    via.hostname = '127.0.0.1';
    via.port = String(port);
    const schema = freshSchema();
    cleanups.push(() => dropSchema(PG_URL, schema));
    const store = await openStore({ url: via.toString(), schema });
    cleanups.push(() => store.close());
    const heard: string[] = [];
    store.onEvent((p) => heard.push(p));

    // The server goes away for 3 s (a restart, a failover).
    refusing = true;
    for (const s of sockets) s.destroy();
    await sleep(3000);
    refusing = false;

    const direct = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await direct.connect();
    cleanups.push(() => direct.end());
    await eventually(
      'heard again',
      async () => {
        await direct.query(`INSERT INTO events (type) VALUES ('probe')`);
        return heard.length > 0 ? true : undefined;
      },
      10_000,
    );
  });
});

describe('limits', () => {
  // FINDING 13 (low): retry bypasses max_jobs_in_flight. JobsRepository.retry
  // (jobs.repository.ts:217-235) turns a failed/cancelled job back to pending without the count
  // the insert does, so a user at the limit can revive any number of old jobs.
  // Fix: the same guarded count in retry's UPDATE (and 429 too_many_jobs).
  it('refuses a retry that would exceed max_jobs_in_flight', async () => {
    const t = await orchestrator(PGLITE, { worker: false, settings: { max_jobs_in_flight: 1 } });
    await t.clip('in.mp4', 1);
    const old = await submit(t, t.admin, simpleSpec('does-not-exist.mp4', 'out/x.mp4'));
    await waitForJob(t.app, t.admin, old, 20_000);
    await submit(t, t.admin, simpleSpec('in.mp4', 'out/i.mp4'));
    const retry = await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${old}/retry`, headers: t.admin });
    expect(retry.statusCode).toBe(429);
  });
});
