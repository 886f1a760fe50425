/**
 * A worker's task pool, behind the WorkerLink the orchestrator dispatches to: in process for
 * `mediaforge up`, behind the worker API for `mediaforge worker`. It runs at most `slots` tasks at
 * once and queues up to `queueLength` more; on close it lets running tasks finish within the grace
 * period, then stops them and hands them back (released, no failure counted).
 */
import type { TaskAssignment, TaskProgress, TaskReportSink, WorkerLink } from '../core/index.js';
import { type RunnerContext, runAssignment } from './task-runner.js';

interface Run {
  attempt: number;
  stop: AbortController;
  done: Promise<void>;
  shutdown: boolean;
  progress: TaskProgress | null;
  started: boolean;
}

export interface RunView {
  task_id: string;
  attempt: number;
  state: 'queued' | 'running' | 'stopping';
  percent: number | null;
  fps: number | null;
  speed: number | null;
}

export class LocalWorker implements WorkerLink {
  readonly #ctx: RunnerContext;
  readonly #slots: number;
  readonly #queueLength: number;
  readonly #runs = new Map<string, Run>();
  /** Runs waiting for a slot, oldest first. */
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  #sink: TaskReportSink | null = null;
  #closing = false;
  /** Why it takes no new work now (error, maintenance, draining), or null. */
  #refusing: string | null = null;

  constructor(ctx: RunnerContext, slots: number, queueLength = 0) {
    this.#ctx = ctx;
    this.#slots = slots;
    this.#queueLength = queueLength;
  }

  /** Refuse new work (answer `unavailable`) with a reason, or take it again (null). */
  refuse(reason: string | null): void {
    this.#refusing = reason;
  }

  get refusing(): string | null {
    return this.#closing ? 'shutting down' : this.#refusing;
  }

  /** Every run it holds, queued or running. */
  runs(): RunView[] {
    return [...this.#runs].map(([task_id, r]) => ({
      task_id,
      attempt: r.attempt,
      state: r.stop.signal.aborted ? 'stopping' : r.started ? 'running' : 'queued',
      percent: r.progress?.percent ?? null,
      fps: r.progress?.fps ?? null,
      speed: r.progress?.speed ?? null,
    }));
  }

  get running(): number {
    return this.#running;
  }

  async #slot(stop: AbortSignal): Promise<boolean> {
    if (this.#running < this.#slots) {
      this.#running++;
      return true;
    }
    await new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
      stop.addEventListener('abort', () => resolve(), { once: true });
    });
    if (stop.aborted) return false;
    this.#running++;
    return true;
  }

  #release(): void {
    this.#running--;
    this.#waiting.shift()?.();
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
    if (!this.#sink) return 'unavailable';
    const current = this.#runs.get(a.task_id);
    if (current?.attempt === a.attempt && !current.stop.signal.aborted) return 'accepted';
    if (this.refusing) return 'unavailable';
    // An earlier attempt of this task is still stopping: not yet.
    if (current) return 'busy';
    if (this.#runs.size >= this.#slots + this.#queueLength) return 'busy';
    const outer = this.#sink;
    const stop = new AbortController();
    const run: Run = {
      attempt: a.attempt,
      stop,
      shutdown: false,
      done: Promise.resolve(),
      progress: null,
      started: false,
    };
    // The pool keeps the last progress of each run for its status answers.
    const sink: TaskReportSink = {
      report: (r) => {
        if (r.type === 'progress') run.progress = r.progress;
        return outer.report(r);
      },
    };
    run.done = (async () => {
      let held = false;
      try {
        held = await this.#slot(stop.signal);
        if (!held) {
          if (run.shutdown)
            await sink.report({ type: 'released', task_id: a.task_id, attempt: a.attempt }).catch(() => {});
          return;
        }
        run.started = true;
        const outcome = await runAssignment(a, sink, this.#ctx, stop);
        if (outcome === 'stopped' && run.shutdown)
          await sink.report({ type: 'released', task_id: a.task_id, attempt: a.attempt }).catch(() => {});
      } catch (e) {
        this.#ctx.logger.error({ err: e, task_id: a.task_id }, 'task run crashed');
      } finally {
        if (held) this.#release();
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
    // Queued tasks go back at once: they would only start during the grace period.
    for (const run of this.#runs.values())
      if (!run.started) {
        run.shutdown = true;
        run.stop.abort();
      }
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
