/** Probes, metrics and the operator catalogue. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, describeOperator, getOperator, operatorCatalog } from '../../core/index.js';
import { migrationsCurrent } from '../../db/index.js';
import type { OrchestratorDeps } from '../deps.js';

export async function systemRoutes(app: FastifyInstance, deps: OrchestratorDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const catalog = operatorCatalog();

  r.get('/health', { schema: { tags: ['system'], summary: 'The seed health check' } }, async () => ({
    status: 'healthy',
    time: new Date().toISOString(),
  }));
  r.get('/healthz', { schema: { tags: ['system'], summary: 'Alive' } }, async () => ({ status: 'ok' }));
  r.get(
    '/readyz',
    { schema: { tags: ['system'], summary: 'Database reachable and migrated' } },
    async (_req, reply) => {
      try {
        await deps.store.ping();
        if (!(await migrationsCurrent(deps.store.db)))
          return reply.status(503).send({ status: 'unready', reason: 'migrations not applied' });
      } catch {
        return reply.status(503).send({ status: 'unready', reason: 'database unreachable' });
      }
      if (deps.isClosing()) return reply.status(503).send({ status: 'unready', reason: 'shutting down' });
      return { status: 'ready', database: deps.store.kind, leader: deps.control.leading };
    },
  );
  r.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  r.get(
    '/api/v1/operators',
    { schema: { tags: ['operators'], summary: 'Every operator and its parameters' } },
    async () => ({
      data: catalog,
    }),
  );
  r.get(
    '/api/v1/operators/:name',
    {
      schema: {
        tags: ['operators'],
        summary: 'One operator',
        params: z.object({ name: z.string().max(64) }),
      },
    },
    async (req) => {
      const op = getOperator(req.params.name);
      if (!op) throw new AppError('operator_not_found', `no operator ${req.params.name}`);
      return describeOperator(op);
    },
  );
}
