/**
 * The planner: any replica claims a pending job (a lease, so a crashed planner's claim lapses),
 * probes its inputs, plans it and stores its tasks, or fails it with a clear error; both only
 * while the claim is still its own, since a cancel or a retry may have come meanwhile.
 */
import type { Logger } from 'pino';
import { isAppError } from '../core/index.js';
import type { EventsRepository, JobsRepository, StoredError } from '../db/index.js';
import { type PrepareContext, prepareJob } from '../pipeline/index.js';
import type { MediaRoots } from '../storage/index.js';
import { Wakeup } from './wakeup.js';

const LEASE_SECONDS = 60;

export interface PlannerOptions {
  jobs: JobsRepository;
  events: EventsRepository;
  logger: Logger;
  roots: MediaRoots;
  prepare: Omit<PrepareContext, 'roots' | 'signal'>;
  maxAttempts: number;
  /** This process: the planner's name in its claims. */
  instance: string;
  /** An error as the job keeps it (paths made relative to the media roots). */
  storedError: (e: unknown) => StoredError;
  /** Workers idle now: with several and a long input, a job that did not say may be chunked. */
  idleWorkers?: () => Promise<number>;
}

/**
 * A task's id names its job's run (attempts, raised by a retry): a retried job's tasks are new
 * tasks, so a late report of the run before the retry can never be taken for one of theirs.
 */
export const taskId = (jobId: string, jobAttempt: number, planTaskId: string) =>
  `${jobId}:${jobAttempt}:${planTaskId}`;

export class Planner {
  readonly #o: PlannerOptions;
  readonly #wake = new Wakeup();
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(o: PlannerOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** A job may be waiting: look now rather than at the next tick. */
  wake(): void {
    this.#wake.wake();
  }

  async close(): Promise<void> {
    this.#running = false;
    this.#wake.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let planned = false;
      try {
        const job = await this.#o.jobs.claimForPlanning(this.#o.instance, LEASE_SECONDS);
        if (job) {
          planned = true;
          await this.#plan(job.id, job.attempts, job.spec);
        }
      } catch (e) {
        this.#o.logger.error({ err: e }, 'planner error');
      }
      if (!planned) await this.#wake.wait(1000 + Math.random() * 500);
    }
  }

  async #plan(jobId: string, jobAttempt: number, spec: unknown): Promise<void> {
    const { jobs, events } = this.#o;
    const log = this.#o.logger.child({ job_id: jobId });
    try {
      await events.append({
        jobId,
        type: 'log',
        data: { level: 'info', stage: 'probing', message: 'probing the inputs' },
      });
      const idleWorkers = await this.#o.idleWorkers?.().catch((e: unknown) => {
        log.warn({ err: e }, 'could not count the idle workers; the job is not split unasked');
        return undefined;
      });
      const prepared = await prepareJob(
        { spec },
        { ...this.#o.prepare, roots: this.#o.roots, ...(idleWorkers === undefined ? {} : { idleWorkers }) },
      );
      const tasks = prepared.plan.tasks.map((t, ordinal) => ({
        id: taskId(jobId, jobAttempt, t.id),
        ordinal,
        kind: t.kind,
        spec: t,
        deps: t.deps.map((d) => taskId(jobId, jobAttempt, d)),
        requirements: t.requirements,
      }));
      const { stages, nodes, outputs, estimate, notes } = prepared.plan;
      const plan = { stages, nodes, outputs, estimate, notes, tasks: prepared.plan.tasks };
      if (await jobs.savePlan(jobId, this.#o.instance, plan, tasks, this.#o.maxAttempts)) {
        for (const message of [...notes, `planned ${tasks.length} task(s)`])
          await events.append({ jobId, type: 'log', data: { level: 'info', stage: 'planning', message } });
        log.info({ tasks: tasks.length }, 'job planned');
      }
    } catch (e) {
      if (!isAppError(e)) log.error({ err: e }, 'planning failed unexpectedly');
      await jobs.fail(jobId, this.#o.storedError(e), undefined, { planner: this.#o.instance });
    }
  }
}
