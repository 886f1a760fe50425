/**
 * The orchestrator's REST API as the CLI uses it: JSON requests carrying the key, error bodies
 * turned into ApiError, and a job's Server-Sent Events followed to the end, resuming with
 * Last-Event-ID when the connection drops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AppError, type Issue } from '../core/index.js';

const REQUEST_TIMEOUT_MS = 30_000;
/** The server sends a comment every 15 s: a stream silent for longer is dead. */
const IDLE_MS = 45_000;
const TERMINAL_EVENTS = new Set(['job.completed', 'job.failed', 'job.cancelled']);
export const TERMINAL_STATES = new Set(['completed', 'failed', 'cancelled']);

/** An error body the server sent: `{error, message, code, details?}`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: Issue[],
  ) {
    super(message);
  }
}

export interface JobProgressView {
  overall_percent: number;
  current_step: string;
  fps: number | null;
  speed: number | null;
  eta_seconds: number | null;
}

export interface OutputFile {
  output_id: string;
  files: string[];
  file_size?: number;
  duration?: number | null;
}

/** The fields of the API's job the CLI shows. */
export interface JobView {
  job_id: string;
  status: string;
  stage: string;
  progress: JobProgressView | null;
  error: { code: string; message: string } | null;
  output_files: OutputFile[];
  attempts: number;
  created_at: string;
}

export interface WorkerView {
  id: string;
  name: string;
  url: string | null;
  state: string;
  status: string;
  reason: string | null;
  online: boolean;
  draining: boolean;
  silent_seconds: number;
  max_concurrent: number;
  labels: string[];
  capabilities: {
    encoders?: Array<{ name: string; fps: number; hardware: string | null }>;
    unhealthy?: Array<{ name: string; error: string }>;
    probed_at?: string | null;
  };
  active_tasks: unknown[];
}

export interface Submitted {
  job_id: string;
  status: string;
  created_at: string;
}

export interface JobEvent {
  id: string | undefined;
  type: string;
  data: Record<string, unknown>;
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** Connections in a row that may fail or end early before giving up (default 30, ~1 min). */
  maxReconnects?: number;
}

export class ApiClient {
  readonly server: string;
  readonly #key: string | undefined;
  #retryMs = 2000;

  constructor(server: string, key?: string) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new AppError('invalid_request', `the server URL ${server} is not a URL (http://host:port)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new AppError('invalid_request', `the server URL ${server} is not http:// or https://`);
    this.server = url.href.replace(/\/+$/, '');
    this.#key = key;
  }

  async submit(body: unknown, idempotencyKey?: string): Promise<{ job: Submitted; created: boolean }> {
    const headers = idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined;
    const { status, json } = await this.#request<Submitted>('POST', '/api/v1/jobs', body, headers);
    return { job: json, created: status === 201 };
  }

