/**
 * What the cluster benchmarks share: a mediaforge cluster on loopback made of the built CLI's
 * processes (`mediaforge orchestrator` and `mediaforge worker`, as users run them: `npm run build`
 * first), the orchestrator's HTTP API, a job's event stream, and the small statistics and table
 * helpers. The children die with the bench: close() stops them (SIGTERM, then SIGKILL), and a
 * bench ended by an error or a signal kills what is left and removes its temporary folder.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';

const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'mediaforge.js');
const STOP_WAIT_MS = 10_000;

/** Wall-clock milliseconds with sub-ms precision: comparable with an FFmpeg wrapper's $EPOCHREALTIME. */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const envNumber = (name: string, def: number) => Number(process.env[name] ?? def);

export function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1]!;
}

export const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** Columns padded to their widest cell: the first left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

/** The FFmpeg (or ffprobe) this machine runs: MEDIAFORGE_FFMPEG / MEDIAFORGE_FFPROBE, else PATH. */
export function binary(name: 'ffmpeg' | 'ffprobe'): string {
  const set = process.env[name === 'ffmpeg' ? 'MEDIAFORGE_FFMPEG' : 'MEDIAFORGE_FFPROBE'];
  if (set) return set;
  const found = (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((d) => join(d, name))
    .find((f) => existsSync(f));
  if (!found) throw new Error(`no ${name} on PATH`);
  return found;
}

/** Runs a binary to its end (media preparation and probing only); its stdout, or an error with stderr. */
export function runTool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}… failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Video packets of a file's first video stream, as ffprobe counts them: its frame count. */
export function videoFrames(path: string): number {
  const out = runTool(binary('ffprobe'), [
    ...['-v', 'error', '-select_streams', 'v:0', '-count_packets'],
    ...['-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', `file:${path}`],
  ]);
  return Number(out.trim());
}

// ---------------------------------------------------------------- the API

export interface Api {
  url: string;
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  /** Every event of a job, read from its SSE stream until the stream ends with the job. */
  follow(jobId: string): Promise<JobEvent[]>;
}

export interface JobEvent {
  id: number;
  type: string;
  data: Record<string, unknown>;
  /** The orchestrator's time of the event (ms precision). */
  at: number;
  /** When this process read it (`now()`). */
  seen: number;
}

