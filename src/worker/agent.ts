/**
 * `mediaforge worker`: a machine that runs tasks for an orchestrator. It enrols once (an
 * enrolment token buys its own id and secret, kept in data_dir with mode 0600), starts a session
 * on every start, serves the worker API, heartbeats, checks its storage, and sends its reports
 * through the outbox: a report the orchestrator cannot take now is journaled on disk and replayed
 * in order when it answers again, so work finished meanwhile is not lost.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, freemem, hostname, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import type { WorkerConfig } from '../config/index.js';
import {
  AppError,
  isAppError,
  type TaskAssignment,
  type TaskReport,
  type TaskReportSink,
  type WorkerCapabilities,
  type WorkerHeartbeat,
} from '../core/index.js';
import type { Binaries } from '../media/index.js';
import { EncoderHealth, localTools, type MediaTools } from '../pipeline/index.js';
import {
  isInside,
  type MediaRoots,
  mediaRoots,
  type PathMapping,
  parsePathMappings,
  ROOT_MARKER,
  readRootMarker,
  toLocalPath,
  toOrchestratorPath,
} from '../storage/index.js';
import { type Probed, probeCapabilities, withoutUnhealthy } from './capabilities.js';
import { Journal } from './journal.js';
import { LocalWorker } from './local-worker.js';
import { OrchestratorClient, RetryableError } from './orchestrator-client.js';
import { Outbox } from './outbox.js';
import { StorageWatch } from './storage-check.js';
import { Transfers } from './transfer.js';
import { buildWorkerApi } from './worker-api.js';

export interface WorkerAgentOptions {
  config: Readonly<WorkerConfig>;
  binaries: Binaries;
  logger: Logger;
  version: string;
}

interface Identity {
  orchestrator: string;
  worker_id: string;
  secret: string;
}

/** Tasks at once: one per 4 cores and 2 GiB, at least 1 (so 1 on a 2-core board). */
export function defaultConcurrency(cores = availableParallelism(), memBytes = totalmem()): number {
  return Math.max(1, Math.min(Math.floor(cores / 4), Math.floor(memBytes / 2 ** 31)));
}

/** CPU use since the last call, from the kernel's per-core counters. */
function cpuMeter(): () => number | null {
  let last = cpus();
  return () => {
    const now = cpus();
    let idle = 0;
    let total = 0;
    now.forEach((c, i) => {
      const p = last[i];
      if (!p) return;
      const t = (x: typeof c.times) => x.user + x.nice + x.sys + x.idle + x.irq;
      total += t(c.times) - t(p.times);
      idle += c.times.idle - p.times.idle;
    });
    last = now;
    return total > 0 ? Math.round((1000 * (total - idle)) / total) / 10 : null;
  };
}

export class WorkerAgent {
  readonly #o: WorkerAgentOptions;
  readonly #log: Logger;
  readonly #roots: MediaRoots;
  /** The media roots this machine shares with the orchestrator (none: it works on copies). */
  readonly #shared: string[];
  readonly #transfers: Transfers;
  /** The media roots it shares, as the orchestrator names them, once their markers are read. */
  #sharedVerified: string[] = [];
  readonly #maps: PathMapping[];
  readonly #tools: MediaTools;
  readonly #pool: LocalWorker;
  readonly #metrics = new Registry();
  readonly #cpu = cpuMeter();
  #client: OrchestratorClient;
  #identity: Identity | null = null;
  #session: { id: string; callSecret: string; heartbeatMs: number } | null = null;
  #capabilities: WorkerCapabilities | null = null;
  /** What the last probe proved; tasks read its hardware set. */
  #probed: Probed | null = null;
  #probing: Promise<WorkerCapabilities> | null = null;
  /** Capabilities changed since the orchestrator last heard them: the next heartbeat carries them. */
  #capabilitiesChanged = false;
  readonly #health = new EncoderHealth();
  #journal: Journal<TaskReport> | null = null;
  #outbox: Outbox<TaskReport> | null = null;
  #storage: StorageWatch | null = null;
  #storageProblem: string | null = null;
  #drainAsked = false;
  #closing = false;
  /** Closed down: no more heartbeats. */
  #stopped = false;
  #app: FastifyInstance | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #beating: Promise<void> | null = null;
  #closed: Promise<void> | null = null;
  url = '';

