/**
 * The API client commands (submit, jobs, watch, cancel, retry) through the CLI's main(), in this
 * process, against a real orchestrator on a loopback port with its local worker and FFmpeg.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/index.js';
import { jsonLines } from './helpers/cli.js';
import { TEST_DATABASES } from './helpers/db.js';
import {
  ADMIN_KEY,
  simpleSpec,
  startTestOrchestrator,
  type TestOrchestrator,
} from './helpers/orchestrator.js';
import { probeFile, tempRoot } from './helpers/pipeline.js';

let t: TestOrchestrator;
const specs = tempRoot('mf-cli-client-');

beforeAll(async () => {
  // PostgreSQL when the suite has one (the events then come through LISTEN/NOTIFY), else PGlite.
  t = await startTestOrchestrator(TEST_DATABASES.at(-1)!);
  await t.clip('in.mp4', 2);
}, 120_000);
afterAll(async () => t?.close());

/** Runs `mediaforge ...args` in this process; the server and admin key unless `auth` says otherwise. */
async function cli(args: string[], auth: string[] = ['--server', t.url, '--key', ADMIN_KEY]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'mediaforge', ...args, ...auth], {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    isTTY: false,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), lines: out };
}

async function specFile(name: string, doc: unknown): Promise<string> {
  const file = join(specs, name);
  await writeFile(file, JSON.stringify(doc));
  return file;
}

