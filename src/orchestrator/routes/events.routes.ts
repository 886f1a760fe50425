/**
 * GET /api/v1/jobs/:id/events: Server-Sent Events of a job's state and progress. Each event's id
 * is its row in the event log, so `Last-Event-ID` replays what a client missed; the stream ends
 * once the job is finished and every event is sent (a retried job goes on past its earlier
 * end). Events written by any replica arrive through the store's notifications (LISTEN/NOTIFY
 * on PostgreSQL).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { EventRow } from '../../db/index.js';
import { ownerScope } from '../auth.js';
import type { OrchestratorDeps } from '../deps.js';

const KEEPALIVE_MS = 15_000;
const BATCH = 500;
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

function frame(e: EventRow): string {
  const data = {
    ...e.data,
    job_id: e.job_id,
    task_id: e.task_id ?? undefined,
    at: new Date(e.created_at).toISOString(),
  };
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function eventsRoutes(app: FastifyInstance, deps: OrchestratorDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Open streams end when the server closes: they would otherwise hold its close() forever.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  r.get(
    '/api/v1/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Server-Sent Events of a job (replay with Last-Event-ID)',
        params: z.object({ id: z.string().min(1).max(100) }),
        querystring: z.object({ last_event_id: z.coerce.number().int().min(0).optional() }),
      },
    },
    async (req, reply) => {
      let gone = false;
      let close = () => {
        gone = true;
      };
      req.raw.on('close', () => close());
      const job = await deps.control.jobs.get(req.params.id, ownerScope(req));
      if (!job) throw new AppError('job_not_found', `no job ${req.params.id}`);
      reply.hijack();
      const res = reply.raw;
      if (gone || req.raw.destroyed) {
        res.destroy();
        return;
      }
      const header = req.headers['last-event-id'];
      let last =
        typeof header === 'string' && /^\d{1,15}$/.test(header)
          ? Number(header)
          : (req.query.last_event_id ?? 0);
      // What the client was last told: the job's status and progress, from the job itself until
      // events say more. A reminder repeats the progress while it encodes; nothing reads the
      // database for it.
      let status: string = job.state;
      let stage: string = job.stage;
      let progress: unknown = job.progress ?? { overall_percent: 0 };
      let lastWrite = Date.now();

      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        ...corsHeaders(reply.getHeaders()),
      });
      const send = (text: string) => {
        lastWrite = Date.now();
        res.write(text);
      };
      send('retry: 2000\n\n');

      let closed = false;
      let pumping = false;
      let again = false;
      close = () => {
        if (closed) return;
        closed = true;
        open.delete(close);
        unsubscribe();
        clearInterval(keepalive);
        clearInterval(beat);
        res.end();
      };
      open.add(close);
      // One reader at a time; a wake-up during a read makes it read once more.
      const pump = async () => {
        if (pumping) {
          again = true;
          return;
        }
        pumping = true;
        try {
          do {
            again = false;
            const rows = await deps.control.events.since(job.id, last, { limit: BATCH });
            for (const e of rows) {
              if (closed) return;
              last = e.id;
              if (e.type === 'log') continue;
              send(frame(e));
              if (typeof e.data.status === 'string') status = e.data.status;
              if (typeof e.data.stage === 'string') stage = e.data.stage;
              if (e.type === 'job.progress') progress = e.data;
            }
            if (rows.length === BATCH) again = true;
          } while (again && !closed);
          if (FINISHED.has(status)) close();
        } catch (e) {
          req.log.warn({ err: e }, 'event stream read failed');
          close();
        } finally {
          pumping = false;
        }
      };
      const unsubscribe = deps.store.onEvent((payload) => {
        try {
          const n = JSON.parse(payload) as { job?: string; type?: string };
          if (n.job === job.id || n.type === 'store.reconnected') void pump();
        } catch {
          // not ours
        }
      });
      const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS);
      // While the job encodes, the client hears from it at least once a second, even when
      // FFmpeg is slow to report: the last progress again, without an id (a replay still starts
      // after the last logged event).
      const beat = setInterval(() => {
        if (closed || status !== 'processing' || Date.now() - lastWrite < 900) return;
        send(
          `event: job.progress\ndata: ${JSON.stringify({ ...(progress as object), job_id: job.id, status, stage, at: new Date().toISOString() })}\n\n`,
        );
      }, 250);
      await pump();
    },
  );
}

/** Headers @fastify/cors already put on the reply, carried over to the hijacked response. */
function corsHeaders(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (k.startsWith('access-control-') && v !== undefined) out[k] = String(v);
  return out;
}
