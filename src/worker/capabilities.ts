/**
 * What this worker advertises: the video encoders that passed its probe (media/hw-probe: a short
 * real encode each, hardware only where allowed), with their measured speed, and the audio and
 * image encoders its FFmpeg lists. A probe takes tens of seconds on a small board, so its result
 * is kept in the data folder, keyed by the FFmpeg file and the settings that change it; a new
 * FFmpeg, another `hardware` mode, or a probe asked for (`POST /v1/probe`) measures again.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/index.js';
import { listedEncoders, VIDEO_ENCODERS, type WorkerCapabilities } from '../core/index.js';
import { type Binaries, binaryIdentity, type HardwareProbe, probeHardware } from '../media/index.js';
import type { MediaTools, UnhealthyEncoder } from '../pipeline/index.js';

const CACHE_FILE = 'probe.json';
/** Bumped when what a probe measures changes: older results are measured again. */
const CACHE_FORMAT = 1;

export interface ProbeContext {
  config: Readonly<Pick<WorkerConfig, 'hardware' | 'vaapi_device' | 'probe_seconds'>>;
  binaries: Binaries;
  tools: MediaTools;
  dataDir: string;
  logger: Logger;
  /** Stops the probe (the process is going away). */
  signal?: AbortSignal;
}

/** The worker's capabilities and the hardware encoders its tasks may use. */
export interface Probed {
  capabilities: WorkerCapabilities;
  /** Hardware encoders that passed the probe: what `tools.hardwareEncoders()` answers. */
  hardware: ReadonlySet<string>;
}

/** The probe's key: what, when it changes, makes an earlier result wrong. */
async function cacheKey(ctx: ProbeContext): Promise<string | null> {
  const binary = await binaryIdentity(ctx.binaries.ffmpeg.path);
  if (!binary) return null;
  const { hardware, vaapi_device, probe_seconds } = ctx.config;
  return createHash('sha256')
    .update(JSON.stringify([CACHE_FORMAT, binary, hardware, vaapi_device, probe_seconds]))
    .digest('hex');
}

async function readCache(file: string, key: string): Promise<HardwareProbe | null> {
  try {
    const c = JSON.parse(await readFile(file, 'utf8')) as { key?: string; probe?: HardwareProbe };
    return c.key === key && c.probe && Array.isArray(c.probe.encoders) ? c.probe : null;
  } catch {
    return null;
  }
}

async function writeCache(file: string, key: string, probe: HardwareProbe): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, JSON.stringify({ key, probe }), { mode: 0o600 });
    await rename(tmp, file);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

/**
 * Probes (or reads the kept result unless `force`). With `probe_seconds: 0` nothing is encoded:
 * the software video encoders FFmpeg lists are advertised unmeasured and no hardware is trusted.
 */
export async function probeCapabilities(ctx: ProbeContext, force = false): Promise<Probed> {
  const { config, binaries, tools, logger } = ctx;
  const listed = await tools.encoders();
  const base = {
    ffmpeg_version: binaries.ffmpeg.version.text.slice(0, 100),
    cores: availableParallelism(),
    memory_bytes: totalmem(),
    shared_roots: [] as string[],
  };
  if (config.probe_seconds === 0)
    return {
      capabilities: {
        ...base,
        encoders: listedEncoders(listed),
        hwaccels: [],
        unhealthy: [],
        // Listed, not measured; the time still tells a probe asked for that it has happened.
        probed_at: new Date().toISOString(),
      },
      hardware: new Set(),
    };

  const file = join(ctx.dataDir, CACHE_FILE);
  const key = await cacheKey(ctx);
  let probe = force || !key ? null : await readCache(file, key);
  if (probe)
    logger.info({ probed_at: probe.probed_at }, 'encoder probe: using the result kept from the last one');
  else {
    logger.info({ hardware: config.hardware }, 'encoder probe: a short test encode per encoder');
    probe = await probeHardware({
      ffmpeg: binaries.ffmpeg.path,
      mode: config.hardware,
      vaapiDevice: config.vaapi_device,
      timeoutMs: config.probe_seconds * 1000,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    // An interrupted probe is not kept: what it had no time for would stay unadvertised.
    if (key && !ctx.signal?.aborted) await writeCache(file, key, probe);
  }
  for (const w of probe.warnings) logger.warn(w);
  for (const f of probe.failed) logger.info({ encoder: f.name, error: f.error }, 'encoder not advertised');
  logger.info(
    { encoders: probe.encoders.map((e) => `${e.name} ${e.fps} fps`) },
    'encoder probe: these passed',
  );
  const video = probe.encoders.map((e) => ({
    name: e.name,
    codec: e.codec,
    hardware: e.hardware,
    fps: e.fps,
  }));
  // Audio encoders need no device: listed is working.
  const others = listedEncoders(listed).filter((e) => !VIDEO_ENCODERS.some((v) => v.name === e.name));
  return {
    capabilities: {
      ...base,
      encoders: [...video, ...others],
      hwaccels: probe.hwaccels.slice(0, 50),
      probed_at: probe.probed_at,
      unhealthy: probe.failed.slice(0, 200).map((f) => ({ name: f.name, error: f.error.slice(0, 500) })),
    },
    hardware: new Set(probe.encoders.filter((e) => e.hardware !== null).map((e) => e.name)),
  };
}

/**
 * A hardware encoder that failed at a task's start: no longer advertised (the scheduler then
 * routes its codec by the encoders left), and listed as unhealthy with FFmpeg's words.
 */
export function withoutUnhealthy(caps: WorkerCapabilities, e: UnhealthyEncoder): WorkerCapabilities {
  return {
    ...caps,
    encoders: caps.encoders.filter((x) => x.name !== e.name),
    unhealthy: [
      ...caps.unhealthy.filter((x) => x.name !== e.name),
      { name: e.name, error: e.reason.slice(0, 500) },
    ].slice(0, 200),
  };
}
