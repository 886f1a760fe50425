/**
 * `mediaforge up` (orchestrator + one local worker + embedded database) and `mediaforge
 * orchestrator` (the control plane alone). Both stop on SIGTERM/SIGINT: no new requests, running
 * tasks get the grace period, then they are stopped and handed back for the next start.
 */
import { createHash } from 'node:crypto';
import { readdir, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type OrchestratorConfig } from '../config/index.js';
import { testPatternArgs } from '../core/index.js';
import { resolveBinaries, runFfmpeg } from '../media/index.js';
import { type RunningOrchestrator, startOrchestrator } from '../orchestrator/index.js';
import { EncoderHealth } from '../pipeline/index.js';
import {
  defaultConcurrency,
  LocalWorker,
  type Probed,
  probeCapabilities,
  withoutUnhealthy,
} from '../worker/index.js';
import { EXIT_OK, type Io, reportError } from './output.js';

export interface UpOptions {
  data?: string;
  port?: string;
  host?: string;
  mediaRoot?: string;
  config?: string;
  worker?: boolean;
}

export interface Started {
  config: Readonly<OrchestratorConfig>;
  ffmpeg: string;
  orchestrator: RunningOrchestrator;
  worker: LocalWorker | null;
  stop(): Promise<void>;
}

/** Starts the processes of `up` (or `orchestrator` when withWorker is false); for tests and the CLI. */
export async function startUp(
  config: Readonly<OrchestratorConfig>,
  env: Readonly<Record<string, string | undefined>>,
  withWorker: boolean,
): Promise<Started> {
  const binaries = await resolveBinaries({
    ...(config.ffmpeg ? { ffmpeg: config.ffmpeg } : {}),
    ...(config.ffprobe ? { ffprobe: config.ffprobe } : {}),
    env,
  });
  const orch = await startOrchestrator({ config, binaries });
  let worker: LocalWorker | null = null;
  let workerId: string | null = null;
  // The local worker's encoders, as a remote worker's: listed at once, then probed (in the
  // background: the quick start must not wait for it), hardware trusted only once it passed.
  const probing = new AbortController();
  const health = new EncoderHealth();
  let probed: Probed | null = null;
  if (withWorker) {
    worker = new LocalWorker(
      {
        roots: orch.roots,
        tools: { ...orch.tools, hardwareEncoders: async () => probed?.hardware ?? new Set<string>() },
        threads: config.threads,
        logger: orch.logger.child({ worker: 'local' }),
        encoders: { hardware: config.hardware !== 'off', health, vaapiDevice: config.vaapi_device },
      },
      config.local_worker_slots || defaultConcurrency(),
    );
    // One id per machine and data folder: a restart is a new session of the same worker, and the
    // tasks the old session held are rescued at once.
    const id = `local-${createHash('sha256')
      .update(`${hostname()}:${resolve(config.data_dir)}`)
      .digest('hex')
      .slice(0, 12)}`;
    workerId = id;
    const { sink } = await orch.control.attachWorker(
      {
        id,
        name: `${hostname()} (local)`,
        url: null,
        maxConcurrent: worker.slots,
        capabilities: { local: true },
      },
      worker,
    );
    worker.connect(sink);
    const local = id;
    // In this process it reaches every media root: no `shared_roots` to prove.
    const publish = ({ shared_roots: _all, ...caps }: Record<string, unknown>) =>
      orch.control
        .updateAttachedCapabilities(local, { ...caps, local: true })
        .catch((e) => orch.logger.warn({ err: e }, 'could not record the local worker’s encoders'));
    void probeCapabilities({
      config,
      binaries,
      tools: orch.tools,
      dataDir: join(resolve(config.data_dir), 'worker'),
      logger: orch.logger.child({ worker: 'local' }),
      signal: probing.signal,
    }).then(
      async (p) => {
        if (probing.signal.aborted) return;
        probed = p;
        health.onUnhealthy((e) => {
          if (probed) probed = { ...probed, capabilities: withoutUnhealthy(probed.capabilities, e) };
          void publish(probed?.capabilities ?? {});
        });
        await publish(p.capabilities);
      },
      (e) =>
        orch.logger.warn({ err: e }, 'encoder probe failed: the local worker uses the encoders FFmpeg lists'),
    );
  }
  let stopping: Promise<void> | null = null;
  return {
    config,
    ffmpeg: binaries.ffmpeg.path,
    orchestrator: orch,
    worker,
    stop() {
      probing.abort();
      stopping ??= orch.close(async () => {
        // No new work for it while it finishes (or hands back) what it runs.
        if (workerId) orch.control.detachWorker(workerId);
        await worker?.close(config.shutdown_grace_seconds * 1000);
      });
      return stopping;
    },
  };
}

async function writeSample(ffmpeg: string, root: string): Promise<void> {
  const part = join(root, '.sample.mp4.part');
  await runFfmpeg({
    ffmpeg,
    args: testPatternArgs({ size: '1920x1080', seconds: 30, out: `file:${part}` }),
    expectedDurationSeconds: 30,
  }).done;
  await rename(part, join(root, 'sample.mp4'));
}

export async function upCommand(
  opts: UpOptions,
  io: Io,
  withWorker: boolean,
  env = process.env,
): Promise<number> {
  let started: Started;
  try {
    const config = loadConfig('orchestrator', {
      env: {
        ...env,
        ...(env.DATABASE_URL && !env.MEDIAFORGE_DATABASE_URL
          ? { MEDIAFORGE_DATABASE_URL: env.DATABASE_URL }
          : {}),
      },
      ...(opts.config ? { file: opts.config } : {}),
      overrides: { data_dir: opts.data, port: opts.port, host: opts.host, media_root: opts.mediaRoot },
    });
    started = await startUp(config, env, withWorker);
  } catch (e) {
    return reportError(e, io, false);
  }
  const o = started.orchestrator;
  io.out(
    `mediaforge ${withWorker ? 'up' : 'orchestrator'}: ${o.url}  (API ${o.url}/api/v1, docs ${o.url}/docs)`,
  );
  io.out(
    `database: ${o.store.kind}${o.store.kind === 'pglite' ? ` in ${join(resolve(started.config.data_dir), 'db')}` : ''}; media root: ${o.roots.default}`,
  );
  if (o.generatedAdminKey) {
    io.out(`admin API key (shown once; also saved in ${o.adminKeyFile}, mode 0600):`);
    io.out(`  ${o.generatedAdminKey}`);
  }
  // The quick start's own media folder, still empty: a clip to try the README's example on.
  if (withWorker && !started.config.media_root) {
    if ((await readdir(o.roots.default)).length === 0)
      writeSample(started.ffmpeg, o.roots.default).then(
        () => io.out(`a 30 s sample clip is ready: ${join(o.roots.default, 'sample.mp4')}`),
        (e) => o.logger.warn({ err: e }, 'could not write the sample clip'),
      );
  }
  await new Promise<void>((resolveStop) => {
    const onSignal = (sig: string) => {
      io.err(`${sig}: stopping (running tasks get up to the shutdown grace period)…`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second signal while stopping ends the process at once; the next start picks up.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      started.stop().then(resolveStop, (e) => {
        o.logger.error({ err: e }, 'shutdown failed');
        resolveStop();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  io.err('stopped');
  return EXIT_OK;
}
