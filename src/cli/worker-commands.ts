/**
 * `mediaforge worker` (the worker process) and the admin's commands about workers: `token create
 * --worker`, `workers`, `workers drain|undrain|remove|probe ID`.
 */
import pino from 'pino';
import { loadConfig } from '../config/index.js';
import { resolveBinaries } from '../media/index.js';
import { WorkerAgent } from '../worker/index.js';
import { type ClientOptions, type Env, table, withApi } from './client-commands.js';
import { EXIT_FAILED, EXIT_OK, type Io, reportError } from './output.js';

export interface WorkerOptions {
  orchestrator?: string;
  token?: string;
  port?: string;
  host?: string;
  name?: string;
  config?: string;
  mediaRoot?: string;
  data?: string;
}

export async function workerCommand(
  o: WorkerOptions,
  io: Io,
  version: string,
  env: Env = process.env,
): Promise<number> {
  let agent: WorkerAgent;
  try {
    const config = loadConfig('worker', {
      env,
      ...(o.config ? { file: o.config } : {}),
      overrides: {
        orchestrator_url: o.orchestrator,
        enrolment_token: o.token,
        port: o.port,
        host: o.host,
        name: o.name,
        media_root: o.mediaRoot,
        data_dir: o.data,
      },
    });
    const binaries = await resolveBinaries({
      ...(config.ffmpeg ? { ffmpeg: config.ffmpeg } : {}),
      ...(config.ffprobe ? { ffprobe: config.ffprobe } : {}),
      env,
    });
    const logger = pino({ level: config.log_level }, pino.destination(2));
    agent = new WorkerAgent({ config, binaries, logger, version });
    await agent.start();
  } catch (e) {
    return reportError(e, io, false);
  }
  io.out(`mediaforge worker ${agent.id}: ${agent.url} (max ${agent.pool.slots} task(s) at once)`);
  await new Promise<void>((resolveStop) => {
    const onSignal = (sig: string) => {
      io.err(`${sig}: draining (running tasks get up to the shutdown grace period)…`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      agent.close().then(resolveStop, resolveStop);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  io.err('stopped');
  return EXIT_OK;
}

export function tokenCreateCommand(
  o: ClientOptions & { worker?: boolean; name?: string; ttl?: string },
  io: Io,
  env: Env = process.env,
): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    if (!o.worker) {
      io.err('only worker enrolment tokens exist: mediaforge token create --worker');
      return 2;
    }
    const ttl = o.ttl === undefined ? null : Number(o.ttl);
    const t = await api.createWorkerToken({ name: o.name ?? 'workers', ttl_seconds: ttl });
    if (json) io.out(JSON.stringify(t));
    else {
      io.out(t.token);
      io.err(
        `enrolment token ${t.id}${t.expires_at ? `, valid until ${t.expires_at}` : ''}; start a worker with:\n  mediaforge worker --orchestrator ${api.server} --token ${t.token}`,
      );
    }
    return EXIT_OK;
  });
}

export function workersCommand(o: ClientOptions, io: Io, env: Env = process.env): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    const { data } = await api.workers();
    if (json) {
      io.out(JSON.stringify({ data }));
      return EXIT_OK;
    }
    if (data.length === 0) {
      io.out('no workers');
      return EXIT_OK;
    }
    const rows = data.map((w) => [
      w.id,
      w.name,
      w.online ? (w.draining ? `${w.status} (draining)` : w.status) : 'offline',
      `${w.active_tasks.length}/${w.max_concurrent}`,
      `${Math.round(w.silent_seconds)} s`,
      (w.capabilities.encoders ?? [])
        .filter((e) => !/^(aac|libopus|libmp3lame|libvorbis|flac|pcm_s16le)$/.test(e.name))
        .map((e) => (e.fps > 0 ? `${e.name} ${Math.round(e.fps)} fps` : e.name))
        .join(', '),
    ]);
    for (const line of table(['ID', 'NAME', 'STATE', 'TASKS', 'SEEN', 'VIDEO ENCODERS'], rows)) io.out(line);
    return EXIT_OK;
  });
}

/** Asks for a new probe and waits (up to `waitMs`) for its result to reach the registry. */
export function workerProbeCommand(
  id: string,
  o: ClientOptions,
  io: Io,
  env: Env = process.env,
  waitMs = 600_000,
): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    const before = (await api.worker(id)).capabilities.probed_at ?? null;
    await api.probeWorker(id);
    if (!json) io.err(`worker ${id}: probing its encoders (a short test encode each)…`);
    const until = Date.now() + waitMs;
    for (;;) {
      const w = await api.worker(id);
      const at = w.capabilities.probed_at ?? null;
      if (at !== null && at !== before) {
        if (json) io.out(JSON.stringify(w.capabilities));
        else {
          for (const e of w.capabilities.encoders ?? [])
            if (e.fps > 0) io.out(`passed  ${e.name}${e.hardware ? ` (${e.hardware})` : ''}  ${e.fps} fps`);
          for (const u of w.capabilities.unhealthy ?? [])
            io.out(`failed  ${u.name}  ${u.error.split('\n')[0]}`);
        }
        return EXIT_OK;
      }
      if (Date.now() > until) {
        io.err(`worker ${id} did not report a new probe in ${Math.round(waitMs / 1000)} s`);
        return EXIT_FAILED;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  });
}

export function workerChangeCommand(
  action: 'drain' | 'undrain' | 'remove',
  id: string,
  o: ClientOptions,
  io: Io,
  env: Env = process.env,
): Promise<number> {
  return withApi(o, io, env, async (api, json) => {
    if (action === 'remove') {
      await api.removeWorker(id);
      io.out(
        json ? JSON.stringify({ id, removed: true }) : `worker ${id} removed; its tasks are queued again`,
      );
      return EXIT_OK;
    }
    const w = await api.patchWorker(id, { draining: action === 'drain' });
    io.out(
      json
        ? JSON.stringify(w)
        : action === 'drain'
          ? `worker ${id} draining: it finishes what it runs and takes nothing new`
          : `worker ${id} takes work again`,
    );
    return EXIT_OK;
  });
}
