/**
 * Running JobSpecs the way `mediaforge run` does, inside a test: a fresh media root per test,
 * the real ffprobe and FFmpeg, and helpers to look at what came out.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import type { MediaInfo } from '../../src/core/index.js';
import {
  type Binaries,
  effectiveVersion,
  probe,
  resolveBinaries,
  runProcess,
} from '../../src/media/index.js';
import {
  executeJob,
  type JobProgress,
  type JobResult,
  localTools,
  type PreparedJob,
  prepareJob,
} from '../../src/pipeline/index.js';
import { mediaRoots } from '../../src/storage/index.js';

let binaries: Promise<Binaries> | undefined;
export function testBinaries(): Promise<Binaries> {
  binaries ??= resolveBinaries({ env: process.env });
  return binaries;
}

const roots = new Set<string>();
let cleanupRegistered = false;

/** A new, empty media root, removed when the test process exits. */
export function tempRoot(prefix = 'mf-root-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  roots.add(dir);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.once('exit', () => {
      for (const r of roots) rmSync(r, { recursive: true, force: true });
    });
  }
  return dir;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
  settings?: Record<string, unknown>;
  /** Sees the validated, probed and planned job before it runs (the plan `mediaforge plan` shows). */
  onPrepared?: (job: PreparedJob) => void;
  /** Another FFmpeg than the one under test (the bundled fallback). */
  binaries?: Binaries;
}

/** validate → probe → plan → run, exactly as the CLI does; throws the pipeline's AppError. */
export async function runSpec(spec: unknown, root: string, opts: RunOptions = {}): Promise<JobResult> {
  const config = loadConfig('run', { env: {}, overrides: { media_root: root, ...opts.settings } });
  const b = opts.binaries ?? (await testBinaries());
  const tools = localTools(config, b);
  const roots = mediaRoots(root);
  const job = await prepareJob(spec, {
    roots,
    tools,
    limits: { maxPixels: config.max_pixels, maxSeconds: config.max_input_seconds },
    ffmpegVersion: effectiveVersion(b.ffmpeg),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  opts.onPrepared?.(job);
  return executeJob(job, {
    roots,
    tools,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}

/** The error a spec fails with (fails the test if it succeeds). */
export async function runSpecError(
  spec: unknown,
  root: string,
  opts: RunOptions = {},
): Promise<Error & { code?: string; details?: unknown }> {
  try {
    await runSpec(spec, root, opts);
  } catch (e) {
    return e as Error & { code?: string; details?: unknown };
  }
  throw new Error('expected the job to fail, and it succeeded');
}

export async function probeFile(path: string): Promise<MediaInfo> {
  return probe(path, { ffprobe: (await testBinaries()).ffprobe.path });
}

/** Decoded frame count of the first video stream (ffprobe -count_frames): exact, not the header's claim. */
export async function countFrames(path: string): Promise<number> {
  const b = await testBinaries();
  const r = await runProcess(
    b.ffprobe.path,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-count_frames',
      '-show_entries',
      'stream=nb_read_frames',
      '-of',
      'csv=p=0',
      `file:${path}`,
    ],
    { timeoutMs: 60_000 },
  );
  return Number(r.stdout.trim());
}

/** Every file under `dir`, relative, sorted: to prove nothing (no partial, no temp) was left. */
export function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

/** Whether the FFmpeg under test is at least this version (the bundled 4.1 fallback is not 5.0). */
export async function ffmpegAtLeast(major: number, minor = 0): Promise<boolean> {
  const v = effectiveVersion((await testBinaries()).ffmpeg);
  return v === null || v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * A clip with a keyframe every 2 s exactly and B-frames between (what chunked encoding cuts at):
 * testsrc2 with a tone, H.264 and AAC in MP4.
 */
export async function keyframedClip(
  out: string,
  o: { seconds: number; fps: number; size?: string },
): Promise<string> {
  const r = await runProcess(
    (await testBinaries()).ffmpeg.path,
    [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '640x360'}:rate=${o.fps}:duration=${o.seconds}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-pix_fmt', 'yuv420p'],
      ...['-g', String(2 * o.fps), '-keyint_min', String(2 * o.fps), '-sc_threshold', '0'],
      ...['-c:a', 'aac', '-shortest', '-f', 'mp4', `file:${out}`],
    ],
    { timeoutMs: 120_000 },
  );
  if (r.code !== 0) throw new Error(r.stderr);
  return out;
}

/** The presentation times of a file's video packets, in presentation order. */
export async function videoPacketTimes(path: string): Promise<number[]> {
  const r = await runProcess(
    (await testBinaries()).ffprobe.path,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=pts_time',
      '-of',
      'csv=p=0',
      `file:${path}`,
    ],
    { timeoutMs: 60_000 },
  );
  return r.stdout
    .trim()
    .split('\n')
    .map(Number)
    .sort((a, b) => a - b);
}