  constructor(o: WorkerAgentOptions) {
    this.#o = o;
    this.#log = o.logger;
    const { config } = o;
    if (!config.orchestrator_url)
      throw new AppError('config_invalid', 'the orchestrator URL is required (--orchestrator URL)');
    this.#client = new OrchestratorClient(config.orchestrator_url);
    // Copies of the files of tasks whose paths this machine does not reach (no shared storage).
    const copies = join(resolve(config.scratch_dir ?? join(config.data_dir, 'scratch')), 'tasks');
    this.#transfers = new Transfers({ client: this.#client, root: copies, logger: o.logger });
    // Without a media root it shares no storage: every task comes as copies.
    this.#shared = config.media_root
      ? [resolve(config.media_root), ...config.extra_media_roots.map((r) => resolve(r))]
      : [];
    this.#roots = mediaRoots(this.#shared[0] ?? copies, [...this.#shared.slice(1), copies]);
    this.#maps = parsePathMappings(config.path_mappings);
    // Hardware is trusted only as far as this worker's probe proved it (media/hw-probe).
    this.#tools = {
      ...localTools(config, o.binaries),
      hardwareEncoders: async () => this.#probed?.hardware ?? new Set<string>(),
    };
    this.#health.onUnhealthy((e) => {
      this.#log.warn(
        { encoder: e.name, reason: e.reason },
        'a hardware encoder failed at the start of a task: it ran in software, and the encoder is no longer used',
      );
      if (this.#capabilities) this.#capabilities = withoutUnhealthy(this.#capabilities, e);
      this.#capabilitiesChanged = true;
    });
    this.#pool = new LocalWorker(
      {
        roots: this.#roots,
        tools: this.#tools,
        threads: config.threads,
        logger: o.logger,
        encoders: {
          hardware: config.hardware !== 'off',
          health: this.#health,
          vaapiDevice: config.vaapi_device,
        },
        transfer: this.#transfers,
      },
      config.max_concurrent || defaultConcurrency(),
      config.queue_length,
    );
    const tasks = new Counter({
      name: 'mediaforge_worker_tasks_total',
      help: 'Task attempts by how they ended',
      labelNames: ['outcome'],
      registers: [this.#metrics],
    });
    const pool = this.#pool;
    new Gauge({
      name: 'mediaforge_worker_tasks_running',
      help: 'Tasks running now',
      registers: [this.#metrics],
      collect() {
        this.set(pool.running);
      },
    });
    const outbox = () => this.#outbox;
    new Gauge({
      name: 'mediaforge_worker_reports_pending',
      help: 'Reports not yet delivered to the orchestrator (journaled when it is away)',
      registers: [this.#metrics],
      collect() {
        this.set(outbox()?.pending ?? 0);
      },
    });
    this.#countOutcome = (outcome) => tasks.inc({ outcome });
    const stale = new Counter({
      name: 'mediaforge_worker_reports_stale_total',
      help: 'Reports the orchestrator refused because the attempt is no longer this worker’s (409)',
      registers: [this.#metrics],
    });
    this.#countStale = () => stale.inc();
    const answers = new Counter({
      name: 'mediaforge_worker_dispatches_total',
      help: "The worker's answers to the orchestrator's dispatches",
      labelNames: ['answer'],
      registers: [this.#metrics],
    });
    this.#countAnswer = (answer) => answers.inc({ answer });
  }

  readonly #countAnswer: (answer: string) => void;

  readonly #countOutcome: (outcome: string) => void;

  readonly #countStale: () => void;

  get id(): string | null {
    return this.#identity?.worker_id ?? null;
  }

  get pool(): LocalWorker {
    return this.#pool;
  }

  /** Enrols if needed, listens, starts a session (waiting for the orchestrator), then heartbeats. */
  async start(): Promise<void> {
    const { config } = this.#o;
    const dataDir = resolve(config.data_dir);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    // Copies left by a run that died with its tasks: those attempts are over.
    await this.#transfers.sweep();
    this.#capabilities = await this.#probe(false);

    this.#journal = await Journal.open<TaskReport>(join(dataDir, 'journal'), { logger: this.#log });
    if (this.#journal.recovery.truncatedBytes > 0 || this.#journal.recovery.skippedRecords > 0)
      this.#log.warn({ recovery: this.#journal.recovery }, 'the report journal was repaired after a crash');
    this.#outbox = new Outbox<TaskReport>({
      journal: this.#journal,
      deliver: (r, signal) => this.#client.report(r, signal),
      logger: this.#log,
      backoff: { baseMs: 500, maxMs: 30_000 },
    });
    this.#pool.connect(this.#sink());

    this.#app = await buildWorkerApi({
      logger: this.#log,
      callSecret: () => this.#session?.callSecret ?? null,
      take: (a) => this.#take(a),
      refusing: () => this.#refusing(),
      run: (id) => this.#pool.runs().find((r) => r.task_id === id) ?? null,
      stop: async (id, attempt) => {
        const run = this.#pool.runs().find((r) => r.task_id === id);
        if (!run || (attempt !== null && run.attempt !== attempt)) return false;
        await this.#pool.cancel(id, run.attempt);
        return true;
      },
      status: () => this.#status(),
      probe: () => this.reprobe(),
      metrics: this.#metrics,
    });
    const address = await this.#app.listen({ port: config.port, host: config.host });
    const port = Number(new URL(address).port);
    this.url =
      config.advertised_url ??
      (config.host === '0.0.0.0' || config.host === '::' ? `http://${hostname()}:${port}` : address);

    this.#identity = await this.#loadIdentity(join(dataDir, 'identity.json'));
    this.#client.secret = this.#identity.secret;
    this.#sharedVerified = await this.#verifyStorage();
    this.#capabilities = { ...this.#capabilities!, shared_roots: this.#sharedVerified };
    this.#storage = new StorageWatch({
      readRoots: [...this.#roots.all],
      writeDirs: [...this.#roots.all],
      timeoutMs: 10_000,
      logger: this.#log,
      onChange: (r) => {
        this.#storageProblem = r.ok ? null : r.reason;
        if (r.ok) this.#log.info('storage is reachable again');
        else this.#log.error({ reason: r.reason }, 'storage check failed: taking no new work');
        this.#pool.refuse(this.#refusing());
        void this.#beat();
      },
    });
    this.#storage.start(config.storage_check_seconds * 1000);
    await this.#startSession();
    this.#outbox.start();
    this.#schedule();
  }

  /**
   * Which of its media roots are the orchestrator's storage: a root counts when the marker the
   * orchestrator keeps at the top of its root reads the same here (storage/root-marker.ts). A
   * folder of the same name on this disk, or a mapping to the wrong place, does not: tasks then
   * come as copies, and the log says why.
   */
  async #verifyStorage(): Promise<string[]> {
    if (this.#shared.length === 0) return [];
    const theirs = await this.#retrying('storage', () =>
      this.#client.storage(this.#identity!.worker_id),
    ).catch((e: unknown) => {
      if (!isAppError(e)) throw e;
      this.#log.warn(
        { err: e },
        'the orchestrator did not say where its storage is: tasks will come as copies',
      );
      return [];
    });
    const verified: string[] = [];
    for (const mine of this.#shared) {
      const named = toOrchestratorPath(mine, this.#maps);
      const root = theirs.find((r) => isInside(r.path, named));
      const seen = root ? await readRootMarker(toLocalPath(root.path, this.#maps)) : null;
      if (root && seen === root.id) verified.push(named);
      else
        this.#log.warn(
          { media_root: mine, as_orchestrator_names_it: named },
          root
            ? `${mine} is not the orchestrator's storage (its ${ROOT_MARKER} is ${seen ? 'another' : 'missing'}): tasks will come as copies; check the mount and path_mappings`
            : `${mine} is under none of the orchestrator's media roots (${theirs.map((r) => r.path).join(', ')}): tasks will come as copies; check path_mappings`,
        );
    }
    return verified;
  }

  /**
   * Measures the encoders again (or reads the kept result at start) and makes what passed the
   * worker's capabilities; the orchestrator hears them with the next heartbeat. One at a time.
   */
  reprobe(): Promise<WorkerCapabilities> {
    this.#probing ??= this.#probe(true).finally(() => {
      this.#probing = null;
    });
    return this.#probing;
  }

  async #probe(force: boolean): Promise<WorkerCapabilities> {
    const probed = await probeCapabilities(
      {
        config: this.#o.config,
        binaries: this.#o.binaries,
        tools: this.#tools,
        dataDir: resolve(this.#o.config.data_dir),
        logger: this.#log,
      },
      force,
    );
    this.#probed = probed;
    // A new probe decides afresh which hardware encoders work.
    this.#health.clear();
    this.#capabilities = {
      ...probed.capabilities,
      shared_roots: this.#sharedVerified,
    };
    this.#capabilitiesChanged = this.#session !== null;
    if (this.#session) void this.#beat();
    return this.#capabilities;
  }

  #refusing(): string | null {
    if (this.#closing) return 'shutting down';
    if (this.#storageProblem) return this.#storageProblem;
    if (this.#drainAsked) return 'draining';
    return null;
  }

  #statusWord(): WorkerHeartbeat['status'] {
    if (this.#closing || this.#drainAsked) return 'maintenance';
    if (this.#storageProblem) return 'error';
    return this.#pool.running > 0 ? 'busy' : 'idle';
  }

  #status(): Record<string, unknown> {
    return {
      id: this.id,
      name: this.#name(),
      status: this.#statusWord(),
      reason: this.#refusing(),
      max_concurrent: this.#pool.slots,
      running: this.#pool.running,
      tasks: this.#pool.runs(),
      reports_pending: this.#outbox?.pending ?? 0,
      version: this.#o.version,
    };
  }

  #name(): string {
    return this.#o.config.name ?? hostname();
  }

  async #loadIdentity(file: string): Promise<Identity> {
    const url = this.#client.url;
    const saved = await readFile(file, 'utf8').then(
      (t) => JSON.parse(t) as Identity,
      () => null,
    );
    if (saved && saved.orchestrator === url) return saved;
    const token = this.#o.config.enrolment_token;
    if (!token)
      throw new AppError(
        'config_invalid',
        `this worker is not enrolled with ${url}: give it an enrolment token (--token; create one with \`mediaforge token create --worker\`)`,
      );
    const enrolled = await this.#retrying('enrol', () =>
      this.#client.enrol(token, {
        name: this.#name(),
        url: this.url,
        max_concurrent: this.#pool.slots,
        labels: [...this.#o.config.labels],
      }),
    );
    const identity: Identity = { orchestrator: url, worker_id: enrolled.worker_id, secret: enrolled.secret };
    await writeFile(`${file}.tmp`, JSON.stringify(identity), { mode: 0o600 });
    await chmod(`${file}.tmp`, 0o600);
    await rename(`${file}.tmp`, file);
    this.#log.info({ worker_id: identity.worker_id }, 'enrolled');
    return identity;
  }

  /** Retries while the orchestrator is away (backoff with jitter); a refusal is thrown. */
  async #retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof RetryableError) || this.#closing) throw e;
        if (i === 0) this.#log.warn({ err: e }, `${what}: the orchestrator does not answer; trying again`);
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(30_000, 500 * 2 ** i)));
      }
    }
  }

  async #startSession(): Promise<void> {
    const id = this.#identity!.worker_id;
    const s = await this.#retrying('session', () =>
      this.#client.startSession(id, {
        name: this.#name(),
        url: this.url,
        max_concurrent: this.#pool.slots,
        labels: [...this.#o.config.labels],
        capabilities: this.#capabilities!,
        version: this.#o.version,
      }),
    );
    this.#session = {
      id: s.session,
      callSecret: s.call_secret,
      heartbeatMs: Math.min(this.#o.config.heartbeat_seconds, s.heartbeat_seconds) * 1000,
    };
    this.#log.info({ worker_id: id, session: s.session, url: this.url }, 'session started');
  }

  #schedule(): void {
    // Beating goes on while a drain finishes the running tasks: a worker that fell silent then
    // would be taken for lost, and its tasks run again elsewhere.
    if (this.#stopped || !this.#session) return;
    this.#heartbeat = setTimeout(() => {
      void this.#beat().finally(() => this.#schedule());
    }, this.#session.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** One heartbeat (never two at once); acts on its answer. */
  #beat(): Promise<void> {
    this.#beating ??= this.#beatOnce().finally(() => {
      this.#beating = null;
    });
    return this.#beating;
  }

  async #beatOnce(): Promise<void> {
    const session = this.#session;
    const id = this.id;
    if (!session || !id) return;
    const runs = this.#pool.runs();
    const changed = this.#capabilitiesChanged && this.#capabilities ? this.#capabilities : null;
    try {
      const answer = await this.#client.heartbeat(id, {
        session: session.id,
        status: this.#statusWord(),
        reason: this.#refusing(),
        cpu_percent: this.#cpu(),
        memory: { used: totalmem() - freemem(), total: totalmem() },
        load: loadavg(),
        ffmpeg_processes: this.#pool.running,
        active: runs.map((r) => ({
          task_id: r.task_id,
          attempt: r.attempt,
          percent: r.percent,
          fps: r.fps,
          speed: r.speed,
        })),
        version: this.#o.version,
        ...(changed ? { capabilities: changed } : {}),
      });
      if (changed === this.#capabilities) this.#capabilitiesChanged = false;
      this.#outbox?.retryNow();
      for (const s of answer.stop) {
        this.#log.warn(
          { task_id: s.task_id, attempt: s.attempt },
          'the orchestrator gave this task to another: stopping it',
        );
        void this.#pool.cancel(s.task_id, s.attempt);
      }
      if (answer.drain !== this.#drainAsked) {
        this.#drainAsked = answer.drain;
        this.#log.info(answer.drain ? 'draining: taking no new work' : 'undrained: taking work again');
        this.#pool.refuse(this.#refusing());
      }
    } catch (e) {
      if (isAppError(e) && e.code === 'stale_session' && !this.#closing) {
        // Another start of this identity, or a lost session: the tasks it held were re-queued.
        this.#log.warn('the orchestrator ended this session; starting a new one');
        await this.#startSession().catch((err) => this.#log.error({ err }, 'new session failed'));
      } else if (isAppError(e) && e.code === 'unauthorized') {
        this.#log.error(
          'the orchestrator no longer knows this worker (removed?); enrol it again with a new token',
        );
      } else this.#log.warn({ err: e }, 'heartbeat failed');
    }
  }

  /** Reports leave through the outbox with the orchestrator's paths; ends of runs are journaled. */
  #sink(): TaskReportSink {
    return {
      report: async (r) => {
        if (r.type === 'succeeded' || r.type === 'failed') this.#countOutcome(r.type);
        const outbound = this.#toOrchestrator(r);
        if (r.type === 'progress') {
          const a = await this.#outbox!.send(outbound, { durable: false });
          if (a === 'stale') this.#stale(r);
          return a === 'stale' ? 'stale' : 'ok';
        }
        // Durable: once in the journal it is safe; the run does not wait for the orchestrator.
        let journaled!: () => void;
        const inJournal = new Promise<'ok'>((res) => {
          journaled = () => res('ok');
        });
        const delivered = this.#outbox!.send(outbound, { durable: true, onJournaled: journaled });
        delivered.then(
          (a) => {
            if (a !== 'stale') return;
            this.#stale(r);
            void this.#pool.cancel(r.task_id, r.attempt);
          },
          () => {},
        );
        return Promise.race([delivered.then((a) => (a === 'stale' ? 'stale' : 'ok')), inJournal]);
      },
    };
  }

  /** The orchestrator answered 409: this attempt is no longer ours (re-queued, cancelled). */
  #stale(r: TaskReport): void {
    this.#countStale();
    this.#log.warn(
      { task_id: r.task_id, attempt: r.attempt, report: r.type },
      'the orchestrator refused a report: this attempt is no longer ours; stopping this copy',
    );
  }

  #toOrchestrator(r: TaskReport): TaskReport {
    if (r.type !== 'succeeded') return r;
    // A copy's path is the orchestrator's under the attempt's folder; any other goes back through the mappings.
    const back = (f: string) => {
      const remote = this.#transfers.remote(r, f);
      return remote !== f ? remote : toOrchestratorPath(f, this.#maps);
    };
    return { ...r, outputs: r.outputs.map((o) => ({ ...o, files: o.files.map(back) })) };
  }

  /**
   * A task as this machine sees it: every path mapped, and inside its media roots; or, when it
   * does not reach them (`transfer`), every path that of a copy under the attempt's own folder.
   */
  #local(a: TaskAssignment): TaskAssignment {
    const map = (p: string) => {
      if (a.transfer) return this.#transfers.local(a, p);
      const local = toLocalPath(p, this.#maps);
      if (!this.#roots.all.some((root) => isInside(root, local)))
        throw new AppError(
          'path_outside_root',
          `${p} is not under this worker's media roots (${this.#roots.all.join(', ')}); add a path mapping`,
        );
      return local;
    };
    const spec = a.spec;
    return {
      ...a,
      spec: {
        ...spec,
        inputs: spec.inputs.map((i) => ({ ...i, path: map(i.path) })),
        outputs: spec.outputs.map((o) => ({
          ...o,
          path: map(o.path),
          ...(o.sidecar ? { sidecar: { ...o.sidecar, path: map(o.sidecar.path) } } : {}),
        })),
        // A join removes its scratch folder once done: that too is a path of the orchestrator's.
        ...(spec.join ? { join: { ...spec.join, scratch: map(spec.join.scratch) } } : {}),
      },
    };
  }

  async #take(a: TaskAssignment): Promise<'accepted' | 'busy' | 'unavailable'> {
    const answer = await this.#pool.dispatch(this.#local(a));
    this.#countAnswer(answer);
    return answer;
  }

  /**
   * Drain and stop: no new work (MAINTENANCE, said at once by a heartbeat), running tasks get
   * `graceMs`, then are stopped and handed back; reports are flushed, what is left stays journaled.
   */
  close(graceMs = this.#o.config.shutdown_grace_seconds * 1000): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      this.#pool.refuse('shutting down');
      await this.#beat().catch(() => {});
      await this.#pool.close(graceMs);
      // The ends of the tasks it ran are delivered before it goes, if the orchestrator answers;
      // what is not stays journaled for the next start.
      await this.#outbox?.flush(30_000);
      this.#stopped = true;
      if (this.#heartbeat) clearTimeout(this.#heartbeat);
      await this.#beat().catch(() => {});
      await this.#storage?.close();
      await this.#outbox?.close();
      await this.#journal?.close();
      await this.#app?.close();
    })();
    return this.#closed;
  }
}
