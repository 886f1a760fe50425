/**
 * GET /api/v1/jobs/:id/events: Server-Sent Events of a job's state and progress. Each event's id
 * is its row in the event log, so `Last-Event-ID` replays what a client missed; the stream ends
 * after the terminal event. Events written by any replica arrive through the store's
 * notifications (LISTEN/NOTIFY on PostgreSQL).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../core/index.js';
import type { EventRow } from '../../db/index.js';
import { ownerScope } from '../auth.js';
import { TERMINAL_EVENTS } from '../control-plane.js';
import type { OrchestratorDeps } from '../deps.js';

const KEEPALIVE_MS = 15_000;

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
      const job = await deps.control.jobs.get(req.params.id, ownerScope(req));
      if (!job) throw new AppError('job_not_found', `no job ${req.params.id}`);
      const header = req.headers['last-event-id'];
      let last =
        typeof header === 'string' && /^\d{1,15}$/.test(header)
          ? Number(header)
          : (req.query.last_event_id ?? 0);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        ...corsHeaders(reply.getHeaders()),
      });
      res.write('retry: 2000\n\n');

      let closed = false;
      let pumping = false;
      let again = false;
      const close = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(keepalive);
        clearInterval(beat);
        res.end();
      };
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
            const rows = await deps.control.events.since(job.id, last, { limit: 500 });
            for (const e of rows) {
              if (closed) return;
              if (e.type === 'log') {
                last = e.id;
                continue;
              }
              res.write(frame(e));
              last = e.id;
              if (TERMINAL_EVENTS.has(e.type)) return close();
            }
            if (rows.length === 500) again = true;
          } while (again && !closed);
        } catch (e) {
          req.log.warn({ err: e }, 'event stream read failed');
          close();
        } finally {
          pumping = false;
        }
      };
      const unsubscribe = deps.store.onEvent((payload) => {
        try {
          if ((JSON.parse(payload) as { job?: string }).job === job.id) void pump();
        } catch {
          // not ours
        }
      });
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      // While a job encodes, a client hears from it at least once a second, even when FFmpeg is
      // slow to report (a heavy input, a long first GOP): the current progress, without an id,
      // so a replay still starts after the last logged event.
      let lastWrite = Date.now();
      const write = res.write.bind(res);
      res.write = ((chunk: string) => {
        lastWrite = Date.now();
        return write(chunk);
      }) as typeof res.write;
      const beat = setInterval(() => {
        if (closed || Date.now() - lastWrite < 900) return;
        void deps.control.jobs.get(job.id).then(
          (j) => {
            if (!closed && j?.state === 'processing' && Date.now() - lastWrite >= 900)
              res.write(
                `event: job.progress\ndata: ${JSON.stringify({ ...(j.progress as object), job_id: j.id, status: j.state, stage: j.stage, at: new Date().toISOString() })}\n\n`,
              );
          },
          () => {},
        );
      }, 250);
      req.raw.on('close', close);
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
