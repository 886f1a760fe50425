/**
 * The orchestrator's HTTP app: plugins, then routes. It only builds; `server.ts` listens. Tests
 * drive it with `app.inject()`.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { AppError } from '../core/index.js';
import { installErrorHandling } from '../http/index.js';
import { installAuth } from './auth.js';
import type { OrchestratorDeps } from './deps.js';
import { eventsRoutes } from './routes/events.routes.js';
import { jobsRoutes } from './routes/jobs.routes.js';
import { keysRoutes } from './routes/keys.routes.js';
import { systemRoutes } from './routes/system.routes.js';
import { transferRoutes } from './routes/transfer.routes.js';
import { workersRoutes } from './routes/workers.routes.js';

/** One line per request, when it completes (Fastify's default writes two). */
class OneLineLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: req.method,
      url: req.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request');
  }
}

export async function buildApp(deps: OrchestratorDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: config.body_limit_bytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : crypto.randomUUID();
    },
    requestIdHeader: false,
    logController: new OneLineLog(),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  // JSON only: a job sent as text/plain is a 415, not a string body that fails validation.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpDuration.observe(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'mediaforge API',
        version: '1',
        description: 'Declarative media jobs: submit a JobSpec, follow its progress, fetch its outputs.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (config.cors_origins.length > 0)
    await app.register(cors, {
      origin: config.cors_origins.includes('*') ? true : config.cors_origins,
      methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'idempotency-key', 'last-event-id'],
      exposedHeaders: [
        'x-request-id',
        'retry-after',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
        'location',
      ],
    });

  const auth = installAuth(app, deps.control.keys);
  if (config.rate_limit_per_minute > 0)
    await app.register(rateLimit, {
      global: true,
      hook: 'preHandler',
      max: config.rate_limit_per_minute,
      timeWindow: 60_000,
      // Per key once authenticated; the probes are not limited.
      keyGenerator: (req) => req.principal?.keyId ?? `ip:${req.ip}`,
      allowList: (req) => req.principal === null,
      errorResponseBuilder: (_req, ctx) =>
        new AppError(
          'rate_limited',
          `at most ${ctx.max} requests per minute per key; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
        ),
    });

  await app.register(async (scope) => {
    await systemRoutes(scope, deps);
    await jobsRoutes(scope, deps);
    await eventsRoutes(scope, deps);
    await keysRoutes(scope, { ...deps, forgetKey: auth.forget });
    await workersRoutes(scope, deps);
    // Its own scope: the raw-body parser it adds must not reach the other routes.
    await scope.register(async (transfers) => transferRoutes(transfers, deps));
  });
  return app;
}
