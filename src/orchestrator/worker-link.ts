/**
 * The orchestrator's calls to a remote worker over HTTP, with the session's call secret. A worker
 * that is slow to answer is treated as unavailable for this dispatch: the next candidate gets it.
 */
import type { TaskAssignment, WorkerLink } from '../core/index.js';

export class HttpWorkerLink implements WorkerLink {
  readonly #url: string;
  readonly #secret: string;
  readonly #timeoutMs: number;

  constructor(url: string, callSecret: string, timeoutMs = 5000) {
    this.#url = url.replace(/\/+$/, '');
    this.#secret = callSecret;
    this.#timeoutMs = timeoutMs;
  }

  async #call(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.#url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#secret}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'error',
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
  }

  async dispatch(a: TaskAssignment): Promise<'accepted' | 'busy' | 'unavailable'> {
    const res = await this.#call('POST', '/v1/jobs', a);
    await res.body?.cancel();
    if (res.status === 202 || res.status === 200) return 'accepted';
    if (res.status === 429) return 'busy';
    if (res.status === 503) return 'unavailable';
    throw new Error(`the worker answered ${res.status} to a dispatch`);
  }

  /** Asks the worker to measure its encoders again; their result comes with its heartbeats. */
  async probe(): Promise<void> {
    const res = await this.#call('POST', '/v1/probe');
    await res.body?.cancel();
    if (res.status !== 202) throw new Error(`the worker answered ${res.status} to a probe`);
  }

  async cancel(taskId: string, attempt: number): Promise<void> {
    const res = await this.#call('DELETE', `/v1/jobs/${encodeURIComponent(taskId)}?attempt=${attempt}`);
    await res.body?.cancel();
    if (res.status >= 500) throw new Error(`the worker answered ${res.status} to a cancel`);
  }
}
