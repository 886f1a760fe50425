/**
 * The control plane without HTTP: plans pending jobs (planner.ts), hands ready tasks to workers, applies what
 * workers report, and rescues the tasks of workers that went away. Any replica plans, applies
 * reports and hands tasks to the workers attached to it (claims are FOR UPDATE SKIP LOCKED);
 * only the leader (an advisory lock on PostgreSQL) rescues lost work, settles jobs a crash left
 * open and prunes.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import {
  AppError,
  type BreakerState,
  CLOSED_BREAKER,
  type ErrorCode,
  idleWorkers,
  isAppError,
  listedEncoders,
  nextBreaker,
  RETRYABLE_CODES,
  type SessionStart,
  type SessionStarted,
  selectWorkers,
  type TaskAssignment,
  type TaskReport,
  type TaskReportSink,
  type TaskSpec,
  type TransferUrls,
  taskFiles,
  type WorkerHeartbeat,
  type WorkerLink,
  type WorkerPatch,
  type WorkerView,
} from '../core/index.js';
import {
  EventsRepository,
  effectiveLimits,
  JobsRepository,
  KeysRepository,
  newSecret,
  SecretsRepository,
  type StopTask,
  type Store,
  type StoredError,
  type TaskRow,
  TasksRepository,
  WorkersRepository,
  type WorkerWithAge,
} from '../db/index.js';
import { type PrepareContext, removeScratch } from '../pipeline/index.js';
import {
  ensureRootMarker,
  isInside,
  type MediaRoots,
  relativeToRoots,
  signTransfer,
} from '../storage/index.js';
import type { Metrics } from './metrics.js';
import { Planner } from './planner.js';
import { jobProgress } from './progress.js';
import { Wakeup } from './wakeup.js';
import { HttpWorkerLink } from './worker-link.js';

/** Heard from within this long, a worker counts as online for selection (the 30 s). */
const ONLINE_WITHIN_SECONDS = 30;
const BREAKER = { threshold: 3, windowMs: 10 * 60_000, baseAsideMs: 60_000, maxAsideMs: 30 * 60_000 };

export interface ControlPlaneOptions {
  store: Store;
  logger: Logger;
  roots: MediaRoots;
  prepare: Omit<PrepareContext, 'roots' | 'signal'>;
  maxAttempts: number;
  workerTimeoutSeconds: number;
  /** A running task silent this long while its worker heartbeats is stopped and re-queued; 0: never. */
  hungTaskSeconds?: number;
  retentionDays: number;
  metrics?: Metrics;
}

interface Attached {
  link: WorkerLink;
  session: string;
  heartbeat: NodeJS.Timeout;
}

export class ControlPlane {
  readonly jobs: JobsRepository;
  readonly tasks: TasksRepository;
  readonly events: EventsRepository;
  readonly workers: WorkersRepository;
  readonly keys: KeysRepository;
  readonly instance = randomUUID();
  readonly #o: ControlPlaneOptions;
  readonly #links = new Map<string, Attached>();
  readonly #planner: Planner;
  readonly #scheduleWake = new Wakeup();
  readonly #lastProgressEvent = new Map<string, number>();
  /** Links to remote workers, by worker id, for the session they were made for. */
  readonly #remote = new Map<string, { session: string; link: HttpWorkerLink }>();
  #running = false;
  #loops: Promise<void>[] = [];
  #unsubscribe: (() => void) | null = null;
  #leading = false;
  #transferSecret: Promise<string> | null = null;
  #rootMarkers: Promise<Array<{ path: string; id: string }>> | null = null;