export function apiClient(url: string, key: string): Api {
  const auth = { authorization: `Bearer ${key}` };
  return {
    url,
    async call(method, path, body) {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${text.slice(0, 500)}`);
      return (text ? JSON.parse(text) : null) as never;
    },
    async follow(jobId) {
      const r = await fetch(`${url}/api/v1/jobs/${jobId}/events`, { headers: auth });
      if (r.status !== 200 || !r.body)
        throw new Error(`the events of ${jobId}: ${r.status} ${await r.text()}`);
      const events: JobEvent[] = [];
      const parser = createParser({
        // Events without an id are the once-a-second progress reminders, not the job's log.
        onEvent: (e) => {
          if (e.id === undefined) return;
          const data = JSON.parse(e.data) as Record<string, unknown>;
          events.push({
            id: Number(e.id),
            type: e.event ?? 'message',
            data,
            at: Date.parse(String(data.at)),
            seen: now(),
          });
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of r.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      return events;
    },
  };
}

/** Submits a job and follows it to its end; fails with the job's last log lines unless it completed. */
export async function runJob(
  api: Api,
  body: unknown,
): Promise<{ id: string; submitted: number; events: JobEvent[] }> {
  const submitted = now();
  const { job_id: id } = await api.call<{ job_id: string }>('POST', '/api/v1/jobs', body);
  const events = await api.follow(id);
  if (!events.some((e) => e.type === 'job.completed')) {
    const { logs } = await api.call<{ logs: Array<{ message: string }> }>('GET', `/api/v1/jobs/${id}/logs`);
    throw new Error(
      `job ${id} did not complete: ${logs
        .map((l) => l.message)
        .slice(-8)
        .join(' | ')}`,
    );
  }
  return { id, submitted, events };
}

// ---------------------------------------------------------------- the local cluster

/**
 * A child's environment: this one's without its MEDIAFORGE_* settings (a developer's shell must not
 * move the figures) but the binaries, then `extra`.
 */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = new Set(['MEDIAFORGE_FFMPEG', 'MEDIAFORGE_FFPROBE', 'MEDIAFORGE_NODE_DIR']);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MEDIAFORGE_') || keep.has(k)),
  );
  return { ...env, ...extra };
}

interface Child {
  name: string;
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<void>;
}

function startChild(name: string, args: string[], cwd: string, env: Record<string, string>): Child {
  const p = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child: Child = {
    name,
    process: p,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => p.once('exit', () => resolve())),
  };
  p.stdout!.setEncoding('utf8').on('data', (c: string) => {
    child.stdout += c;
  });
  // Its end is enough to say why it failed.
  p.stderr!.setEncoding('utf8').on('data', (c: string) => {
    child.stderr = (child.stderr + c).slice(-8000);
  });
  return child;
}

/** Waits until the child prints a line `re` matches; fails when it exits first or after a minute. */
async function printed(child: Child, re: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + 60_000;
  let gone = false;
  void child.exited.then(() => {
    gone = true;
  });
  for (;;) {
    const m = re.exec(child.stdout);
    if (m) return m;
    if (gone || Date.now() > deadline)
      throw new Error(
        `${child.name} ${gone ? 'exited' : 'printed nothing'}:\n${child.stdout}\n${child.stderr}`,
      );
    await sleep(50);
  }
}

/**
 * An orchestrator (embedded PGlite, no local worker: only the workers added here run tasks) and
 * its workers, all in one temporary folder; `media` is the media root they share.
 */
export class LocalCluster {
  readonly root: string;
  readonly media: string;
  readonly api: Api;
  readonly #orchestrator: Child;
  readonly #workers: Child[];
  readonly #forget: () => void;
  #closed: Promise<void> | null = null;

  private constructor(o: {
    root: string;
    orchestrator: Child;
    workers: Child[];
    api: Api;
    forget: () => void;
  }) {
    this.root = o.root;
    this.media = join(o.root, 'media');
    this.api = o.api;
    this.#orchestrator = o.orchestrator;
    this.#workers = o.workers;
    this.#forget = o.forget;
  }

  static async start(): Promise<LocalCluster> {
    if (!existsSync(join(REPO, 'dist', 'cli', 'index.js')))
      throw new Error('the cluster runs the built CLI: `npm run build` first');
    const root = mkdtempSync(join(tmpdir(), 'mf-bench-cluster-'));
    const key = `mf_bench-${randomBytes(16).toString('hex')}`;
    mkdirSync(join(root, 'media'));
    const orchestrator = startChild(
      'the orchestrator',
      ['orchestrator', '--data', join(root, 'orchestrator'), '--port', '0'],
      root,
      {
        ...commonEnv(root),
        MEDIAFORGE_ADMIN_KEY: key,
        MEDIAFORGE_MEDIA_ROOT: join(root, 'media'),
        // Hundreds of requests a minute from one key is the bench, not abuse.
        MEDIAFORGE_RATE_LIMIT_PER_MINUTE: '0',
      },
    );
    const workers: Child[] = [];
    const forget = onDeath(root, () => [...workers, orchestrator]);
    try {
      const url = (await printed(orchestrator, /: (http:\/\/127\.0\.0\.1:\d+) /))[1]!;
      return new LocalCluster({ root, orchestrator, workers, api: apiClient(url, key), forget });
    } catch (e) {
      await stopChild(orchestrator);
      rmSync(root, { recursive: true, force: true });
      forget();
      throw e;
    }
  }

  /**
   * Enrols and starts a worker, and waits until the orchestrator sees it online. `env` goes on
   * top of the bench's own environment (e.g. MEDIAFORGE_FFMPEG).
   */
  async addWorker(name: string, maxConcurrent: number, env: Record<string, string> = {}): Promise<void> {
    const { token } = await this.api.call<{ token: string }>('POST', '/api/v1/worker-tokens', { name });
    const dir = join(this.root, name);
    mkdirSync(dir);
    const w = startChild(
      `worker ${name}`,
      [
        ...['worker', '--orchestrator', this.api.url, '--token', token, '--port', '0', '--host', '127.0.0.1'],
        ...['--name', name, '--data', dir, '--media-root', this.media],
      ],
      dir,
      {
        ...commonEnv(this.root),
        MEDIAFORGE_MAX_CONCURRENT: String(maxConcurrent),
        MEDIAFORGE_HEARTBEAT_SECONDS: '1',
        // The probe encodes with every encoder for up to minutes; the benches need libx264 only.
        MEDIAFORGE_PROBE_SECONDS: '0',
        ...env,
      },
    );
    this.#workers.push(w);
    await printed(w, /^mediaforge worker \S+: http:\/\/127\.0\.0\.1:\d+/m);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { data } = await this.api.call<{ data: Array<{ name: string; online: boolean }> }>(
        'GET',
        '/api/v1/workers',
      );
      if (data.some((x) => x.name === name && x.online)) return;
      if (Date.now() > deadline) throw new Error(`worker ${name} not online after a minute: ${w.stderr}`);
      await sleep(100);
    }
  }

  /** Stops the workers, then the orchestrator, and removes the folder. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all(this.#workers.map(stopChild));
      await stopChild(this.#orchestrator);
      rmSync(this.root, { recursive: true, force: true });
      this.#forget();
    })();
    return this.#closed;
  }
}

function commonEnv(root: string): Record<string, string> {
  return {
    MEDIAFORGE_LOG_LEVEL: 'warn',
    // Nothing runs at the end of a bench; an error must not wait 30 s per process.
    MEDIAFORGE_SHUTDOWN_GRACE_SECONDS: '2',
    // The binaries' version cache (of a throw-away FFmpeg wrapper too) stays in the temporary folder.
    XDG_CACHE_HOME: join(root, 'cache'),
  };
}

async function stopChild(c: Child): Promise<void> {
  if (c.process.exitCode !== null || c.process.signalCode !== null) return;
  c.process.kill('SIGTERM');
  const stopped = await Promise.race([c.exited.then(() => true), sleep(STOP_WAIT_MS).then(() => false)]);
  if (!stopped) {
    c.process.kill('SIGKILL');
    await c.exited;
  }
}

/**
 * On SIGINT/SIGTERM or on exit, SIGKILL to the children still running and the folder removed
 * (synchronously: nothing async runs at exit). Returns the function that takes this back.
 */
function onDeath(root: string, children: () => Child[]): () => void {
  const kill = () => {
    for (const c of children())
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    kill();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', kill);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('exit', kill);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
