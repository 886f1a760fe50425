/**
 * `mediaforge worker` as a real child process on a free loopback port, enrolled with a token, for
 * the cluster and fault tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type ChildHandle, findExecutable } from '../../src/media/process.js';
import { makeExecutable } from '../../src/media/test-support/make-media.js';
import { ensureBuilt, startCli } from './cli.js';
import { callApi, type TestOrchestrator } from './orchestrator.js';
import { tempRoot } from './pipeline.js';

export interface WorkerProcess {
  child: ChildHandle;
  id: string;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

export async function startWorkerProcess(opts: {
  orchestrator: string;
  token: string;
  dataDir: string;
  /** null: none (a worker without shared storage, working on copies). */
  mediaRoot: string | null;
  name: string;
  maxConcurrent?: number;
  env?: Record<string, string>;
}): Promise<WorkerProcess> {
  await ensureBuilt();
  const cli = await startCli(
    [
      'worker',
      '--orchestrator',
      opts.orchestrator,
      '--token',
      opts.token,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--name',
      opts.name,
      '--data',
      opts.dataDir,
      ...(opts.mediaRoot === null ? [] : ['--media-root', opts.mediaRoot]),
    ],
    {
      cwd: opts.dataDir,
      env: {
        MEDIAFORGE_LOG_LEVEL: 'warn',
        MEDIAFORGE_MAX_CONCURRENT: String(opts.maxConcurrent ?? 1),
        MEDIAFORGE_HEARTBEAT_SECONDS: '1',
        // No test encodes unless a test is about them: a full probe takes tens of seconds here.
        MEDIAFORGE_PROBE_SECONDS: '0',
        ...opts.env,
      },
    },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /^mediaforge worker (\S+): (http:\/\/127\.0\.0\.1:\d+)/m.exec(cli.stdout());
    if (m) return { child: cli.child, id: m[1]!, url: m[2]!, stdout: cli.stdout, stderr: cli.stderr };
    const exited = await Promise.race([cli.child.exited, new Promise((r) => setTimeout(() => r(null), 50))]);
    if (exited)
      throw new Error(`the worker exited early: ${JSON.stringify(exited)}\n${cli.stdout()}\n${cli.stderr()}`);
    if (Date.now() > deadline)
      throw new Error(`the worker printed no URL:\n${cli.stdout()}\n${cli.stderr()}`);
  }
}

/**
 * A worker enrolled with a new token of `t` and started: on `t`'s media root unless told another
 * (null: none, no shared storage), in a new data folder unless given one.
 */
export async function enrolWorker(
  t: Pick<TestOrchestrator, 'url' | 'admin' | 'root'>,
  name: string,
  o: {
    env?: Record<string, string>;
    mediaRoot?: string | null;
    dataDir?: string;
    maxConcurrent?: number;
  } = {},
): Promise<WorkerProcess & { dataDir: string }> {
  const token = (await callApi(t, 'POST', '/api/v1/worker-tokens', { name })).body.token as string;
  const dataDir = o.dataDir ?? tempRoot(`mf-${name}-`);
  const w = await startWorkerProcess({
    orchestrator: t.url,
    token,
    dataDir,
    mediaRoot: o.mediaRoot === undefined ? t.root : o.mediaRoot,
    name,
    ...(o.maxConcurrent ? { maxConcurrent: o.maxConcurrent } : {}),
    ...(o.env ? { env: o.env } : {}),
  });
  return { ...w, dataDir };
}

/** The pids of the processes named `name` whose parent is `pid` (from /proc: Linux only). */
export function childProcesses(pid: number, name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // comm is in parentheses and may hold spaces: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && comm === name) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A worker's Prometheus counter or gauge, 0 when absent. */
export async function workerMetric(w: WorkerProcess, re: RegExp): Promise<number> {
  return Number(re.exec(await (await fetch(`${w.url}/metrics`)).text())?.[1] ?? 0);
}

/** An `ffmpeg` that answers -version and -encoders but, given a task, sleeps without a word. */
export function hangingFfmpeg(dir: string): string {
  return wrappedFfmpeg(dir, 'exec sleep 600');
}

/** An `ffmpeg` that, given a task, waits `seconds` before it starts it: a task that outlasts a timeout. */
export function slowStartingFfmpeg(dir: string, seconds: number): string {
  return wrappedFfmpeg(dir, `sleep ${seconds}`);
}

/** The real FFmpeg behind a shell wrapper that runs `onTask` first for a task's run (`-progress`). */
function wrappedFfmpeg(dir: string, onTask: string): string {
  const real = findExecutable('ffmpeg', process.env.PATH);
  if (!real) throw new Error('no ffmpeg on PATH');
  return makeExecutable(
    'ffmpeg',
    `case " $* " in *" -progress "*) ${onTask} ;; esac\nexec '${real}' "$@"`,
    dir,
  );
}