  constructor(o: ControlPlaneOptions) {
    this.#o = o;
    const db = o.store.db;
    this.jobs = new JobsRepository(db);
    this.tasks = new TasksRepository(db);
    this.events = new EventsRepository(db);
    this.workers = new WorkersRepository(db);
    this.keys = new KeysRepository(db);
    this.#planner = new Planner({
      jobs: this.jobs,
      events: this.events,
      logger: o.logger,
      roots: o.roots,
      prepare: o.prepare,
      maxAttempts: o.maxAttempts,
      instance: this.instance,
      storedError: (e) => this.#storedError(e, false),
      idleWorkers: () => this.#idleWorkers(),
    });
  }

  /**
   * Idle workers that share storage: a chunk on a worker without it would fetch the whole source,
   * so those do not count towards splitting a job unasked.
   */
  async #idleWorkers(): Promise<number> {
    const [rows, held] = await Promise.all([this.workers.list(), this.tasks.heldByWorker()]);
    const sharing = rows.filter(
      (w) => (w.capabilities as { shared_roots?: string[] }).shared_roots?.length !== 0,
    );
    return idleWorkers(
      sharing.map((w) => workerView(w, held.get(w.id) ?? 0)),
      { now: Date.now(), onlineWithinSeconds: Math.min(ONLINE_WITHIN_SECONDS, this.#o.workerTimeoutSeconds) },
    );
  }

  setMetrics(m: Metrics): void {
    this.#o.metrics = m;
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    // Any new event may mean work: a job to plan, a task made ready, a worker that freed a slot.
    this.#unsubscribe = this.#o.store.onEvent((payload) => {
      const type = safeType(payload);
      if (type === 'job.created' || type === 'job.retried') this.#planner.wake();
      this.#scheduleWake.wake();
    });
    this.#planner.start();
    this.#loops = [this.#scheduleLoop()];
  }

  /** Stops the loops; running tasks are the workers' business (see `up`'s shutdown). */
  async close(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    this.#scheduleWake.wake();
    await Promise.allSettled([...this.#loops, this.#planner.close()]);
    for (const a of this.#links.values()) clearInterval(a.heartbeat);
    this.#links.clear();
  }

  /** Registers a worker this process can reach and keeps its heartbeat while attached. */
  async attachWorker(
    reg: {
      id: string;
      name: string;
      url: string | null;
      maxConcurrent: number;
      capabilities: Record<string, unknown>;
      labels?: string[];
    },
    link: WorkerLink,
  ): Promise<{ session: string; sink: TaskReportSink }> {
    const session = randomUUID();
    // In process, the worker uses this process's FFmpeg: what it lists is what the worker has.
    const capabilities = Array.isArray(reg.capabilities.encoders)
      ? reg.capabilities
      : { ...reg.capabilities, encoders: listedEncoders(await this.#o.prepare.tools.encoders()) };
    await this.workers.register({ ...reg, capabilities, session, labels: reg.labels ?? [] });
    const heartbeat = setInterval(
      () =>
        void this.workers
          .heartbeat(reg.id, session)
          .catch((e) => this.#o.logger.warn({ err: e }, 'heartbeat failed')),
      Math.max(1000, (this.#o.workerTimeoutSeconds * 1000) / 4),
    );
    heartbeat.unref();
    this.#links.set(reg.id, { link, session, heartbeat });
    this.#scheduleWake.wake();
    return {
      session,
      sink: { report: async (r) => ((await this.report(reg.id, r)) === 'ok' ? 'ok' : 'stale') },
    };
  }

  /** New capabilities of a worker attached here (its probe finished, an encoder failed). */
  async updateAttachedCapabilities(id: string, capabilities: Record<string, unknown>): Promise<void> {
    const a = this.#links.get(id);
    if (a && (await this.workers.setCapabilities(id, a.session, capabilities))) this.#scheduleWake.wake();
  }

  detachWorker(id: string): void {
    const a = this.#links.get(id);
    if (a) clearInterval(a.heartbeat);
    this.#links.delete(id);
  }

  // ---- scheduling: rescue and pruning by the leader only; dispatch to attached workers by each replica

  async #scheduleLoop(): Promise<void> {
    let lastRescue = 0;
    let lastPrune = 0;
    while (this.#running) {
      let busy = false;
      try {
        this.#leading = await this.#o.store.tryLead();
        if (this.#leading) {
          const now = Date.now();
          if (now - lastRescue > 2000) {
            lastRescue = now;
            await this.#rescue();
          }
          if (this.#o.retentionDays > 0 && now - lastPrune > 3_600_000) {
            lastPrune = now;
            const n = await this.jobs.prune(new Date(now - this.#o.retentionDays * 86_400_000));
            if (n > 0) this.#o.logger.info({ jobs: n }, 'pruned finished jobs');
          }
        }
        // Every replica hands work to the workers attached to it in process (as pull-mode
        // workers claim their own): a leader without a worker must not starve the others.
        busy = await this.#dispatchRound();
      } catch (e) {
        this.#o.logger.error({ err: e }, 'scheduler error');
      }
      if (!busy) await this.#scheduleWake.wait(1000 + Math.random() * 500);
    }
    this.#leading = false;
  }

  /** The link this process has to a worker now: in process, or over HTTP when leading. */
  #linkTo(w: WorkerWithAge): WorkerLink | null {
    const attached = this.#links.get(w.id);
    if (attached) return attached.session === w.session ? attached.link : null;
    if (!this.#leading || !w.url || !w.call_secret) return null;
    const known = this.#remote.get(w.id);
    if (known?.session === w.session) return known.link;
    const link = new HttpWorkerLink(w.url, w.call_secret);
    this.#remote.set(w.id, { session: w.session, link });
    return link;
  }

  /**
   * One pass over the ready tasks, most urgent first: each goes to the best worker that takes it
   * (selection is pure, core/scheduler); a worker that answers busy or unavailable, or does not
   * answer, passes it to the next. A task nobody can take says why. True when something went out.
   */
  async #dispatchRound(): Promise<boolean> {
    if (this.#links.size === 0 && !this.#leading) return false;
    const ready = await this.tasks.ready(200);
    if (ready.length === 0) return false;
    const [rows, held] = await Promise.all([this.workers.list(), this.tasks.heldByWorker()]);
    const now = Date.now();
    const byId = new Map(rows.map((w) => [w.id, w]));
    const views = rows.map((w) => workerView(w, held.get(w.id) ?? 0));
    const online = Math.min(ONLINE_WITHIN_SECONDS, this.#o.workerTimeoutSeconds);
    let dispatched = false;
    for (const task of ready) {
      if (!this.#running) break;
      // Rows planned before placement existed have codecs only.
      const req = task.requirements as Partial<TaskSpec['requirements']>;
      const needs = {
        codecs: req.codecs ?? [],
        labels: req.labels ?? [],
        hardware: req.hardware ?? 'any',
        avoid: task.avoid_workers,
      };
      let sel = selectWorkers(needs, views, { now, onlineWithinSeconds: online });
      // Every capable worker already failed this task: better another try there than none.
      if (sel.candidates.length === 0 && needs.avoid.length > 0)
        sel = selectWorkers({ ...needs, avoid: [] }, views, { now, onlineWithinSeconds: online });
      let sent = false;
      for (const c of sel.candidates) {
        const w = byId.get(c.id)!;
        const link = this.#linkTo(w);
        if (!link) continue;
        const claimed = await this.tasks.claim(task.id, w.id, w.session);
        if (!claimed) {
          sent = true; // another replica took it
          break;
        }
        let answer: 'accepted' | 'busy' | 'unavailable';
        try {
          answer = await link.dispatch(await this.#assignment(claimed, w));
        } catch (e) {
          this.#o.logger.warn({ err: e, worker: w.id }, 'dispatch failed');
          answer = 'unavailable';
        }
        const view = views.find((v) => v.id === w.id)!;
        if (answer !== 'accepted') {
          await this.tasks.undispatch(claimed.id, claimed.attempt);
          // Not again in this round: full, or not taking work.
          if (answer === 'busy') view.active = view.maxConcurrent;
          else view.status = 'error';
          continue;
        }
        view.active++;
        sent = dispatched = true;
        await this.events.append({
          jobId: task.job_id,
          taskId: task.id,
          workerId: w.id,
          type: 'task.dispatched',
          data: { task_id: task.id, worker: w.name, attempt: claimed.attempt },
        });
        break;
      }
      if (!sent && this.#leading) {
        const reason =
          sel.waiting ??
          (sel.candidates.length > 0 ? 'the capable workers turned it down; trying again' : null);
        if (reason && (await this.tasks.setWaiting(task.id, reason)))
          await this.events.append({
            jobId: task.job_id,
            taskId: task.id,
            type: 'log',
            data: { level: 'info', stage: 'queued', message: reason },
          });
      }
    }
    return dispatched;
  }

  // ---- remote workers: sessions, heartbeats, the registry

  async startSession(workerId: string, s: SessionStart): Promise<SessionStarted> {
    const session = randomUUID();
    const callSecret = newSecret('mfc');
    await this.workers.register({
      id: workerId,
      name: s.name,
      url: s.url,
      session,
      capabilities: s.capabilities,
      maxConcurrent: s.max_concurrent,
      labels: s.labels,
      version: s.version,
      callSecret,
    });
    await this.events.append({
      workerId,
      type: 'worker.online',
      data: { worker: s.name, url: s.url, encoders: s.capabilities.encoders.map((e) => e.name) },
    });
    this.#scheduleWake.wake();
    return {
      session,
      call_secret: callSecret,
      heartbeat_seconds: Math.max(1, Math.min(5, this.#o.workerTimeoutSeconds / 3)),
    };
  }

  /** A heartbeat: null when its session is over; else the attempts it must stop and whether to drain. */
  async heartbeat(
    workerId: string,
    hb: WorkerHeartbeat,
  ): Promise<{ stop: Array<{ task_id: string; attempt: number }>; drain: boolean } | null> {
    const ok = await this.workers.heartbeat(workerId, hb.session, {
      status: hb.status,
      reason: hb.reason,
      telemetry: {
        cpu_percent: hb.cpu_percent,
        memory: hb.memory,
        load: hb.load,
        ffmpeg_processes: hb.ffmpeg_processes,
        active: hb.active,
        version: hb.version,
      },
      ...(hb.capabilities ? { capabilities: hb.capabilities } : {}),
    });
    if (!ok) return null;
    const [held, w] = await Promise.all([
      this.tasks.heldBy(workerId, hb.session),
      this.workers.get(workerId),
    ]);
    const stop = hb.active
      .filter((a) => !held.some((h) => h.id === a.task_id && h.attempt === a.attempt))
      .map((a) => ({ task_id: a.task_id, attempt: a.attempt }));
    if (hb.status === 'idle' || hb.status === 'busy') this.#scheduleWake.wake();
    return { stop, drain: w?.draining ?? false };
  }

  /** Who runs what, by worker: for the registry's view. */
  async activeTasks(): Promise<Map<string, Array<Record<string, unknown>>>> {
    const out = new Map<string, Array<Record<string, unknown>>>();
    for (const t of await this.tasks.held()) {
      const list = out.get(t.worker!) ?? [];
      list.push({
        task_id: t.id,
        job_id: t.job_id,
        attempt: t.attempt,
        state: t.state,
        progress: t.progress,
      });
      out.set(t.worker!, list);
    }
    return out;
  }

  async patchWorker(id: string, p: WorkerPatch): Promise<WorkerWithAge | undefined> {
    const row = await this.workers.patch(id, {
      ...(p.labels ? { labels: p.labels } : {}),
      ...(p.max_concurrent !== undefined ? { maxConcurrent: p.max_concurrent } : {}),
      ...(p.draining !== undefined ? { draining: p.draining } : {}),
    });
    if (!row) return undefined;
    if (p.draining !== undefined)
      await this.events.append({
        workerId: id,
        type: p.draining ? 'worker.draining' : 'worker.undrained',
        data: {},
      });
    this.#scheduleWake.wake();
    return this.workers.get(id);
  }

  /**
   * Asks a worker to measure its encoders again (a new GPU, a driver fixed); the result comes with
   * its heartbeats. Only a worker with its own process and API can: `up`'s in-process one cannot.
   */
  async probeWorker(id: string): Promise<boolean> {
    const w = await this.workers.get(id);
    if (!w) return false;
    if (this.#links.has(id) || !w.url || !w.call_secret)
      throw new AppError('worker_unavailable', `worker ${w.name} has no API of its own to probe`);
    try {
      await new HttpWorkerLink(w.url, w.call_secret).probe();
    } catch (e) {
      this.#o.logger.warn({ err: e, worker: id }, 'probe request failed');
      throw new AppError('worker_unavailable', `worker ${w.name} did not take the probe request`);
    }
    await this.events.append({ workerId: id, type: 'worker.probing', data: { worker: w.name } });
    return true;
  }

  async removeWorker(id: string): Promise<boolean> {
    const requeued = await this.workers.remove(id);
    if (requeued === null) return false;
    this.#remote.delete(id);
    await this.events.append({ type: 'worker.removed', data: { worker_id: id, requeued } });
    this.#scheduleWake.wake();
    return true;
  }

  /** Worker-side failures count against the worker; a success forgives it. Compare-and-set: best effort. */
  async #noteOutcome(workerId: string, outcome: 'success' | 'worker_failure'): Promise<void> {
    const w = await this.workers.get(workerId);
    if (!w) return;
    const before = (Object.keys(w.breaker).length > 0
      ? w.breaker
      : CLOSED_BREAKER) as unknown as BreakerState;
    if (outcome === 'success' && before.consecutiveFailures === 0 && before.asideUntil === null) return;
    const after = nextBreaker(before, outcome, Date.now(), BREAKER);
    await this.workers.setBreaker(workerId, w.breaker, after);
    if (after.asideUntil !== null && after.asideUntil !== before.asideUntil)
      await this.events.append({
        workerId,
        type: 'worker.aside',
        data: { until: new Date(after.asideUntil).toISOString(), failures: after.consecutiveFailures },
      });
  }

  async #assignment(task: TaskRow, w: WorkerWithAge): Promise<TaskAssignment> {
    const spec = task.spec as TaskSpec;
    const analysis: Record<string, Record<string, unknown>> = {};
    for (const [node, from] of Object.entries(spec.analysis_from ?? {})) {
      // A sibling of this task in the same run of the job: the same id prefix.
      const dep = await this.tasks.get(`${task.id.slice(0, task.id.lastIndexOf(':') + 1)}${from}`);
      const a = (dep?.result as { analysis?: Record<string, unknown> } | null)?.analysis;
      if (a) analysis[node] = a;
    }
    return {
      task_id: task.id,
      job_id: task.job_id,
      attempt: task.attempt,
      spec,
      analysis,
      transfer: !reaches(w, spec),
    };
  }

  /**
   * Whether an upload signed for `grant` (`<task id>#<attempt>`) may still land at `path`: the
   * attempt holds its task, and the task writes that file. Checked just before the rename.
   */
  async mayUpload(grant: string, path: string): Promise<'ok' | 'stale' | 'forbidden'> {
    const at = grant.lastIndexOf('#');
    const [taskId, attempt] = [grant.slice(0, at), Number(grant.slice(at + 1))];
    const task = at > 0 ? await this.tasks.get(taskId) : undefined;
    if (!task) return 'forbidden';
    if (!taskFiles(task.spec as TaskSpec).writes.includes(path)) return 'forbidden';
    if (task.attempt !== attempt || (task.state !== 'dispatched' && task.state !== 'running')) return 'stale';
    return 'ok';
  }

  /**
   * The media roots with the id in their marker file: a worker shares a root only if it reads the
   * same id there (storage/root-marker.ts). A root that cannot take the marker is left out.
   */
  rootMarkers(): Promise<Array<{ path: string; id: string }>> {
    this.#rootMarkers ??= Promise.all(
      this.#o.roots.all.map(async (path) => ({ path, id: await ensureRootMarker(path) })),
    ).then((all) => all.filter((r): r is { path: string; id: string } => r.id !== null));
    return this.#rootMarkers;
  }

  /** The key that signs transfer URLs: one for every replica, kept in the database. */
  transferSecret(): Promise<string> {
    this.#transferSecret ??= new SecretsRepository(this.#o.store.db).get('transfer_url_key').catch((e) => {
      this.#transferSecret = null;
      throw e;
    });
    return this.#transferSecret;
  }

  /**
   * Signed URLs for the files of the attempt a worker holds: to fetch what the task reads, and to
   * upload what it writes. Short-lived; asked for again when needed, so an attempt taken back
   * (409) or held by another worker (403) gets none.
   */
  async transferUrls(
    workerId: string,
    taskId: string,
    attempt: number,
  ): Promise<TransferUrls | 'forbidden' | 'stale'> {
    const task = await this.tasks.get(taskId);
    const refused = notHolding(task, workerId, attempt);
    if (refused || !task) return refused ?? 'stale';
    if (task.state !== 'dispatched' && task.state !== 'running') return 'stale';
    const secret = await this.transferSecret();
    const expires = Math.floor(Date.now() / 1000) + TRANSFER_URL_SECONDS;
    const { reads, writes } = taskFiles(task.spec as TaskSpec);
    const sign = (method: 'GET' | 'PUT') => (path: string) => ({
      path,
      url: signTransfer({ path, method, expires, task: `${taskId}#${attempt}` }, secret),
    });
    return {
      downloads: reads.map(sign('GET')),
      uploads: writes.map(sign('PUT')),
      expires_at: new Date(expires * 1000).toISOString(),
    };
  }

  async #rescue(): Promise<void> {
    // A crash (or a failed write) between a task's last transition and its job's leaves the job
    // open with nothing left to run: finish it from its tasks.
    for (const j of await this.tasks.jobsToSettle()) {
      if (j.failed) await this.#failJob(j.job_id, (j.error as StoredError | null) ?? lostError());
      else await this.#completeIfDone(j.job_id);
    }
    for (const w of await this.workers.markOffline(this.#o.workerTimeoutSeconds)) {
      this.#o.logger.warn({ worker: w.id, name: w.name }, 'worker offline');
      await this.events.append({ workerId: w.id, type: 'worker.offline', data: { worker: w.name } });
    }
    if (this.#o.hungTaskSeconds) await this.#stopHung(this.#o.hungTaskSeconds);
    const rescued = await this.tasks.rescueLost(this.#o.workerTimeoutSeconds);
    for (const t of rescued) {
      this.#o.logger.warn({ task_id: t.id, state: t.state }, 'task of a lost worker');
      await this.events.append({
        jobId: t.job_id,
        taskId: t.id,
        type: t.state === 'ready' ? 'task.requeued' : 'task.failed',
        data: { task_id: t.id, reason: 'worker_lost' },
      });
      if (t.state === 'failed') {
        const task = await this.tasks.get(t.id);
        await this.#failJob(t.job_id, (task?.error as StoredError | null) ?? lostError());
      }
    }
  }

  /** FFmpeg silent for too long on a worker that still heartbeats: stop it there, run it again. */
  async #stopHung(seconds: number): Promise<void> {
    for (const t of await this.tasks.hung(seconds, this.#o.workerTimeoutSeconds)) {
      const error: StoredError = {
        code: 'stalled',
        message: `no progress for ${seconds} s while its worker was alive: stopped and re-queued`,
        retryable: true,
      };
      const state = await this.tasks.fail(t.id, t.attempt, error, t.worker);
      if (!state) continue;
      this.#o.logger.warn({ task_id: t.id, worker: t.worker }, 'hung task stopped');
      await this.events.append({
        jobId: t.job_id,
        taskId: t.id,
        workerId: t.worker,
        type: state === 'ready' ? 'task.requeued' : 'task.failed',
        data: { task_id: t.id, error },
      });
      await this.#stopTasks([{ id: t.id, attempt: t.attempt, worker: t.worker }]);
      if (state === 'failed') await this.#failJob(t.job_id, error);
    }
  }

  // ---- reports from workers

  async report(workerId: string, r: TaskReport): Promise<'ok' | 'stale' | 'forbidden'> {
    const task = await this.tasks.get(r.task_id);
    const refused = notHolding(task, workerId, r.attempt);
    if (refused || !task) return refused ?? 'stale';
    switch (r.type) {
      case 'running': {
        const t = await this.tasks.markRunning(r.task_id, r.attempt);
        if (!t) return task.state === 'running' ? 'ok' : 'stale';
        await this.jobs.markProcessing(t.job_id);
        await this.events.append({
          jobId: t.job_id,
          taskId: t.id,
          workerId,
          type: 'log',
          data: {
            level: 'info',
            stage: 'encoding',
            message: `task ${t.id.split(':').pop()} started (attempt ${t.attempt})`,
          },
        });
        await this.#refreshProgress(t.job_id, true);
        return 'ok';
      }
      case 'progress': {
        const t = await this.tasks.saveProgress(r.task_id, r.attempt, r.progress);
        if (!t) return 'stale';
        const last = this.#lastProgressEvent.get(t.job_id) ?? 0;
        const now = Date.now();
        // At most two progress events a second per job: SSE promises at least one.
        const withEvent = now - last >= 450;
        if (withEvent) this.#lastProgressEvent.set(t.job_id, now);
        await this.jobs.markProcessing(t.job_id);
        await this.#refreshProgress(t.job_id, withEvent);
        return 'ok';
      }
      case 'succeeded': {
        const t = await this.tasks.succeed(r.task_id, r.attempt, {
          outputs: r.outputs,
          analysis: r.analysis,
          ffmpeg_ms: r.ffmpeg_ms,
        });
        if (!t) return 'stale';
        this.#observeDuration(t, 'succeeded');
        await this.#noteOutcome(workerId, 'success');
        await this.events.append({
          jobId: t.job_id,
          taskId: t.id,
          workerId,
          type: 'task.succeeded',
          data: { task_id: t.id },
        });
        await this.#completeIfDone(t.job_id);
        return 'ok';
      }
      case 'failed': {
        const error: StoredError = {
          code: r.error.code,
          message: relativeToRoots(r.error.message, this.#o.roots),
          retryable: r.error.retryable && RETRYABLE_CODES.has(r.error.code),
        };
        // A retryable failure is the run's, not the job's: not on this worker again.
        const state = await this.tasks.fail(
          r.task_id,
          r.attempt,
          error,
          error.retryable ? workerId : undefined,
        );
        if (!state) return 'stale';
        if (error.retryable) await this.#noteOutcome(workerId, 'worker_failure');
        this.#observeDuration(task, 'failed');
        await this.events.append({
          jobId: task.job_id,
          taskId: task.id,
          workerId,
          type: state === 'ready' ? 'task.requeued' : 'task.failed',
          data: { task_id: task.id, error },
        });
        if (state === 'failed')
          await this.#failJob(
            task.job_id,
            error,
            r.error.log_tail ? relativeToRoots(r.error.log_tail, this.#o.roots) : undefined,
          );
        return 'ok';
      }
      case 'released': {
        if (!(await this.tasks.release(r.task_id, r.attempt))) return 'stale';
        await this.events.append({
          jobId: task.job_id,
          taskId: task.id,
          workerId,
          type: 'task.released',
          data: { task_id: task.id },
        });
        return 'ok';
      }
    }
  }

  #observeDuration(t: TaskRow, outcome: string): void {
    if (!t.started_at || !this.#o.metrics) return;
    this.#o.metrics.taskDuration.observe(
      { kind: t.kind, outcome },
      (Date.now() - new Date(t.started_at).getTime()) / 1000,
    );
  }

  async #refreshProgress(jobId: string, withEvent: boolean): Promise<void> {
    const stage = await this.jobs.stage(jobId);
    if (stage === undefined) return;
    const tasks = await this.tasks.forJob(jobId);
    await this.jobs.saveProgress(jobId, progressOf(tasks, stage), withEvent);
  }

  async #completeIfDone(jobId: string): Promise<void> {
    const tasks = await this.tasks.forJob(jobId);
    if (!tasks.every((t) => t.state === 'succeeded')) return;
    const job = await this.jobs.get(jobId);
    if (!job) return;
    const destinations = (job.spec as { outputs?: Array<{ id: string; destination: string }> }).outputs ?? [];
    const outputs = tasks
      .flatMap((t) => (t.result as { outputs?: Array<Record<string, unknown>> } | null)?.outputs ?? [])
      .sort((a, b) => Number(a.index) - Number(b.index))
      .map((o) => ({
        output_id: destinations[Number(o.index)]?.id ?? String(o.node),
        destination: destinations[Number(o.index)]?.destination ?? null,
        files: ((o.files as string[]) ?? []).map((f) => relativeToRoots(f, this.#o.roots)),
        file_size: o.size,
        md5: o.md5,
        duration: o.duration,
        media_info: o.media_info,
      }));
    // A job whose tasks all ended before any said `running` (tiny ones) still passes through processing.
    await this.jobs.markProcessing(jobId);
    if (await this.jobs.complete(jobId, outputs, progressOf(tasks, 'completed'))) {
      this.#lastProgressEvent.delete(jobId);
      this.#o.logger.info({ job_id: jobId }, 'job completed');
      // The join removes its chunks where it runs; pieces uploaded here by workers without
      // shared storage are the orchestrator's to remove.
      await this.#removeScratch(jobId);
    }
  }

  /** Fails a job (guarded) and stops its other tasks. */
  async #failJob(jobId: string, error: StoredError, logTail?: string): Promise<void> {
    const stop = await this.jobs.fail(jobId, error, logTail);
    if (stop === null) return;
    await this.#stopTasks(stop);
    this.#lastProgressEvent.delete(jobId);
    await this.#removeScratch(jobId);
  }

  /** A chunked output's pieces are of no use once its job has ended without it (a retry plans anew). */
  async #removeScratch(jobId: string): Promise<void> {
    const specs = (await this.tasks.forJob(jobId)).map((t) => t.spec as TaskSpec);
    await removeScratch(specs, this.#o.roots);
  }

  /** Cancels a job (guarded; `owner` limits it to one user's jobs); null when it was already finished. */
  async cancelJob(jobId: string, owner?: string): Promise<boolean> {
    const stop = await this.jobs.cancel(jobId, owner);
    if (stop === null) return false;
    await this.#stopTasks(stop);
    this.#lastProgressEvent.delete(jobId);
    await this.#removeWrittenOutputs(jobId);
    await this.#removeScratch(jobId);
    return true;
  }

  /**
   * A cancelled job leaves no partial result: the running task's temporary files go with its
   * FFmpeg, and the files its finished tasks already wrote are removed here (only under the
   * media roots, only the files those tasks reported).
   */
  async #removeWrittenOutputs(jobId: string): Promise<void> {
    const files = (await this.tasks.forJob(jobId))
      .filter((t) => t.state === 'succeeded')
      .flatMap((t) =>
        ((t.result as { outputs?: Array<{ files?: string[] }> } | null)?.outputs ?? []).flatMap(
          (o) => o.files ?? [],
        ),
      )
      .filter((f) => this.#o.roots.all.some((root) => isInside(root, f)));
    if (files.length === 0) return;
    await Promise.all(files.map((f) => rm(f, { force: true }).catch(() => {})));
    await this.events.append({
      jobId,
      type: 'log',
      data: {
        level: 'info',
        stage: 'cancelled',
        message: `removed ${files.length} file(s) finished tasks had written`,
      },
    });
  }

  async #stopTasks(stop: readonly StopTask[]): Promise<void> {
    for (const t of stop) {
      const link = t.worker ? (this.#links.get(t.worker)?.link ?? (await this.#remoteLink(t.worker))) : null;
      // A worker this process cannot reach learns it from its next report or heartbeat ('stale').
      if (link)
        await link.cancel(t.id, t.attempt).catch((e) => this.#o.logger.warn({ err: e }, 'cancel failed'));
    }
  }

  async #remoteLink(workerId: string): Promise<WorkerLink | null> {
    const w = await this.workers.get(workerId);
    if (!w?.url || !w.call_secret) return null;
    return new HttpWorkerLink(w.url, w.call_secret, 3000);
  }

  #storedError(e: unknown, retryable: boolean): StoredError {
    if (isAppError(e)) return { code: e.code, message: relativeToRoots(e.message, this.#o.roots), retryable };
    return { code: 'internal_error', message: 'an unexpected error; see the server log', retryable };
  }
}

/**
 * Why `workerId` may not speak for this attempt of a task, or null when it holds it: 'forbidden'
 * when the current attempt is another worker's, 'stale' when the attempt is over (or the task gone).
 */
function notHolding(
  task: TaskRow | undefined,
  workerId: string,
  attempt: number,
): 'forbidden' | 'stale' | null {
  if (task && task.attempt === attempt && task.worker !== null && task.worker !== workerId)
    return 'forbidden';
  if (!task || task.worker !== workerId || task.attempt !== attempt) return 'stale';
  return null;
}

/** How long a transfer URL lasts: a worker asks again for each fetch and upload, so not long. */
const TRANSFER_URL_SECONDS = 15 * 60;

/**
 * Whether a worker reaches every file of a task where the orchestrator has it: it says which of
 * our roots it shares (`shared_roots`); a worker in this process says nothing and shares them all.
 */
function reaches(w: WorkerWithAge, spec: TaskSpec): boolean {
  const shared = (w.capabilities as { shared_roots?: string[] }).shared_roots;
  if (shared === undefined) return true;
  const { reads, writes } = taskFiles(spec);
  const paths = [...reads, ...writes, ...(spec.join ? [spec.join.scratch] : [])];
  return paths.every((p) => shared.some((root) => isInside(root, p)));
}

/** The scheduler's view of a registry row (core/scheduler is pure and knows no rows). */
function workerView(w: WorkerWithAge, active: number): WorkerView {
  const caps = w.capabilities as { encoders?: WorkerView['encoders']; cores?: number };
  const load = (w.telemetry as { load?: number[] }).load?.[0];
  const limits = effectiveLimits(w);
  const breaker = w.breaker as { asideUntil?: number | null };
  return {
    id: w.id,
    name: w.name,
    silentSeconds: w.state === 'offline' ? Number.POSITIVE_INFINITY : Number(w.silent_seconds),
    status: w.status,
    draining: w.draining,
    maxConcurrent: limits.maxConcurrent,
    active,
    encoders: caps.encoders ?? [],
    labels: limits.labels,
    load: load !== undefined && caps.cores ? load / caps.cores : null,
    asideUntil: breaker.asideUntil ?? null,
  };
}

function lostError(): StoredError {
  return {
    code: 'worker_lost' satisfies ErrorCode,
    message: 'the worker running this task stopped answering',
    retryable: true,
  };
}

function safeType(payload: string): string | undefined {
  try {
    return (JSON.parse(payload) as { type?: string }).type;
  } catch {
    return undefined;
  }
}

function progressOf(tasks: readonly TaskRow[], stage: string) {
  return jobProgress(
    tasks.map((t) => ({
      id: t.id,
      kind: t.kind,
      state: t.state,
      attempt: t.attempt,
      progress: (t.progress as never) ?? null,
      expectedDuration: (t.spec as TaskSpec).expected_duration ?? null,
    })),
    stage,
  );
}
