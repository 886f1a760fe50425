/** The client commands over the orchestrator's REST API: submit, jobs, watch, cancel, retry. */
import { AppError } from '../core/index.js';
import { ApiClient, ApiError, type JobProgressView, type JobView, type OutputFile } from './api-client.js';
import { readSpecFile } from './commands.js';
import { EXIT_FAILED, EXIT_OK, humanBytes, type Io, printError, progressBar, reportError } from './output.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ClientOptions {
  server?: string;
  key?: string;
  json?: boolean;
}

/** Flags first, then MEDIAFORGE_URL / MEDIAFORGE_KEY, then the local default. */
export function connect(o: ClientOptions, env: Env): ApiClient {
  return new ApiClient(
    o.server || env.MEDIAFORGE_URL || DEFAULT_SERVER,
    o.key || env.MEDIAFORGE_KEY || undefined,
  );
}

/** Connects, runs one command, and prints its error the documented way (exit 2 or 1). */
export async function withApi(
  o: ClientOptions,
  io: Io,
  env: Env,
  run: (api: ApiClient, json: boolean) => Promise<number>,
): Promise<number> {
  const json = !!o.json;
  try {
    return await run(connect(o, env), json);
  } catch (e) {
    return e instanceof ApiError ? printError(e, io, json) : reportError(e, io, json);
  }
}

/** The API takes `{spec, priority?, ...}`; a file may hold that or the bare spec. */
function jobRequest(doc: unknown, priority: string | undefined): unknown {
  const isObject = doc !== null && typeof doc === 'object' && !Array.isArray(doc);
  const bare = isObject && !('spec' in doc) && ['inputs', 'operations', 'outputs'].some((k) => k in doc);
  const body = bare ? { spec: doc } : doc;
  if (priority === undefined || !isObject) return body;
  if (!/^-?\d{1,4}$/.test(priority))
    throw new AppError('invalid_request', `--priority ${priority} is not an integer from -100 to 100`);
  return { ...(body as object), priority: Number(priority) };
}

export function submitCommand(
  file: string,
  o: ClientOptions & { wait?: boolean; idempotencyKey?: string; priority?: string },
  io: Io,
  env: Env = process.env,
): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    const { job, created } = await api.submit(
      jobRequest(await readSpecFile(file), o.priority),
      o.idempotencyKey,
    );
    if (json) io.out(JSON.stringify({ type: 'submitted', ...job, created }));
    else {
      io.out(job.job_id);
      if (!created) io.err(`(submitted before with this idempotency key: the same job)`);
    }
    return o.wait ? follow(api, job.job_id, io, json) : EXIT_OK;
  });
}

export function watchCommand(id: string, o: ClientOptions, io: Io, env: Env = process.env): Promise<number> {
  return withApi(o, io, env, (api, json) => follow(api, id, io, json));
}

/** The job's events as a progress bar (or JSON lines) until it ends; the exit code of its end. */
async function follow(api: ApiClient, id: string, io: Io, json: boolean): Promise<number> {
  const bar = json ? null : progressBar(io);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const job = await api.follow(
      id,
      (e) => {
        if (json) io.out(JSON.stringify({ type: 'event', event: e.type, id: e.id ?? null, data: e.data }));
        else if (e.type === 'job.progress') {
          const p = e.data as Partial<JobProgressView>;
          bar?.update(p.overall_percent ?? 0, {
            task: p.current_step ?? '',
            fps: p.fps,
            speed: p.speed,
            etaSeconds: p.eta_seconds,
          });
        } else if (e.type === 'job.completed')
          bar?.update(100, { task: 'completed', fps: null, speed: null, etaSeconds: 0 });
      },
      { signal: abort.signal },
    );
    bar?.stop();
    return finished(job, io, json);
  } catch (e) {
    bar?.stop();
    if (!abort.signal.aborted) throw e;
    io.err(`stopped watching job ${id}; it goes on (mediaforge watch ${id})`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function finished(job: JobView, io: Io, json: boolean): number {
  if (job.status === 'completed') {
    if (json)
      io.out(
        JSON.stringify({ type: 'result', job_id: job.job_id, status: job.status, outputs: job.output_files }),
      );
    else for (const o of job.output_files) io.out(`✓ ${o.output_id} → ${o.files.join(', ')}${sizeOf(o)}`);
    return EXIT_OK;
  }
  const code = job.error?.code ?? (job.status === 'cancelled' ? 'cancelled' : 'internal_error');
  printError({ code, message: job.error?.message ?? `job ${job.job_id} was ${job.status}` }, io, json);
  return EXIT_FAILED;
}

function sizeOf(o: OutputFile): string {
  const parts = [
    typeof o.file_size === 'number' ? humanBytes(o.file_size) : null,
    typeof o.duration === 'number' ? `${o.duration.toFixed(2)} s` : null,
  ].filter(Boolean);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

export function jobsCommand(
  o: ClientOptions & { status?: string; limit?: string },
  io: Io,
  env: Env = process.env,
): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    const page = await api.jobs({ status: o.status, limit: o.limit });
    if (json) {
      io.out(JSON.stringify(page));
      return EXIT_OK;
    }
    if (page.data.length === 0) {
      io.out('no jobs');
      return EXIT_OK;
    }
    const rows = page.data.map((j) => [
      j.job_id,
      j.status,
      j.stage,
      `${Math.floor(j.progress?.overall_percent ?? 0)}%`,
      j.created_at.replace(/\.\d+Z$/, 'Z'),
    ]);
    for (const line of table(['ID', 'STATUS', 'STAGE', 'DONE', 'CREATED'], rows)) io.out(line);
    if (page.has_more) io.err(`${page.data.length} of ${page.total} shown; --limit takes up to 100`);
    return EXIT_OK;
  });
}

export function table(head: string[], rows: string[][]): string[] {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) =>
    r
      .map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function cancelCommand(id: string, o: ClientOptions, io: Io, env: Env = process.env): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    const r = await api.cancel(id);
    io.out(json ? JSON.stringify(r) : `job ${r.job_id} cancelled`);
    return EXIT_OK;
  });
}

export function retryCommand(
  id: string,
  o: ClientOptions & { wait?: boolean },
  io: Io,
  env: Env = process.env,
): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    const job = await api.retry(id);
    io.out(
      json
        ? JSON.stringify({ type: 'retried', job_id: job.job_id, status: job.status, attempts: job.attempts })
        : `job ${job.job_id} queued again (attempt ${job.attempts})`,
    );
    return o.wait ? follow(api, job.job_id, io, json) : EXIT_OK;
  });
}
