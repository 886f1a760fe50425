/**
 * The guarded transitions, on PGlite and PostgreSQL: a double cancel, a late report from an
 * attempt the orchestrator gave up on, concurrent claims, lost workers and their attempts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshStore, TEST_DATABASES } from '../../test/helpers/db.js';
import { JobsRepository } from './jobs.repository.js';
import { KeysRepository } from './keys.repository.js';
import type { Store } from './store.js';
import { TasksRepository } from './tasks.repository.js';
import { WorkersRepository } from './workers.repository.js';

describe.each(TEST_DATABASES)('repositories on $name', (t) => {
  let store: Store;
  let jobs: JobsRepository;
  let tasks: TasksRepository;
  let workers: WorkersRepository;
  let owner: string;

  beforeEach(async () => {
    store = await freshStore(t);
    jobs = new JobsRepository(store.db);
    tasks = new TasksRepository(store.db);
    workers = new WorkersRepository(store.db);
    owner = (await new KeysRepository(store.db).ensureUser('u', 'user')).id;
  });
  afterEach(async () => store.close());

  const newJob = async (id: string, n = 1, deps: (i: number) => string[] = () => []) => {
    const r = await jobs.insert({
      id,
      owner,
      spec: { n },
      requestHash: id,
      priority: 0,
      callbackUrl: null,
      idempotencyKey: null,
      maxInFlight: 100,
    });
    expect(r.kind).toBe('created');
    expect((await jobs.claimForPlanning('p1', 60))?.id).toBe(id);
    const planned = await jobs.savePlan(
      id,
      'p1',
      {},
      Array.from({ length: n }, (_, i) => ({
        id: `${id}:t${i}`,
        ordinal: i,
        kind: 'transcode',
        spec: { expected_duration: 1 },
        deps: deps(i),
        requirements: {},
      })),
      3,
    );
    expect(planned).toBe(true);
  };

  const worker = async (id: string, session: string) =>
    workers.register({ id, name: id, url: null, session, capabilities: {}, maxConcurrent: 4, labels: [] });

  it('cancels once: the second cancel finds the job finished', async () => {
    await newJob('j1');
    expect(await jobs.cancel('j1')).toEqual([]);
    expect(await jobs.cancel('j1')).toBeNull();
    expect(await jobs.fail('j1', { code: 'internal_error', message: 'x', retryable: false })).toBeNull();
    expect((await jobs.get('j1'))?.state).toBe('cancelled');
    expect((await tasks.forJob('j1')).map((x) => x.state)).toEqual(['cancelled']);
  });

  it('refuses a report from an earlier attempt and one for a cancelled task', async () => {
    await newJob('j2');
    await worker('w', 's1');
    const first = await tasks.claimNext('w', 's1');
    expect(first).toMatchObject({ id: 'j2:t0', attempt: 1, state: 'dispatched' });
    expect(await tasks.undispatch('j2:t0', 1)).toBe(true);
    const second = await tasks.claimNext('w', 's1');
    expect(second?.attempt).toBe(2);
    // The old attempt's reports change nothing.
    expect(await tasks.markRunning('j2:t0', 1)).toBeUndefined();
    expect(await tasks.succeed('j2:t0', 1, {})).toBeUndefined();
    expect(await tasks.fail('j2:t0', 1, { code: 'stalled', message: 'x', retryable: true })).toBeUndefined();
    expect((await tasks.markRunning('j2:t0', 2))?.state).toBe('running');
    await jobs.cancel('j2');
    expect(await tasks.succeed('j2:t0', 2, {})).toBeUndefined();
    expect((await tasks.get('j2:t0'))?.state).toBe('cancelled');
  });

  it('never hands one task to two claimers at once', async () => {
    await newJob('j3', 6);
    await worker('w', 's1');
    const claims = await Promise.all(Array.from({ length: 10 }, () => tasks.claimNext('w', 's1')));
    const got = claims.filter((c) => c !== undefined).map((c) => c!.id);
    expect(got.sort()).toEqual(['j3:t0', 'j3:t1', 'j3:t2', 'j3:t3', 'j3:t4', 'j3:t5']);
  });

  it('makes a task ready when its dependencies succeeded', async () => {
    await newJob('j4', 2, (i) => (i === 1 ? ['j4:t0'] : []));
    await worker('w', 's1');
    expect((await tasks.forJob('j4')).map((x) => x.state)).toEqual(['ready', 'blocked']);
    const a = await tasks.claimNext('w', 's1');
    expect(a?.id).toBe('j4:t0');
    expect(await tasks.claimNext('w', 's1')).toBeUndefined();
    await tasks.succeed('j4:t0', a!.attempt, { analysis: { x: 1 } });
    expect((await tasks.forJob('j4')).map((x) => x.state)).toEqual(['succeeded', 'ready']);
  });

  it('re-queues the tasks of a lost worker until the attempts run out', async () => {
    await newJob('j5');
    for (let n = 1; n <= 3; n++) {
      await worker('w', `s${n}`);
      const c = await tasks.claimNext('w', `s${n}`);
      expect(c?.attempt).toBe(n);
      await tasks.markRunning(c!.id, c!.attempt);
      // The worker restarts: a new session; its old session's task is lost.
      await worker('w', `s${n + 1}`);
      const rescued = await tasks.rescueLost(60);
      expect(rescued).toEqual([
        { id: 'j5:t0', job_id: 'j5', state: n < 3 ? 'ready' : 'failed', worker: 'w' },
      ]);
    }
    const t5 = await tasks.get('j5:t0');
    // The worker it was lost on is remembered once, so the scheduler prefers another next time.
    expect(t5).toMatchObject({
      state: 'failed',
      failures: 3,
      error: { code: 'worker_lost' },
      avoid_workers: ['w'],
    });
  });

  it('re-queues on a silent worker, not on a live one', async () => {
    await newJob('j6');
    await worker('w', 's1');
    const c = await tasks.claimNext('w', 's1');
    expect(await tasks.rescueLost(60)).toEqual([]);
    expect(await workers.heartbeat('w', 'old')).toBe(false);
    expect(await workers.heartbeat('w', 's1')).toBe(true);
    // A timeout below zero: every heartbeat is too old.
    const rescued = await tasks.rescueLost(-60);
    expect(rescued.map((r) => r.id)).toEqual([c!.id]);
  });

  it('retries a failed job afresh and prunes finished jobs past the retention', async () => {
    await newJob('j7');
    await jobs.fail('j7', { code: 'input_not_found', message: 'gone', retryable: false });
    await newJob('j8');
    await jobs.cancel('j8');
    expect(await jobs.retry('j7', 'someone-else')).toBeUndefined();
    const r = await jobs.retry('j7', owner);
    expect(r).toMatchObject({ state: 'pending', stage: 'probing', attempts: 2, error: null });
    expect(await tasks.forJob('j7')).toEqual([]);
    expect(await jobs.retry('j7')).toBeUndefined();

    expect(await jobs.prune(new Date(Date.now() - 60_000))).toBe(0);
    expect(await jobs.prune(new Date(Date.now() + 60_000))).toBe(1);
    expect(await jobs.get('j8')).toBeUndefined();
    // An unfinished job is never pruned, however old.
    expect((await jobs.get('j7'))?.state).toBe('pending');
  });

  it('a planner whose claim lapsed cannot save its plan over another one', async () => {
    const r = await jobs.insert({
      id: 'j9',
      owner,
      spec: {},
      requestHash: 'h',
      priority: 0,
      callbackUrl: null,
      idempotencyKey: null,
      maxInFlight: 100,
    });
    expect(r.kind).toBe('created');
    expect((await jobs.claimForPlanning('slow', 0))?.id).toBe('j9');
    await new Promise((res) => setTimeout(res, 20));
    expect((await jobs.claimForPlanning('fast', 60))?.id).toBe('j9');
    expect(await jobs.savePlan('j9', 'slow', {}, [], 3)).toBe(false);
    expect(await jobs.savePlan('j9', 'fast', {}, [], 3)).toBe(true);
  });
});
