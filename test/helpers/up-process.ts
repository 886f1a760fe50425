/**
 * `mediaforge up` (or `orchestrator`) as a real child process on a free loopback port, for the
 * end-to-end and fault tests: its URL read from what it prints, a fetch helper with the admin key,
 * and kill -9 that leaves its data folder as a crash would.
 */
import type { ChildHandle } from '../../src/media/process.js';
import { ensureBuilt, startCli } from './cli.js';
import type { TestDatabase } from './db.js';
import { ADMIN_KEY } from './orchestrator.js';

export interface UpProcess {
  child: ChildHandle;
  url: string;
  stdout: () => string;
  stderr: () => string;
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
}

export async function startUpProcess(opts: {
  dataDir: string;
  db: TestDatabase;
  schema?: string | undefined;
  env?: Record<string, string>;
  role?: 'up' | 'orchestrator';
  /** A fixed port (a restart that workers must find again); default a free one. */
  port?: number;
}): Promise<UpProcess> {
  await ensureBuilt();
  const env: Record<string, string> = {
    MEDIAFORGE_ADMIN_KEY: ADMIN_KEY,
    MEDIAFORGE_LOG_LEVEL: 'warn',
    MEDIAFORGE_LOCAL_WORKER_SLOTS: '1',
    MEDIAFORGE_PROBE_SECONDS: '0',
    ...(opts.db.url
      ? { MEDIAFORGE_DATABASE_URL: opts.db.url, MEDIAFORGE_DATABASE_SCHEMA: opts.schema! }
      : {}),
    ...opts.env,
  };
  const cli = await startCli([opts.role ?? 'up', '--data', opts.dataDir, '--port', String(opts.port ?? 0)], {
    cwd: opts.dataDir,
    env,
  });
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (!url) {
    url = /: (http:\/\/127\.0\.0\.1:\d+) /.exec(cli.stdout())?.[1];
    if (url) break;
    const exited = await Promise.race([cli.child.exited, new Promise((r) => setTimeout(() => r(null), 50))]);
    if (exited)
      throw new Error(
        `mediaforge up exited early: ${JSON.stringify(exited)}\n${cli.stdout()}\n${cli.stderr()}`,
      );
    if (Date.now() > deadline)
      throw new Error(`mediaforge up printed no URL:\n${cli.stdout()}\n${cli.stderr()}`);
  }
  const base = url;
  return {
    child: cli.child,
    url: base,
    stdout: cli.stdout,
    stderr: cli.stderr,
    async api(method, path, body) {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      return { status: r.status, body: (text ? JSON.parse(text) : null) as never };
    },
  };
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`${what}: not after ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Reads an SSE stream until it ends: every logged event (those with an id), with its type and data. */
export async function readEvents(
  url: string,
  headers: Record<string, string>,
): Promise<Array<{ id: number; type: string; data: Record<string, unknown> }>> {
  const { createParser } = await import('eventsource-parser');
  const r = await fetch(url, { headers });
  if (r.status !== 200 || !r.body) throw new Error(`SSE answered ${r.status}: ${await r.text()}`);
  const events: Array<{ id: number; type: string; data: Record<string, unknown> }> = [];
  const parser = createParser({
    // Events without an id are the once-a-second progress reminders: not part of the log.
    onEvent: (e) => {
      if (e.id !== undefined)
        events.push({ id: Number(e.id), type: e.event ?? 'message', data: JSON.parse(e.data) });
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of r.body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
  return events;
}

/** A loopback port free now (bound, then released): for a server that must come back on the same one. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}
