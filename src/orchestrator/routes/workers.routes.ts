/**
 * Workers: enrolment tokens (admins), enrolment, sessions, heartbeats and task reports (the
 * worker's own credential), and the registry (admins). A worker can act only as itself: its
 * secret names it, and a path naming another worker is refused.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AppError,
  Enrolment,
  SessionStart,
  TaskReport,
  WorkerHeartbeat,
  WorkerPatch,
} from '../../core/index.js';
import { effectiveLimits, type WorkerRow, type WorkerWithAge } from '../../db/index.js';
import { presentedKey, principalOf } from '../auth.js';
import type { OrchestratorDeps } from '../deps.js';

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());
const Id = z.object({ id: z.string().min(1).max(200) });

function requireAdmin(req: FastifyRequest): void {
  if (principalOf(req).role !== 'admin') throw new AppError('forbidden', 'only admins manage workers');
}

export function workerView(w: WorkerWithAge, onlineWithin: number, active: readonly unknown[]) {
  const limits = effectiveLimits(w);
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    state: w.state,
    status: w.status,
    reason: w.reason,
    online: w.state !== 'offline' && w.silent_seconds <= onlineWithin,
    draining: w.draining,
    last_seen: iso(w.last_seen),
    silent_seconds: Math.round(w.silent_seconds * 10) / 10,
    max_concurrent: limits.maxConcurrent,
    labels: limits.labels,
    version: w.version,
    capabilities: w.capabilities,
    telemetry: w.telemetry,
    breaker: w.breaker,
    active_tasks: active,
    created_at: iso(w.created_at),
  };
}

/** A worker spoke of a task attempt it does not hold: 403 when another worker does, 409 when it is over. */
function notHeld(answer: 'forbidden' | 'stale', taskId: string, attempt: number): AppError {
  return answer === 'forbidden'
    ? new AppError('forbidden', 'this task is held by another worker')
    : new AppError('stale_attempt', `attempt ${attempt} of ${taskId} is no longer running`);
}

