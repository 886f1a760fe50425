/**
 * An orchestrator (with its local worker unless asked otherwise) in this test process, on a
 * loopback port, on PGlite or on a fresh schema of the PostgreSQL server; and the small things
 * API tests do with it.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Started, startUp } from '../../src/cli/up.js';
import { loadConfig } from '../../src/config/index.js';
import { makeClip } from '../../src/media/test-support/make-media.js';
import { dropSchema, freshSchema, type TestDatabase } from './db.js';
import { tempRoot } from './pipeline.js';

export const ADMIN_KEY = 'mf_test-admin-key-0123456789abcdef';

export interface TestOrchestrator {
  started: Started;
  app: FastifyInstance;
  url: string;
  /** The media root jobs resolve under. */
  root: string;
  dataDir: string;
  schema: string | undefined;
  /** Headers of the admin key. */
  admin: Record<string, string>;
  /** Creates a user with a key; returns its headers. */
  user(name: string, role?: 'admin' | 'user'): Promise<Record<string, string>>;
  /** Copies a generated clip into the media root under `name`. */
  clip(name: string, seconds?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startTestOrchestrator(
  db: TestDatabase,
  opts: { worker?: boolean; settings?: Record<string, unknown>; dataDir?: string; schema?: string } = {},
): Promise<TestOrchestrator> {
  const dataDir = opts.dataDir ?? tempRoot('mf-data-');
  const schema = db.url ? (opts.schema ?? freshSchema()) : undefined;
  const config = loadConfig('orchestrator', {
    env: {},
    overrides: {
      data_dir: dataDir,
      port: 0,
      admin_key: ADMIN_KEY,
      log_level: 'silent',
      database_url: db.url,
      database_schema: schema,
      // The local worker lists its encoders; the test encodes are the probe tests' business.
      probe_seconds: 0,
      ...opts.settings,
    },
  });
  const started = await startUp(config, process.env, opts.worker ?? true);
  const o = started.orchestrator;
  const admin = { authorization: `Bearer ${ADMIN_KEY}` };
  return {
    started,
    app: o.app,
    url: o.url,
    root: o.roots.default,
    dataDir,
    schema,
    admin,
    async user(name, role = 'user') {
      const r = await o.app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: admin,
        payload: { user: name, role },
      });
      if (r.statusCode !== 201) throw new Error(`cannot create user ${name}: ${r.body}`);
      return { 'x-api-key': r.json().key as string };
    },
    async clip(name, seconds = 2) {
      const src = await makeClip({ seconds, size: '320x240' });
      await copyFile(src, join(o.roots.default, name));
      return name;
    },
    async close() {
      await started.stop();
      if (db.url && schema && !opts.schema) await dropSchema(db.url, schema);
    },
  };
}

/** A spec with one input, a trim and a scale, written to `out`. */
export function simpleSpec(source: string, destination: string, extra: Record<string, unknown> = {}) {
  return {
    spec: {
      inputs: [{ id: 'in', source }],
      operations: [{ op: 'scale', input: 'in', output: 'small', params: { width: 160 } }],
      outputs: [
        {
          id: 'small',
          destination,
          codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } },
        },
      ],
    },
    ...extra,
  };
}

/** A job encoded slowly enough (x264 veryslow, from a 30 s clip) that a fault test can act while it runs. */
export function slowSpec(source: string, destination: string) {
  return {
    spec: {
      inputs: [{ id: 'in', source }],
      outputs: [
        {
          id: 'in',
          destination,
          codec: { video: { codec: 'h264', preset: 'veryslow', crf: 30 }, audio: { codec: 'aac' } },
        },
      ],
    },
  };
}

/** Polls a job until it is finished (completed, failed or cancelled). */
export async function waitForJob(
  app: FastifyInstance,
  headers: Record<string, string>,
  id: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers });
    const job = r.json() as Record<string, unknown>;
    if (['completed', 'failed', 'cancelled'].includes(String(job.status))) return job;
    if (Date.now() > until)
      throw new Error(`job ${id} still ${job.status}/${job.stage} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** A JSON call to a test orchestrator over HTTP, with the admin key unless other headers are given. */
export async function callApi(
  t: Pick<TestOrchestrator, 'url' | 'admin'>,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = t.admin,
) {
  const r = await fetch(`${t.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read loosely by the tests
  return { status: r.status, body: (text ? JSON.parse(text) : null) as Record<string, any> };
}