  async jobs(query: { status?: string; limit?: string }) {
    const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1]));
    const path = `/api/v1/jobs${q.size ? `?${q}` : ''}`;
    return (await this.#request<{ data: JobView[]; has_more: boolean; total: number }>('GET', path)).json;
  }

  async job(id: string): Promise<JobView> {
    return (await this.#request<JobView>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`)).json;
  }

  async cancel(id: string): Promise<{ job_id: string; status: string }> {
    return (await this.#request<Submitted>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/cancel`)).json;
  }

  async retry(id: string): Promise<JobView> {
    return (await this.#request<JobView>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/retry`)).json;
  }

  async workers(): Promise<{ data: WorkerView[] }> {
    return (await this.#request<{ data: WorkerView[] }>('GET', '/api/v1/workers')).json;
  }

  async patchWorker(id: string, body: Record<string, unknown>): Promise<WorkerView> {
    return (await this.#request<WorkerView>('PATCH', `/api/v1/workers/${encodeURIComponent(id)}`, body)).json;
  }

  async worker(id: string): Promise<WorkerView> {
    return (await this.#request<WorkerView>('GET', `/api/v1/workers/${encodeURIComponent(id)}`)).json;
  }

  async probeWorker(id: string): Promise<void> {
    await this.#request('POST', `/api/v1/workers/${encodeURIComponent(id)}/probe`);
  }

  async removeWorker(id: string): Promise<void> {
    await this.#request('DELETE', `/api/v1/workers/${encodeURIComponent(id)}`);
  }

  async createWorkerToken(body: {
    name?: string;
    ttl_seconds?: number | null;
  }): Promise<{ id: string; token: string; expires_at: string | null }> {
    return (
      await this.#request<{ id: string; token: string; expires_at: string | null }>(
        'POST',
        '/api/v1/worker-tokens',
        body,
      )
    ).json;
  }

  /**
   * Calls `onEvent` for each event of the job until it is finished, and returns the finished job.
   * The stream ends after a terminal event; the job is read once more then, because a replay also
   * shows the end of an attempt that a retry has since started again.
   */
  async follow(id: string, onEvent: (e: JobEvent) => void, opts: FollowOptions = {}): Promise<JobView> {
    let last: string | undefined;
    let failures = 0;
    let connected = false;
    for (;;) {
      let terminal = false;
      let lastError: unknown;
      try {
        for await (const m of this.#events(id, last, opts.signal)) {
          connected = true;
          failures = 0;
          if (m.id) last = m.id;
          const e = { id: m.id, type: m.event ?? 'message', data: parseData(m.data) };
          onEvent(e);
          if (TERMINAL_EVENTS.has(e.type)) terminal = true;
        }
      } catch (e) {
        // The user stopped, the job or key is wrong, or the server was never there: no retry helps.
        if (opts.signal?.aborted || !connected || (e instanceof ApiError && e.status < 500)) throw e;
        lastError = e;
      }
      if (terminal) {
        const job = await this.job(id);
        if (TERMINAL_STATES.has(job.status)) return job;
        continue;
      }
      if (++failures > (opts.maxReconnects ?? 30))
        throw lastError ?? new AppError('server_unreachable', `the event stream of job ${id} keeps ending`);
      await sleep(this.#retryMs, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }

  /** One connection's events; ends when the server closes it, throws when it breaks. */
  async *#events(id: string, last: string | undefined, signal?: AbortSignal) {
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(), IDLE_MS);
    try {
      const res = await this.#fetch(`/api/v1/jobs/${encodeURIComponent(id)}/events`, {
        headers: { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
        signal: signal ? AbortSignal.any([signal, idle.signal]) : idle.signal,
      });
      if (!res.ok || !res.body) throw this.#errorOf(res, await res.text());
      const queue: EventSourceMessage[] = [];
      const parser = createParser({
        onEvent: (m) => queue.push(m),
        onRetry: (ms) => {
          this.#retryMs = Math.min(Math.max(ms, 100), 30_000);
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), IDLE_MS);
        parser.feed(decoder.decode(chunk, { stream: true }));
        yield* queue.splice(0);
      }
    } catch (e) {
      if (idle.signal.aborted && !signal?.aborted)
        throw new AppError('server_unreachable', `${this.server} sent nothing for ${IDLE_MS / 1000} s`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async #request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: T }> {
    const res = await this.#fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw this.#errorOf(res, text);
    if (res.status === 204) return { status: 204, json: null as T };
    try {
      return { status: res.status, json: JSON.parse(text) as T };
    } catch {
      throw this.#unexpected(res, text);
    }
  }

  async #fetch(path: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    const auth: Record<string, string> = this.#key ? { authorization: `Bearer ${this.#key}` } : {};
    try {
      return await fetch(`${this.server}${path}`, { ...init, headers: { ...auth, ...init.headers } });
    } catch (e) {
      throw this.#unreachable(e);
    }
  }

  #unreachable(e: unknown): unknown {
    const err = e as Error & {
      cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> };
    };
    if (err.name === 'AbortError') return e;
    const code = err.cause?.code ?? err.cause?.errors?.[0]?.code;
    const why =
      err.name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : code === 'ECONNREFUSED'
          ? 'connection refused (is the orchestrator running? `mediaforge up` starts one)'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'unknown host'
            : (err.cause?.message ?? err.message);
    return new AppError('server_unreachable', `cannot reach ${this.server}: ${why}`, { cause: e });
  }

  #errorOf(res: Response, text: string): Error {
    try {
      const b = JSON.parse(text) as { error?: unknown; message?: unknown; details?: Issue[] };
      if (typeof b.error === 'string' && typeof b.message === 'string') {
        const hint =
          b.error === 'unauthorized' && !this.#key ? ' (give one with --key or MEDIAFORGE_KEY)' : '';
        return new ApiError(b.error, `${b.message}${hint}`, res.status, b.details);
      }
    } catch {
      // not JSON: below
    }
    return this.#unexpected(res, text);
  }

  #unexpected(res: Response, text: string): AppError {
    const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 120);
    return new AppError(
      'unexpected_response',
      `${this.server} answered HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}; is it a mediaforge server?`,
    );
  }
}

function parseData(data: string): Record<string, unknown> {
  try {
    const v = JSON.parse(data) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : { value: v };
  } catch {
    return { text: data };
  }
}
