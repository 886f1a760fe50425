/**
 * The worker's calls to the orchestrator: enrolment, sessions, heartbeats and task reports, with
 * a timeout on each. A refusal that trying again cannot fix is an AppError with the orchestrator's
 * code; a network failure or a 5xx is thrown as is, for the caller to retry.
 */
import {
  AppError,
  type Enrolment,
  type ErrorCode,
  HeartbeatAnswer,
  isErrorCode,
  type SessionStart,
  SessionStarted,
  type TaskReport,
  TransferUrls,
  type WorkerHeartbeat,
} from '../core/index.js';

export class RetryableError extends Error {}

export class OrchestratorClient {
  readonly #base: string;
  readonly #timeoutMs: number;
  secret: string | null = null;

  constructor(baseUrl: string, timeoutMs = 10_000) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
  }

  get url(): string {
    return this.#base;
  }

  async #post(
    path: string,
    body: unknown,
    credential: string | null,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        },
        body: JSON.stringify(body),
        redirect: 'error',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      throw new RetryableError(`cannot reach the orchestrator at ${this.#base}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // A proxy's HTML error page, say: judged by the status below.
    }
    if (res.ok) return json;
    if (res.status >= 500 || res.status === 429)
      throw new RetryableError(`the orchestrator answered ${res.status} to ${path}`);
    const err = (json ?? {}) as { error?: string; message?: string };
    const code: ErrorCode = err.error && isErrorCode(err.error) ? err.error : 'internal_error';
    throw new AppError(code, err.message ?? `the orchestrator answered ${res.status} to ${path}`);
  }

  /** The orchestrator's media roots and their marker ids. */
  async storage(id: string): Promise<Array<{ path: string; id: string }>> {
    const r = (await this.#post(`/api/v1/workers/${encodeURIComponent(id)}/storage`, {}, this.secret)) as {
      roots?: Array<{ path: string; id: string }>;
    };
    return Array.isArray(r?.roots) ? r.roots : [];
  }

  /** Signed URLs for the files of an attempt this worker holds (a 409 when it no longer does). */
  async transferUrls(taskId: string, attempt: number, signal?: AbortSignal): Promise<TransferUrls> {
    return TransferUrls.parse(
      await this.#post(
        `/api/v1/tasks/${encodeURIComponent(taskId)}/transfer`,
        { attempt },
        this.secret,
        signal,
      ),
    );
  }

  async enrol(token: string, e: Enrolment): Promise<{ worker_id: string; secret: string }> {
    return (await this.#post('/api/v1/workers', e, token)) as { worker_id: string; secret: string };
  }

  async startSession(id: string, s: SessionStart): Promise<SessionStarted> {
    return SessionStarted.parse(
      await this.#post(`/api/v1/workers/${encodeURIComponent(id)}/session`, s, this.secret),
    );
  }

  async heartbeat(id: string, hb: WorkerHeartbeat): Promise<HeartbeatAnswer> {
    return HeartbeatAnswer.parse(
      await this.#post(`/api/v1/workers/${encodeURIComponent(id)}/heartbeat`, hb, this.secret),
    );
  }

  /** 'stale' when the attempt is no longer this worker's (409, or 403: held by another). */
  async report(r: TaskReport, signal?: AbortSignal): Promise<'ok' | 'stale'> {
    try {
      await this.#post(`/api/v1/tasks/${encodeURIComponent(r.task_id)}/events`, r, this.secret, signal);
      return 'ok';
    } catch (e) {
      if (e instanceof AppError && (e.code === 'stale_attempt' || e.code === 'forbidden')) return 'stale';
      throw e;
    }
  }
}
