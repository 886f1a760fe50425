/**
 * The HTTP API through Fastify's inject, with the real control plane, the real local worker and
 * FFmpeg behind it, on PGlite and (when MEDIAFORGE_TEST_DATABASE_URL is set) PostgreSQL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from './helpers/db.js';
import {
  simpleSpec,
  startTestOrchestrator,
  type TestOrchestrator,
  waitForJob,
} from './helpers/orchestrator.js';
import { probeFile } from './helpers/pipeline.js';

describe.each(TEST_DATABASES)('API on $name', (db) => {
  let t: TestOrchestrator;
  let alice: Record<string, string>;
  let bob: Record<string, string>;

  beforeAll(async () => {
    t = await startTestOrchestrator(db);
    alice = await t.user('alice');
    bob = await t.user('bob');
    await t.clip('in.mp4', 2);
  });
  afterAll(async () => t?.close());

  const post = (headers: Record<string, string>, payload: unknown, extra: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      headers: { ...headers, ...extra },
      payload: payload as object,
    });

  it('answers the probes without a key and everything else only with one', async () => {
    for (const url of ['/health', '/healthz', '/readyz', '/metrics']) {
      const r = await t.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
    }
    expect((await t.app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({
      status: 'healthy',
    });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      status: 'ready',
      database: db.name,
    });

    const none = await t.app.inject({ method: 'GET', url: '/api/v1/jobs' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: 'unauthorized', code: 401 });
    expect(typeof none.json().request_id).toBe('string');
    const wrong = await t.app.inject({
      method: 'GET',
      url: '/api/v1/jobs',
      headers: { authorization: 'Bearer mf_nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: t.admin })).statusCode).toBe(
      200,
    );
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: alice })).statusCode).toBe(200);
  });

  it('lets admins make keys, users only see and revoke their own, and a revoked key stops working', async () => {
    const carol = await t.user('carol');
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: carol,
      payload: { user: 'x' },
    });
    expect(made.statusCode).toBe(403);
    expect(made.json().error).toBe('forbidden');

    const mine = (await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: carol })).json().data;
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ user: 'carol', role: 'user' });
    expect(mine[0].key).toBeUndefined();
    const all = (await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: t.admin })).json()
      .data;
    expect(all.map((k: { user: string }) => k.user)).toEqual(
      expect.arrayContaining(['admin', 'alice', 'bob', 'carol']),
    );

    const bobsKey = all.find((k: { user: string }) => k.user === 'bob').id;
    const notMine = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/api-keys/${bobsKey}`,
      headers: carol,
    });
    expect(notMine.statusCode).toBe(404);
    expect(notMine.json().error).toBe('api_key_not_found');

    const role = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: t.admin,
      payload: { user: 'carol', role: 'admin' },
    });
    expect(role.statusCode).toBe(409);
    expect(role.json().error).toBe('user_conflict');

    expect(
      (await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${mine[0].id}`, headers: carol }))
        .statusCode,
    ).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: carol });
    expect(after.statusCode).toBe(401);
  });

  it('runs a job to completion and shows its outputs, plan and logs', async () => {
    const r = await post(alice, simpleSpec('in.mp4', 'out/a.mp4'));
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body).toMatchObject({ status: 'pending' });
    expect(r.headers.location).toBe(`/api/v1/jobs/${body.job_id}`);

    const job = await waitForJob(t.app, alice, body.job_id);
    expect(job.status).toBe('completed');
    expect(job.stage).toBe('completed');
    expect(job.progress).toMatchObject({ overall_percent: 100 });
    const [out] = job.output_files as Array<Record<string, unknown>>;
    expect(out).toMatchObject({ output_id: 'small', destination: 'out/a.mp4', files: ['out/a.mp4'] });
    expect(out!.md5).toMatch(/^[0-9a-f]{32}$/);
    const info = await probeFile(join(t.root, 'out/a.mp4'));
    expect(info.streams.find((s) => s.type === 'video')).toMatchObject({ width: 160, height: 120 });
    expect(out!.file_size).toBe(info.format.size);
    expect(info.format.duration).toBeCloseTo(2, 0);

    const plan = (
      await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${body.job_id}/plan`, headers: alice })
    ).json();
    expect(plan.tasks).toHaveLength(1);
    expect(plan.tasks[0].ffmpeg_argv).toEqual(expect.arrayContaining(['-nostdin']));
    expect(plan.stages.length).toBeGreaterThan(0);
    // Paths are shown relative to the media root: the server's layout stays its own.
    expect(JSON.stringify(plan)).not.toContain(t.root);
    const logs = (
      await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${body.job_id}/logs`, headers: alice })
    ).json();
    expect(logs.logs.map((l: { stage: string }) => l.stage)).toEqual(
      expect.arrayContaining(['probing', 'planning', 'encoding']),
    );
    const onlyEncoding = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/jobs/${body.job_id}/logs?stage=encoding`,
        headers: alice,
      })
    ).json();
    expect(onlyEncoding.logs.every((l: { stage: string }) => l.stage === 'encoding')).toBe(true);
  });

  it("hides another user's job behind a 404", async () => {
    const id = (await post(alice, simpleSpec('in.mp4', 'out/private.mp4'))).json().job_id;
    for (const [method, url] of [
      ['GET', `/api/v1/jobs/${id}`],
      ['DELETE', `/api/v1/jobs/${id}`],
      ['POST', `/api/v1/jobs/${id}/cancel`],
      ['GET', `/api/v1/jobs/${id}/plan`],
      ['GET', `/api/v1/jobs/${id}/events`],
    ] as const) {
      const r = await t.app.inject({ method, url, headers: bob });
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.json().error).toBe('job_not_found');
    }
    const bobs = (await t.app.inject({ method: 'GET', url: '/api/v1/jobs?limit=100', headers: bob })).json();
    expect(bobs.data.map((j: { job_id: string }) => j.job_id)).not.toContain(id);
    const admins = (
      await t.app.inject({ method: 'GET', url: '/api/v1/jobs?limit=100', headers: t.admin })
    ).json();
    expect(admins.data.map((j: { job_id: string }) => j.job_id)).toContain(id);
    await waitForJob(t.app, alice, id);
  });

  it('gives the same job for the same idempotency key and body, 409 for another body', async () => {
    const spec = simpleSpec('in.mp4', 'out/idem.mp4');
    const a = await post(alice, { ...spec, idempotency_key: 'k-1' });
    const b = await post(alice, spec, { 'idempotency-key': 'k-1' });
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(200);
    expect(b.json().job_id).toBe(a.json().job_id);
    const c = await post(alice, simpleSpec('in.mp4', 'out/other.mp4'), { 'idempotency-key': 'k-1' });
    expect(c.statusCode).toBe(409);
    expect(c.json().error).toBe('idempotency_conflict');
    // Keys are per user: bob's k-1 is another job.
    const d = await post(bob, spec, { 'idempotency-key': 'k-1' });
    expect(d.statusCode).toBe(201);
    expect(d.json().job_id).not.toBe(a.json().job_id);
    await waitForJob(t.app, alice, a.json().job_id);
    await waitForJob(t.app, bob, d.json().job_id);
  });

  it('makes exactly one job of 20 concurrent submits with one idempotency key', async () => {
    const spec = simpleSpec('in.mp4', 'out/race.mp4');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post(alice, spec, { 'idempotency-key': 'race-1' })),
    );
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 200)).toHaveLength(19);
    expect(new Set(answers.map((r) => r.json().job_id)).size).toBe(1);
    await waitForJob(t.app, alice, answers[0]!.json().job_id);
  });

  it('refuses bad requests with their documented codes', async () => {
    const cases: Array<[string, () => ReturnType<typeof post>, number, string]> = [
      ['spec null', () => post(alice, { spec: null }), 400, 'missing_spec'],
      ['no spec', () => post(alice, { priority: 1 }), 400, 'missing_spec'],
      [
        'bad JSON',
        () =>
          t.app.inject({
            method: 'POST',
            url: '/api/v1/jobs',
            headers: { ...alice, 'content-type': 'application/json' },
            payload: '{"spec": ',
          }),
        400,
        'invalid_request',
      ],
      ['array body', () => post(alice, [1, 2]), 400, 'invalid_request'],
      [
        'unknown op',
        () =>
          post(alice, {
            spec: {
              ...simpleSpec('in.mp4', 'o.mp4').spec,
              operations: [{ op: 'explode', input: 'in', output: 'small' }],
            },
          }),
        400,
        'validation_error',
      ],
      [
        'outside the root',
        () => post(alice, simpleSpec('../../etc/passwd', 'o.mp4')),
        400,
        'validation_error',
      ],
      [
        'bad priority',
        () => post(alice, { ...simpleSpec('in.mp4', 'o.mp4'), priority: 'high' }),
        400,
        'validation_error',
      ],
      [
        'unknown key',
        () => post(alice, { ...simpleSpec('in.mp4', 'o.mp4'), colour: 'red' }),
        400,
        'validation_error',
      ],
    ];
    for (const [name, send, status, code] of cases) {
      const r = await send();
      expect(r.statusCode, name).toBe(status);
      expect(r.json(), name).toMatchObject({ error: code, code: status });
    }
    const unknownOp = await post(alice, {
      spec: {
        ...simpleSpec('in.mp4', 'o.mp4').spec,
        operations: [{ op: 'explode', input: 'in', output: 'small' }],
      },
    });
    expect(unknownOp.json().details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'unknown_operator',
          path: expect.stringMatching(/^spec\.operations\[0\]/),
        }),
      ]),
    );
    const unknown = await t.app.inject({
      method: 'GET',
      url: '/api/v1/jobs/00000000-0000-0000-0000-000000000000',
      headers: alice,
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toBe('job_not_found');
    const route = await t.app.inject({ method: 'GET', url: '/api/v1/nothing', headers: alice });
    expect(route.statusCode).toBe(404);
    expect(route.json().error).toBe('not_found');
  });

  it('fails a job whose input is missing with a clear error, not a 500', async () => {
    const r = await post(alice, simpleSpec('missing.mp4', 'out/m.mp4'));
    expect(r.statusCode).toBe(201);
    const job = await waitForJob(t.app, alice, r.json().job_id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'input_not_found', retryable: false });
    expect(String((job.error as { message: string }).message)).not.toContain(t.root);
  });

  it('cancels and retries, and says so when the job is already finished', async () => {
    const done = (await post(alice, simpleSpec('in.mp4', 'out/c1.mp4'))).json().job_id;
    await waitForJob(t.app, alice, done);
    for (const [method, url] of [
      ['DELETE', `/api/v1/jobs/${done}`],
      ['POST', `/api/v1/jobs/${done}/cancel`],
    ] as const) {
      const r = await t.app.inject({ method, url, headers: alice });
      expect(r.statusCode).toBe(400);
      expect(r.json().error).toBe('job_terminal');
    }
    const notRetryable = await t.app.inject({
      method: 'POST',
      url: `/api/v1/jobs/${done}/retry`,
      headers: alice,
    });
    expect(notRetryable.statusCode).toBe(400);
    expect(notRetryable.json().error).toBe('job_not_retryable');

    const failed = (await post(alice, simpleSpec('later.mp4', 'out/c2.mp4'))).json().job_id;
    expect((await waitForJob(t.app, alice, failed)).status).toBe('failed');
    await t.clip('later.mp4', 1);
    const retried = await t.app.inject({
      method: 'POST',
      url: `/api/v1/jobs/${failed}/retry`,
      headers: alice,
    });
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ status: 'pending', attempts: 2, error: null });
    const again = await waitForJob(t.app, alice, failed);
    expect(again.status).toBe('completed');
  });

  it('lists jobs newest first with cursors, filters and a total', async () => {
    const carl = await t.user('carl');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await post(carl, simpleSpec('missing.mp4', `out/l${i}.mp4`))).json().job_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page: {
        total: number;
        data: Array<{ job_id: string }>;
        next_cursor: string | null;
        has_more: boolean;
      } = (await t.app.inject({ method: 'GET', url: `/api/v1/jobs${q}`, headers: carl })).json();
      expect(page.total).toBe(5);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((j: { job_id: string }) => j.job_id));
      cursor = page.next_cursor;
      expect(page.has_more).toBe(cursor !== null);
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    for (const id of ids) await waitForJob(t.app, carl, id);
    const failed = (
      await t.app.inject({ method: 'GET', url: '/api/v1/jobs?status=failed&limit=100', headers: carl })
    ).json();
    expect(failed.total).toBe(5);
    const none = (
      await t.app.inject({ method: 'GET', url: '/api/v1/jobs?status=completed', headers: carl })
    ).json();
    expect(none).toMatchObject({ data: [], total: 0, has_more: false, next_cursor: null });
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/jobs?limit=1000', headers: carl });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('validation_error');
  });

  it('describes every operator, and itself in OpenAPI', async () => {
    const ops = (await t.app.inject({ method: 'GET', url: '/api/v1/operators', headers: alice })).json().data;
    expect(ops.length).toBeGreaterThanOrEqual(17);
    expect(ops.every((o: { category: string }) => o.category !== 'other')).toBe(true);
    const scale = (
      await t.app.inject({ method: 'GET', url: '/api/v1/operators/scale', headers: alice })
    ).json();
    expect(scale).toMatchObject({
      name: 'scale',
      category: 'geometry',
      inputs: { kind: 'video', min: 1, max: 1 },
    });
    expect(scale.parameters.find((p: { name: string }) => p.name === 'width')).toMatchObject({
      type: 'integer',
      required: false,
    });
    const none = await t.app.inject({ method: 'GET', url: '/api/v1/operators/explode', headers: alice });
    expect(none.statusCode).toBe(404);
    expect(none.json().error).toBe('operator_not_found');

    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/jobs', '/api/v1/jobs/{id}', '/api/v1/api-keys']),
    );
    expect(doc.paths['/api/v1/jobs'].post.requestBody).toBeDefined();
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/html/);
  });

  it('counts jobs by status in /metrics', async () => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/mediaforge_jobs\{status="completed"\} [1-9]/);
    expect(text).toContain('mediaforge_queue_depth');
    expect(text).toContain('mediaforge_http_request_duration_seconds_bucket');
    expect(text).toMatch(
      /mediaforge_task_duration_seconds_count\{kind="transcode",outcome="succeeded"\} [1-9]/,
    );
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin only', async () => {
    const t = await startTestOrchestrator(TEST_DATABASES[0]!, {
      worker: false,
      settings: { cors_origins: 'https://app.example' },
    });
    try {
      const pre = (origin: string) =>
        t.app.inject({
          method: 'OPTIONS',
          url: '/api/v1/jobs',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization',
          },
        });
      const ok = await pre('https://app.example');
      expect(ok.statusCode).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
      const other = await pre('https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('API limits', () => {
  let t: TestOrchestrator;
  beforeAll(async () => {
    t = await startTestOrchestrator(TEST_DATABASES[0]!, {
      worker: false,
      settings: { rate_limit_per_minute: 5, max_jobs_in_flight: 2, body_limit_bytes: 4096, max_outputs: 1 },
    });
  });
  afterAll(async () => t?.close());

  it('answers 413 to a body over the limit, 429 past the jobs in flight and past the rate', async () => {
    const u = await t.user('limited');
    const big = await t.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      headers: u,
      payload: { spec: { inputs: [{ id: 'a', source: 'x'.repeat(5000) }] } },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toBe('payload_too_large');

    const two = simpleSpec('in.mp4', 'out/1.mp4');
    two.spec.outputs.push({ ...two.spec.outputs[0]!, destination: 'out/2.mp4' });
    const tooMany = await t.app.inject({ method: 'POST', url: '/api/v1/jobs', headers: u, payload: two });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().details[0]).toMatchObject({ path: 'spec.outputs', code: 'out_of_range' });

    // No worker: jobs whose input exists stay unfinished.
    await t.clip('in.mp4', 1);
    const codes = [];
    for (let i = 0; i < 2; i++)
      codes.push(
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/v1/jobs',
            headers: u,
            payload: simpleSpec('in.mp4', `o${i}.mp4`),
          })
        ).statusCode,
      );
    expect(codes).toEqual([201, 201]);
    const third = await t.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      headers: u,
      payload: simpleSpec('in.mp4', 'o3.mp4'),
    });
    expect(third.statusCode).toBe(429);
    expect(third.json().error).toBe('too_many_jobs');

    // Four requests so far count for this key (the 413 was refused before the limiter saw it):
    // the fifth is the last allowed, the sixth is over.
    const fifth = await t.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: u });
    expect(fifth.statusCode).toBe(200);
    expect(fifth.headers['x-ratelimit-remaining']).toBe('0');
    const over = await t.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: u });
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ error: 'rate_limited', code: 429 });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.headers['x-ratelimit-limit']).toBe('5');
    expect(over.headers['x-ratelimit-remaining']).toBe('0');
    expect(over.headers['x-ratelimit-reset']).toBeDefined();
    // Another key has its own budget; the probes have none.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: t.admin })).statusCode).toBe(
      200,
    );
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
