/** /api/v1/jobs: submit, read, list, cancel, retry, and a job's plan and logs. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AppError,
  buildArgs,
  chooseEncoders,
  EncoderUnavailableError,
  JobRequest,
  type TaskSpec,
} from '../../core/index.js';
import { relativeToRoots } from '../../storage/index.js';
import { admitJob } from '../admission.js';
import { ownerScope, principalOf } from '../auth.js';
import type { OrchestratorDeps } from '../deps.js';
import { jobView } from '../job-view.js';

const JobId = z.object({ id: z.string().min(1).max(100) });
const JOB_STATES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;

const ListQuery = z.strictObject({
  status: z.enum(JOB_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'not a cursor this API gave')
    .optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
});

const LogsQuery = z.strictObject({
  stage: z.string().max(40).optional(),
  level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
});

const LEVELS = ['debug', 'info', 'warn', 'error'];

export async function jobsRoutes(app: FastifyInstance, deps: OrchestratorDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { control, config, roots } = deps;

  const load = async (id: string, owner: string | undefined) => {
    const job = await control.jobs.get(id, owner);
    if (!job) throw new AppError('job_not_found', `no job ${id}`);
    return job;
  };

  r.post(
    '/api/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Submit a job',
        description:
          'Validates the spec and stores the job. The same idempotency key with the same body returns the same job (200); with another body, 409.',
        body: JobRequest,
        headers: z.object({ 'idempotency-key': z.string().max(255).optional() }).passthrough(),
      },
      // Our validator, not the route's: its issues carry our codes (unknown_operator, cycle, ...).
      validatorCompiler: () => (data) => ({ value: data }),
    },
    async (req, reply) => {
      if (deps.isClosing()) throw new AppError('shutting_down', 'the server is stopping');
      const p = principalOf(req);
      const header = req.headers['idempotency-key'];
      const admitted = admitJob(req.body as unknown, typeof header === 'string' ? header : undefined, roots, {
        maxInputs: config.max_inputs,
        maxOperations: config.max_operations,
        maxOutputs: config.max_outputs,
      });
      const result = await control.jobs.insert({
        id: randomUUID(),
        owner: p.userId,
        spec: admitted.spec,
        requestHash: admitted.requestHash,
        priority: admitted.priority,
        callbackUrl: admitted.callbackUrl,
        idempotencyKey: admitted.idempotencyKey,
        maxInFlight: config.max_jobs_in_flight,
      });
      if (result.kind === 'conflict')
        throw new AppError(
          'idempotency_conflict',
          'this idempotency key was used with a different request body',
        );
      if (result.kind === 'limit')
        throw new AppError(
          'too_many_jobs',
          `you have ${config.max_jobs_in_flight} unfinished jobs, the most allowed; wait for some to finish`,
        );
      if (result.kind === 'created') deps.metrics.jobsSubmitted.inc();
      const j = result.job;
      reply.header('location', `/api/v1/jobs/${j.id}`);
      return reply.status(result.kind === 'created' ? 201 : 200).send({
        job_id: j.id,
        status: j.state,
        created_at: new Date(j.created_at).toISOString(),
      });
    },
  );

  r.get(
    '/api/v1/jobs',
    { schema: { tags: ['jobs'], summary: 'List jobs, newest first', querystring: ListQuery } },
    async (req) => {
      const q = req.query;
      const { rows, total } = await control.jobs.list({
        owner: ownerScope(req),
        state: q.status,
        limit: q.limit + 1,
        beforeSeq: q.cursor === undefined ? undefined : Number(q.cursor),
        offset: q.offset,
        createdAfter: q.created_after ? new Date(q.created_after) : undefined,
        createdBefore: q.created_before ? new Date(q.created_before) : undefined,
      });
      const page = rows.slice(0, q.limit);
      const hasMore = rows.length > q.limit;
      return {
        data: page.map(jobView),
        has_more: hasMore,
        next_cursor: hasMore ? String(page.at(-1)!.seq) : null,
        total,
      };
    },
  );

  r.get('/api/v1/jobs/:id', { schema: { tags: ['jobs'], summary: 'A job', params: JobId } }, async (req) =>
    jobView(await load(req.params.id, ownerScope(req))),
  );

  const cancel = async (id: string, owner: string | undefined) => {
    const job = await load(id, owner);
    if (!(await control.cancelJob(job.id, owner)))
      throw new AppError('job_terminal', `job ${id} is already ${(await load(id, owner)).state}`);
    return load(id, owner);
  };

  r.delete(
    '/api/v1/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'Cancel a job (204)', params: JobId } },
    async (req, reply) => {
      await cancel(req.params.id, ownerScope(req));
      return reply.status(204).send();
    },
  );

  r.post(
    '/api/v1/jobs/:id/cancel',
    { schema: { tags: ['jobs'], summary: 'Cancel a job', params: JobId } },
    async (req) => {
      const job = await cancel(req.params.id, ownerScope(req));
      return {
        job_id: job.id,
        status: 'cancelled' as const,
        cancelled_at: new Date(job.cancelled_at ?? Date.now()).toISOString(),
      };
    },
  );

  r.post(
    '/api/v1/jobs/:id/retry',
    { schema: { tags: ['jobs'], summary: 'Run a failed or cancelled job again', params: JobId } },
    async (req) => {
      const owner = ownerScope(req);
      const job = await load(req.params.id, owner);
      const retried = await control.jobs.retry(job.id, owner, config.max_jobs_in_flight);
      if (!retried) {
        const now = await load(job.id, owner);
        if (now.state === 'failed' || now.state === 'cancelled')
          throw new AppError(
            'too_many_jobs',
            `you have ${config.max_jobs_in_flight} unfinished jobs, the most allowed; wait for some to finish`,
          );
        throw new AppError(
          'job_not_retryable',
          `job ${job.id} is ${now.state}; only failed or cancelled jobs can be retried`,
        );
      }
      return jobView(retried);
    },
  );

  r.get(
    '/api/v1/jobs/:id/plan',
    {
      schema: {
        tags: ['jobs'],
        summary: 'The compiled plan: graph, stages, estimate, tasks and their FFmpeg argv',
        params: JobId,
      },
    },
    async (req) => {
      const job = await load(req.params.id, ownerScope(req));
      if (!job.plan)
        throw new AppError('plan_not_ready', `job ${job.id} is not planned yet (stage ${job.stage})`);
      const plan = job.plan as { tasks: TaskSpec[] } & Record<string, unknown>;
      const encoders = chooseEncoders(await deps.encoders());
      const tasks = plan.tasks.map((t) => {
        let argv: string[] | null = null;
        try {
          argv = buildArgs(t, encoders, { analysis: {}, outputPaths: t.outputs.map((o) => o.path) });
        } catch (e) {
          if (!(e instanceof EncoderUnavailableError)) throw e;
        }
        return { ...t, ffmpeg_argv: argv };
      });
      // Paths as the user wrote them: relative to the media root, not our disk's layout.
      return JSON.parse(relativeToRoots(JSON.stringify({ job_id: job.id, ...plan, tasks }), roots)) as Record<
        string,
        unknown
      >;
    },
  );

  r.get(
    '/api/v1/jobs/:id/logs',
    { schema: { tags: ['jobs'], summary: "A job's log", params: JobId, querystring: LogsQuery } },
    async (req) => {
      const job = await load(req.params.id, ownerScope(req));
      const rows = await control.events.since(job.id, 0, { types: ['log'], limit: 5000 });
      const min = req.query.level ? LEVELS.indexOf(req.query.level) : 0;
      const logs = rows
        .map((e) => ({
          timestamp: new Date(e.created_at).toISOString(),
          level: String(e.data.level ?? 'info'),
          stage: String(e.data.stage ?? ''),
          message: String(e.data.message ?? ''),
        }))
        .filter((l) => LEVELS.indexOf(l.level) >= min && (!req.query.stage || l.stage === req.query.stage));
      return { job_id: job.id, logs };
    },
  );
}
