/**
 * The worker's own HTTP API, called by the orchestrator with the session's call secret:
 * take a task (202; 429 when full; 503 when not taking work), its status, stop it, the worker's
 * status; /healthz and /metrics are open. Tasks are validated with the orchestrator's schemas.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { AppError, TaskAssignment, type WorkerCapabilities } from '../core/index.js';
import { installErrorHandling } from '../http/index.js';

export interface WorkerApiDeps {
  logger: Logger;
  /** The current call secret (changes with every session); null before the first session. */
  callSecret: () => string | null;
  take: (a: TaskAssignment) => Promise<'accepted' | 'busy' | 'unavailable'>;
  /** Why it takes no work now, or null. */
  refusing: () => string | null;
  run: (taskId: string) => object | null;
  stop: (taskId: string, attempt: number | null) => Promise<boolean>;
  status: () => Record<string, unknown>;
  /** Probes the encoders again; the capabilities that passed. */
  probe: () => Promise<WorkerCapabilities>;
  metrics: Registry;
}

const OPEN = new Set(['/healthz', '/metrics']);

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function buildWorkerApi(deps: WorkerApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    disableRequestLogging: true,
    bodyLimit: 4 * 1_048_576,
  }) as unknown as FastifyInstance;
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);

  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (OPEN.has(req.url.split('?')[0]!)) return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const expected = deps.callSecret();
    if (!m || !expected || !sameSecret(m[1]!, expected))
      throw new AppError('unauthorized', "the orchestrator's call secret is required");
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  const Id = z.object({ id: z.string().min(1).max(200) });

  r.post('/v1/jobs', { schema: { body: TaskAssignment } }, async (req, reply) => {
    const answer = await deps.take(req.body);
    if (answer === 'accepted')
      return reply.status(202).send({ task_id: req.body.task_id, attempt: req.body.attempt });
    if (answer === 'busy') {
      reply.header('retry-after', '5');
      throw new AppError('worker_busy', 'this worker runs and queues as many tasks as it takes');
    }
    throw new AppError(
      'worker_unavailable',
      `this worker takes no new work: ${deps.refusing() ?? 'not ready'}`,
    );
  });

  r.get('/v1/jobs/:id', { schema: { params: Id } }, async (req) => {
    const run = deps.run(req.params.id);
    if (!run) throw new AppError('job_not_found', `this worker runs no task ${req.params.id}`);
    return run;
  });

  r.delete(
    '/v1/jobs/:id',
    {
      schema: {
        params: Id,
        querystring: z.object({ attempt: z.coerce.number().int().positive().optional() }),
      },
    },
    async (req, reply) => {
      await deps.stop(req.params.id, req.query.attempt ?? null);
      // Idempotent: a task that is not (or no longer) here is stopped already.
      return reply.status(204).send();
    },
  );

  r.get('/v1/status', async () => deps.status());
  // A probe takes up to probe_seconds: it runs on, and its result comes with the next heartbeat.
  r.post('/v1/probe', async (_req, reply) => {
    deps.probe().catch((e) => deps.logger.error({ err: e }, 'encoder probe failed'));
    return reply.status(202).send({ probing: true });
  });
  r.get('/healthz', async () => ({ ok: true }));
  r.get('/metrics', async (_req, reply) =>
    reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()),
  );
  return app;
}
