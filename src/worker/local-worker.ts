/**
 * The worker inside `mediaforge up`: the same WorkerLink a remote worker offers, served in
 * process. It runs at most `slots` tasks at once; on close it lets running tasks finish within
 * the grace period, then stops them and hands them back (released, no failure counted).
 */
import type { TaskAssignment, TaskReportSink, WorkerLink } from '../core/index.js';
import { type RunnerContext, runAssignment } from './task-runner.js';

interface Run {
  attempt: number;
  stop: AbortController;
  done: Promise<void>;
  shutdown: boolean;
}

export class LocalWorker implements WorkerLink {
  readonly #ctx: RunnerContext;
  readonly #slots: number;
  readonly #runs = new Map<string, Run>();
  #sink: TaskReportSink | null = null;
  #closing = false;

  constructor(ctx: RunnerContext, slots: number) {
    this.#ctx = ctx;
    this.#slots = slots;
  }

  get slots(): number {
    return this.#slots;
  }

  get active(): number {
    return this.#runs.size;
  }

  connect(sink: TaskReportSink): void {
    this.#sink = sink;
  }

  async dispatch(a: TaskAssignment): Promise<'accepted' | 'busy' | 'unavailable'> {
    if (this.#closing || !this.#sink) return 'unavailable';
    const current = this.#runs.get(a.task_id);
    if (current?.attempt === a.attempt && !current.stop.signal.aborted) return 'accepted';
    // An earlier attempt of this task is still stopping: not yet.
    if (current) return 'busy';
    if (this.#runs.size >= this.#slots) return 'busy';
    const sink = this.#sink;
    const stop = new AbortController();
    const run: Run = { attempt: a.attempt, stop, shutdown: false, done: Promise.resolve() };
    run.done = (async () => {
      try {
        const outcome = await runAssignment(a, sink, this.#ctx, stop);
        if (outcome === 'stopped' && run.shutdown)
          await sink.report({ type: 'released', task_id: a.task_id, attempt: a.attempt }).catch(() => {});
      } catch (e) {
        this.#ctx.logger.error({ err: e, task_id: a.task_id }, 'task run crashed');
      } finally {
        if (this.#runs.get(a.task_id) === run) this.#runs.delete(a.task_id);
      }
    })();
    this.#runs.set(a.task_id, run);
    return 'accepted';
  }

  async cancel(taskId: string, attempt: number): Promise<void> {
    const run = this.#runs.get(taskId);
    if (!run || run.attempt !== attempt) return;
    run.stop.abort();
    await run.done;
  }

  /** Stops taking work; running tasks get `graceMs` to finish, then are stopped and released. */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    const all = () => Promise.all([...this.#runs.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const run of this.#runs.values()) {
        run.shutdown = true;
        run.stop.abort();
      }
      await all();
    }
  }
}
