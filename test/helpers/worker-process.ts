/**
 * `mediaforge worker` as a real child process on a free loopback port, enrolled with a token, for
 * the cluster and fault tests.
 */
import type { ChildHandle } from '../../src/media/process.js';
import { ensureBuilt, startCli } from './cli.js';

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
  mediaRoot: string;
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
      '--media-root',
      opts.mediaRoot,
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