describe('submit', () => {
  it('--wait follows the job to the end: exit 0, the id, one ✓ line, the file is there', async () => {
    const r = await cli(['submit', await specFile('a.json', simpleSpec('in.mp4', 'out/a.mp4')), '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.lines[1]).toMatch(/^✓ small → out\/a\.mp4 \(\d+(\.\d)? KiB; 2\.\d\d s\)$/);
    const info = await probeFile(join(t.root, 'out/a.mp4'));
    expect(info.streams.find((s) => s.type === 'video')?.width).toBe(160);
    expect(info.format.duration).toBeCloseTo(2, 0);

    const jobs = await cli(['jobs']);
    expect(jobs.code).toBe(0);
    expect(jobs.lines[0]).toMatch(/^ID +STATUS +STAGE +DONE +CREATED$/);
    expect(jobs.stdout).toMatch(
      new RegExp(`${r.lines[0]} +completed +completed +100% +\\d{4}-\\d\\d-\\d\\dT`),
    );
  });

  it('takes a bare spec, and with --json prints the submission, each event and the result', async () => {
    const bare = simpleSpec('in.mp4', 'out/bare.mp4').spec;
    const r = await cli(['submit', await specFile('bare.json', bare), '--wait', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ type: 'submitted', status: 'pending', created: true });
    const events = lines.filter((l) => l.type === 'event').map((l) => l.event);
    expect(events[0]).toBe('job.created');
    expect(events).toContain('job.processing');
    expect(events.at(-1)).toBe('job.completed');
    expect(lines.at(-1)).toMatchObject({
      type: 'result',
      job_id: lines[0]!.job_id,
      status: 'completed',
      outputs: [{ output_id: 'small', files: ['out/bare.mp4'] }],
    });
  });

  it('sends --priority and --idempotency-key: the same key gives back the same job', async () => {
    const file = await specFile('idem.json', simpleSpec('in.mp4', 'out/idem.mp4'));
    const flags = ['--idempotency-key', 'cli-test-1', '--priority', '7'];
    const first = await cli(['submit', file, ...flags]);
    const again = await cli(['submit', file, ...flags]);
    expect([first.code, again.code]).toEqual([0, 0]);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr).toContain('submitted before with this idempotency key');
    const job = await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${first.stdout}`, headers: t.admin });
    expect(job.json()).toMatchObject({ priority: 7, idempotency_key: 'cli-test-1' });

    const bad = await cli(['submit', file, '--priority', 'high']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: invalid_request: --priority high is not an integer from -100 to 100');
  });

  it('an invalid spec: exit 2 with each problem', async () => {
    const spec = simpleSpec('in.mp4', 'out/x.mp4');
    (spec.spec.operations[0]!.params as { width: number }).width = 99999;
    const r = await cli(['submit', await specFile('bad.json', spec)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: validation_error: /);
    expect(r.stderr).toMatch(/\n {2}spec\.operations\[0\]\.params\.width: .* \[out_of_range\]$/);
  });

  it('a wrong or missing key: exit 1, unauthorized', async () => {
    const file = await specFile('a2.json', simpleSpec('in.mp4', 'out/a2.mp4'));
    const wrong = await cli(['submit', file], ['--server', t.url, '--key', 'mf_wrong']);
    expect(wrong).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: unauthorized: the API key is not valid',
    });
    const none = await cli(['jobs'], ['--server', t.url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: unauthorized: .*\(give one with --key or MEDIAFORGE_KEY\)$/);
  });
});

describe('jobs, watch, cancel, retry', () => {
  it('jobs filters by status; a bad --limit is exit 2 naming the parameter', async () => {
    const r = await cli(['jobs', '--status', 'completed', '--limit', '2', '--json']);
    expect(r.code).toBe(0);
    const page = JSON.parse(r.stdout) as { data: Array<{ status: string }>; has_more: boolean };
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data.length).toBeLessThanOrEqual(2);
    expect(page.data.every((j) => j.status === 'completed')).toBe(true);

    const bad = await cli(['jobs', '--limit', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: validation_error: [^\n]*\n {2}querystring\.limit: /);
  });

  it('watch on a finished job ends at once with its result; cancel on it says job_terminal', async () => {
    const id = (await cli(['submit', await specFile('w.json', simpleSpec('in.mp4', 'out/w.mp4')), '--wait']))
      .lines[0]!;
    const w = await cli(['watch', id]);
    expect(w).toMatchObject({ code: 0, stderr: '' });
    expect(w.stdout).toMatch(/^✓ small → out\/w\.mp4 \([^\n]*\)$/);
    const c = await cli(['cancel', id]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^error: job_terminal: job .* is already completed$/);
    const unknown = await cli(['watch', 'no-such-job']);
    expect(unknown).toMatchObject({ code: 1, stderr: 'error: job_not_found: no job no-such-job' });
  });

  it('cancel stops a running job; watching it then ends with exit 1, cancelled', async () => {
    await t.clip('long.mp4', 20);
    const id = (await cli(['submit', await specFile('long.json', simpleSpec('long.mp4', 'out/long.mp4'))]))
      .stdout;
    const c = await cli(['cancel', id]);
    expect(c).toMatchObject({ code: 0, stdout: `job ${id} cancelled` });
    const w = await cli(['watch', id]);
    expect(w).toMatchObject({ code: 1, stderr: `error: cancelled: job ${id} was cancelled` });
  });

  it('retry runs a failed job again: missing input fails, then with the input it completes', async () => {
    const file = await specFile('later.json', simpleSpec('later.mp4', 'out/later.mp4'));
    const failed = await cli(['submit', file, '--wait']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: input_not_found: .*later\.mp4/);
    const id = failed.lines[0]!;

    await t.clip('later.mp4', 2);
    // Its events replay the first attempt's failure first; --wait must not stop there.
    const r = await cli(['retry', id, '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe(`job ${id} queued again (attempt 2)`);
    expect(r.lines[1]).toMatch(/^✓ small → out\/later\.mp4/);
    expect((await probeFile(join(t.root, 'out/later.mp4'))).format.duration).toBeCloseTo(2, 0);
    expect((await cli(['watch', id])).code).toBe(0);
    const again = await cli(['retry', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: job_not_retryable: /);
  });

  it('watch resumes with Last-Event-ID when the connection drops', async () => {
    const id = (await cli(['submit', await specFile('r.json', simpleSpec('in.mp4', 'out/r.mp4'))])).stdout;
    const proxy = await droppingProxy(Number(new URL(t.url).port));
    try {
      const r = await cli(['watch', id, '--json'], ['--server', proxy.url, '--key', ADMIN_KEY]);
      expect(r.code).toBe(0);
      const ids = jsonLines(r.stdout)
        .filter((l) => l.type === 'event')
        .map((l) => Number(l.id));
      // Every event once, in order: the second connection started after the last one seen.
      expect(ids[0]).toBe(proxy.cutAfter());
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'result', status: 'completed' });
      const streams = proxy.requests().filter((h) => h.startsWith(`GET /api/v1/jobs/${id}/events `));
      expect(streams).toHaveLength(2);
      expect(streams[1]).toMatch(new RegExp(`\\r\\nlast-event-id: ${proxy.cutAfter()}\\r\\n`, 'i'));
    } finally {
      await proxy.close();
    }
  });
});

describe('server and key', () => {
  it('come from MEDIAFORGE_URL and MEDIAFORGE_KEY when there are no flags', async () => {
    vi.stubEnv('MEDIAFORGE_URL', t.url);
    vi.stubEnv('MEDIAFORGE_KEY', ADMIN_KEY);
    try {
      const r = await cli(['jobs', '--limit', '1'], []);
      expect(r.code).toBe(0);
      expect(r.lines[0]).toMatch(/^ID +STATUS/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a server that is not there: exit 1 naming the URL', async () => {
    const port = await closedPort();
    const r = await cli(['jobs'], ['--server', `http://127.0.0.1:${port}`, '--key', ADMIN_KEY]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: server_unreachable: cannot reach http://127.0.0.1:${port}: connection refused (is the orchestrator running? \`mediaforge up\` starts one)`,
    );
    const submit = await cli(
      ['submit', await specFile('c.json', simpleSpec('in.mp4', 'out/c.mp4')), '--wait'],
      ['--server', `http://127.0.0.1:${port}`],
    );
    expect(submit.code).toBe(1);
    expect(submit.stderr).toContain(`cannot reach http://127.0.0.1:${port}: connection refused`);
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as { port: number }).port;
  await new Promise((res) => s.close(res));
  return port;
}

/**
 * A TCP proxy to the orchestrator that cuts the first event stream right after its first event
 * (the frame with an id), as a dropped connection would; it records every request head.
 */
async function droppingProxy(port: number) {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  let cutAfter: number | undefined;
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let cutting = false;
    let pending = Buffer.alloc(0);
    client.on('data', (c) => {
      const head = c.toString('latin1');
      if (/^[A-Z]+ \//.test(head)) heads.push(head.split('\r\n\r\n')[0]!);
      if (cutAfter === undefined && /^GET \S+\/events /.test(head)) cutting = true;
      upstream.write(c);
    });
    upstream.on('data', (c) => {
      if (!cutting) return void client.write(c);
      if (cutAfter !== undefined) return; // cut: the rest never arrives
      pending = Buffer.concat([pending, c]);
      // Each SSE frame is one HTTP chunk: "\r\nid: N\n...\n\n\r\n".
      const m = /\r\nid: (\d+)\n[\s\S]*?\n\n\r\n/.exec(pending.toString('latin1'));
      if (!m) return;
      cutAfter = Number(m[1]);
      client.write(pending.subarray(0, m.index + m[0].length));
      setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, 300);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests: () => [...heads],
    cutAfter: () => cutAfter,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((res) => server.close(res));
    },
  };
}