export async function workersRoutes(app: FastifyInstance, deps: OrchestratorDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { control } = deps;
  const workers = control.workers;
  const onlineWithin = deps.config.worker_timeout_seconds;

  /** The worker whose secret the request carries; a path naming another worker is a 403. */
  async function callingWorker(req: FastifyRequest, pathId?: string): Promise<WorkerRow> {
    const secret = presentedKey(req);
    if (!secret || secret.length > 512)
      throw new AppError('unauthorized', "a worker's secret is required (Authorization: Bearer <secret>)");
    const w = await workers.bySecret(secret);
    if (!w) throw new AppError('unauthorized', 'the worker secret is not valid');
    if (pathId !== undefined && pathId !== w.id)
      throw new AppError('forbidden', 'a worker may speak only for itself');
    return w;
  }

  // ---- enrolment tokens (admins)

  r.post(
    '/api/v1/worker-tokens',
    {
      schema: {
        tags: ['workers'],
        summary: 'Create an enrolment token for new workers (admins); the token is in this answer only',
        body: z.strictObject({
          name: z.string().min(1).max(100).default('workers'),
          ttl_seconds: z
            .number()
            .int()
            .positive()
            .max(10 * 365 * 86_400)
            .nullable()
            .default(null)
            .describe('Lifetime; null keeps it valid until revoked.'),
        }),
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const p = principalOf(req);
      const t = await workers.createToken(req.body.name, p.userId, req.body.ttl_seconds);
      return reply.status(201).send({ id: t.id, token: t.token, expires_at: iso(t.expires_at) });
    },
  );

  r.get(
    '/api/v1/worker-tokens',
    { schema: { tags: ['workers'], summary: 'List enrolment tokens' } },
    async (req) => {
      requireAdmin(req);
      return {
        data: (await workers.listTokens()).map((t) => ({
          ...t,
          created_at: iso(t.created_at),
          expires_at: iso(t.expires_at),
          revoked_at: iso(t.revoked_at),
        })),
      };
    },
  );

  r.delete(
    '/api/v1/worker-tokens/:id',
    { schema: { tags: ['workers'], summary: 'Revoke an enrolment token', params: Id } },
    async (req, reply) => {
      requireAdmin(req);
      if (!(await workers.revokeToken(req.params.id)))
        throw new AppError('worker_token_not_found', `no active enrolment token ${req.params.id}`);
      return reply.status(204).send();
    },
  );

  // ---- the worker's own calls

  r.post(
    '/api/v1/workers',
    {
      schema: {
        tags: ['workers'],
        summary: 'Enrol a worker with an enrolment token; answers its id and secret (shown once)',
        body: Enrolment,
      },
    },
    async (req, reply) => {
      const token = presentedKey(req);
      if (!token || token.length > 512)
        throw new AppError('unauthorized', 'an enrolment token is required (Authorization: Bearer <token>)');
      const w = await workers.enrol(token, {
        name: req.body.name,
        url: req.body.url,
        maxConcurrent: req.body.max_concurrent,
        labels: req.body.labels,
      });
      if (!w)
        throw new AppError('unauthorized', 'the enrolment token is not valid (unknown, revoked or expired)');
      deps.logger.info({ worker: w.id, name: req.body.name }, 'worker enrolled');
      return reply.status(201).send({ worker_id: w.id, secret: w.secret });
    },
  );

  // The worker's credential is checked before its body: an unauthenticated call is a 401, never a 400.
  const asWorker = {
    onRequest: async (req: FastifyRequest) => {
      const id = (req.params as { id?: string }).id;
      const path = req.url.split('?')[0]!;
      (req as FastifyRequest & { worker?: WorkerRow }).worker = await callingWorker(
        req,
        path.startsWith('/api/v1/tasks/') ? undefined : id,
      );
    },
  };
  const worker = (req: FastifyRequest) => (req as FastifyRequest & { worker: WorkerRow }).worker;

  r.post(
    '/api/v1/workers/:id/session',
    {
      ...asWorker,
      schema: {
        tags: ['workers'],
        summary: 'Start a session (every start of the worker process): tasks of an older session are lost',
        params: Id,
        body: SessionStart,
      },
    },
    async (req) => control.startSession(worker(req).id, req.body),
  );

  r.post(
    '/api/v1/workers/:id/heartbeat',
    {
      ...asWorker,
      schema: { tags: ['workers'], summary: 'A heartbeat with telemetry', params: Id, body: WorkerHeartbeat },
    },
    async (req) => {
      const answer = await control.heartbeat(worker(req).id, req.body);
      if (!answer)
        throw new AppError('stale_session', 'this session is over (the worker restarted or was replaced)');
      return answer;
    },
  );

  r.post(
    '/api/v1/workers/:id/storage',
    {
      ...asWorker,
      schema: {
        tags: ['workers'],
        summary:
          'The media roots and the ids in their marker files: a worker proves it shares one by reading the same id',
        params: Id,
      },
    },
    async () => ({ roots: await control.rootMarkers() }),
  );

  r.post(
    '/api/v1/tasks/:id/transfer',
    {
      ...asWorker,
      schema: {
        tags: ['workers'],
        summary: "Signed URLs to fetch a task attempt's inputs and upload its outputs (no shared storage)",
        params: Id,
        body: z.strictObject({ attempt: z.number().int().positive() }),
      },
    },
    async (req) => {
      const answer = await control.transferUrls(worker(req).id, req.params.id, req.body.attempt);
      if (answer === 'forbidden' || answer === 'stale')
        throw notHeld(answer, req.params.id, req.body.attempt);
      return answer;
    },
  );

  r.post(
    '/api/v1/tasks/:id/events',
    {
      ...asWorker,
      schema: { tags: ['workers'], summary: 'A report on a task attempt', params: Id, body: TaskReport },
    },
    async (req) => {
      const w = worker(req);
      if (req.body.task_id !== req.params.id)
        throw new AppError('invalid_request', 'the report names another task than the path');
      const answer = await control.report(w.id, req.body);
      if (answer === 'forbidden' || answer === 'stale')
        throw notHeld(answer, req.params.id, req.body.attempt);
      return { ok: true };
    },
  );

  // ---- the registry (admins)

  r.get('/api/v1/workers', { schema: { tags: ['workers'], summary: 'List workers' } }, async (req) => {
    requireAdmin(req);
    const [list, active] = await Promise.all([workers.list(), control.activeTasks()]);
    return { data: list.map((w) => workerView(w, onlineWithin, active.get(w.id) ?? [])) };
  });

  r.get(
    '/api/v1/workers/:id',
    { schema: { tags: ['workers'], summary: 'One worker', params: Id } },
    async (req) => {
      requireAdmin(req);
      const w = await workers.get(req.params.id);
      if (!w) throw new AppError('worker_not_found', `no worker ${req.params.id}`);
      return workerView(w, onlineWithin, (await control.activeTasks()).get(w.id) ?? []);
    },
  );

  r.patch(
    '/api/v1/workers/:id',
    {
      schema: {
        tags: ['workers'],
        summary: 'Change labels or max concurrent, drain or undrain',
        params: Id,
        body: WorkerPatch,
      },
    },
    async (req) => {
      requireAdmin(req);
      const w = await control.patchWorker(req.params.id, req.body);
      if (!w) throw new AppError('worker_not_found', `no worker ${req.params.id}`);
      return workerView(w, onlineWithin, (await control.activeTasks()).get(w.id) ?? []);
    },
  );

  r.post(
    '/api/v1/workers/:id/probe',
    {
      schema: {
        tags: ['workers'],
        summary: "Measure a worker's encoders again; the result comes with its next heartbeats",
        params: Id,
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      if (!(await control.probeWorker(req.params.id)))
        throw new AppError('worker_not_found', `no worker ${req.params.id}`);
      return reply.status(202).send({ worker_id: req.params.id, probing: true });
    },
  );

  r.delete(
    '/api/v1/workers/:id',
    {
      schema: { tags: ['workers'], summary: 'Forget a worker; the tasks it held are re-queued', params: Id },
    },
    async (req, reply) => {
      requireAdmin(req);
      if (!(await control.removeWorker(req.params.id)))
        throw new AppError('worker_not_found', `no worker ${req.params.id}`);
      return reply.status(204).send();
    },
  );
}
