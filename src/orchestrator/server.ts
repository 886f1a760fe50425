/**
 * An orchestrator process: the store (PGlite in `data_dir/db`, or PostgreSQL), the admin key,
 * the control plane and the HTTP API. `server.ts` listens; `app.ts` only builds.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { OrchestratorConfig } from '../config/index.js';
import { AppError } from '../core/index.js';
import { newKey, openStore, type Store } from '../db/index.js';
import { type Binaries, effectiveVersion } from '../media/index.js';
import { localTools, type MediaTools } from '../pipeline/index.js';
import { type MediaRoots, mediaRoots } from '../storage/index.js';
import { buildApp } from './app.js';
import { ControlPlane } from './control-plane.js';
import { createMetrics } from './metrics.js';

export interface OrchestratorOptions {
  config: Readonly<OrchestratorConfig>;
  binaries: Binaries;
  logger?: Logger;
}

export interface RunningOrchestrator {
  url: string;
  app: FastifyInstance;
  store: Store;
  control: ControlPlane;
  roots: MediaRoots;
  tools: MediaTools;
  logger: Logger;
  /** The admin key when this start generated it (shown once), else null. */
  generatedAdminKey: string | null;
  adminKeyFile: string;
  /** Stops accepting requests, then the control plane and the store. Idempotent. */
  close(beforeStore?: () => Promise<void>): Promise<void>;
}

/** The admin key: MEDIAFORGE_ADMIN_KEY, or one generated on first start and kept in data_dir (0600). */
async function bootstrapAdmin(control: ControlPlane, config: Readonly<OrchestratorConfig>, file: string) {
  if (config.admin_key) {
    await control.keys.ensureAdminKey(config.admin_key);
    return null;
  }
  if (await control.keys.hasAdmin()) return null;
  // A key file from an earlier start whose database is gone (a new PostgreSQL, say): reuse it.
  const saved = await readFile(file, 'utf8').then(
    (s) => s.trim(),
    () => null,
  );
  const key = saved && saved.length >= 16 ? saved : newKey();
  await control.keys.ensureAdminKey(key);
  if (saved === key) return null;
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

export async function startOrchestrator(o: OrchestratorOptions): Promise<RunningOrchestrator> {
  const { config } = o;
  const logger = o.logger ?? pino({ level: config.log_level }, pino.destination(2));
  const dataDir = resolve(config.data_dir);
  await mkdir(dataDir, { recursive: true });
  const mediaRoot = resolve(config.media_root ?? join(dataDir, 'media'));
  await mkdir(mediaRoot, { recursive: true });
  const roots = mediaRoots(
    mediaRoot,
    config.extra_media_roots.map((r) => resolve(r)),
  );

  const store = await openStore({
    url: config.database_url,
    dataDir: join(dataDir, 'db'),
    ...(config.database_schema ? { schema: config.database_schema } : {}),
  });
  const tools = localTools(config, o.binaries);
  let control: ControlPlane | undefined;
  let closing = false;
  try {
    control = new ControlPlane({
      store,
      logger,
      roots,
      prepare: {
        tools,
        limits: { maxPixels: config.max_pixels, maxSeconds: config.max_input_seconds },
        ffmpegVersion: effectiveVersion(o.binaries.ffmpeg),
      },
      maxAttempts: config.max_attempts,
      workerTimeoutSeconds: config.worker_timeout_seconds,
      hungTaskSeconds: config.hung_task_seconds,
      retentionDays: config.retention_days,
    });
    const metrics = createMetrics(control.jobs, control.tasks);
    control.setMetrics(metrics);
    const adminKeyFile = join(dataDir, 'admin.key');
    const generatedAdminKey = await bootstrapAdmin(control, config, adminKeyFile);
    const app = await buildApp({
      config,
      store,
      control,
      roots,
      metrics,
      logger,
      encoders: () => tools.encoders(),
      isClosing: () => closing,
    });
    const address = await app.listen({ port: config.port, host: config.host });
    control.start();
    const url = address.replace('://[::1]', '://localhost');
    let closed: Promise<void> | null = null;
    const running: RunningOrchestrator = {
      url,
      app,
      store,
      control,
      roots,
      tools,
      logger,
      generatedAdminKey,
      adminKeyFile,
      close(beforeStore) {
        closed ??= (async () => {
          closing = true;
          await app.close();
          await beforeStore?.();
          await control!.close();
          await store.close();
        })();
        return closed;
      },
    };
    return running;
  } catch (e) {
    await control?.close();
    await store.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new AppError(
        'config_invalid',
        `port ${config.port} on ${config.host} is in use; pick another with --port`,
      );
    throw e;
  }
}
