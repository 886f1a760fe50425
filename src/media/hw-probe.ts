/**
 * The worker's hardware prober: which video encoders work on this machine, and how fast. A build
 * lists what it was compiled with (Debian's FFmpeg lists h264_nvenc on machines without a GPU),
 * so each candidate the registry knows and this FFmpeg lists gets a short real encode with the
 * same options a task would use; only those that finish are advertised, with their speed. Run at
 * the worker's start and again on demand.
 */
import { onDevice, VIDEO_ENCODERS, type VideoEncoder, videoEncodeArgs } from '../core/ffmpeg/encoders.js';
import { createProgressParser, toProgress } from '../core/ffmpeg/progress.js';
import type { VideoCodec } from '../core/spec/codecs.js';
import { listEncoders, listHwaccels } from './encoders.js';
import { runProcess, stderrSummary } from './process.js';

/** The worker's `hardware` setting: off never uses hardware, on also says so when none works. */
export type HardwareMode = 'on' | 'off' | 'auto';

/** What each candidate encodes: 2 s of 640x360 at 30 fps, long enough to time, short on a small board. */
export const PROBE_SOURCE = 'testsrc2=size=640x360:rate=30:duration=2';
const PROBE_RATE = 30;

export interface HardwareProbeOptions {
  ffmpeg: string;
  mode: HardwareMode;
  /** The DRM render node for VAAPI; default /dev/dri/renderD128. */
  vaapiDevice?: string;
  /** For the whole probe, default 120 s: a driver that hangs must not hold the worker's start. */
  timeoutMs?: number;
  /** For one candidate, default 30 s (within what is left of timeoutMs). */
  candidateTimeoutMs?: number;
  /** Only these codecs' encoders; default all the registry has. */
  codecs?: readonly VideoCodec[];
  signal?: AbortSignal;
  now?: () => Date;
}

export interface ProbedEncoder {
  name: string;
  codec: VideoCodec;
  /** The family (`nvenc`, `vaapi`, ...); null for software. */
  hardware: string | null;
  /** Frames per second on the probe's source, with the options of a `medium` task. */
  fps: number;
}

export interface HardwareProbe {
  /** The encoders that passed, in the registry's order of preference. */
  encoders: ProbedEncoder[];
  /** `ffmpeg -hwaccels`: the decoders' acceleration methods this build has. */
  hwaccels: string[];
  /** Listed but not working (or not tried in time), with FFmpeg's last words. */
  failed: Array<{ name: string; error: string }>;
  probed_at: string;
  /** What the operator should hear: hardware on but none passed. */
  warnings: string[];
}

export async function probeHardware(options: HardwareProbeOptions): Promise<HardwareProbe> {
  const started = performance.now();
  const budget = options.timeoutMs ?? 120_000;
  const listed = await listEncoders(options.ffmpeg);
  const hwaccels = await listHwaccels(options.ffmpeg);
  const candidates = VIDEO_ENCODERS.filter(
    (e) =>
      listed.has(e.name) &&
      (options.mode !== 'off' || e.hardware === null) &&
      (!options.codecs || options.codecs.includes(e.codec)),
  );

  const encoders: ProbedEncoder[] = [];
  const failed: HardwareProbe['failed'] = [];
  // One after another: on a 2-core board, parallel encodes would time each other, not the encoder.
  for (const e of candidates) {
    const left = budget - (performance.now() - started);
    if (left <= 0 || options.signal?.aborted) {
      failed.push({ name: e.name, error: 'not tried: the probe ran out of time' });
      continue;
    }
    const timeoutMs = Math.min(left, options.candidateTimeoutMs ?? 30_000);
    const r = await timeEncode(options.ffmpeg, onDevice(e, options.vaapiDevice), timeoutMs, options.signal);
    if ('fps' in r) encoders.push({ name: e.name, codec: e.codec, hardware: e.hardware, fps: r.fps });
    else failed.push({ name: e.name, error: r.error });
  }

  const warnings: string[] = [];
  if (options.mode === 'on' && !encoders.some((e) => e.hardware !== null)) {
    const tried = failed.filter((f) => VIDEO_ENCODERS.some((e) => e.name === f.name && e.hardware !== null));
    warnings.push(
      tried.length === 0
        ? 'hardware is on, but this FFmpeg lists no hardware encoder mediaforge knows'
        : `hardware is on, but no hardware encoder passed its test encode (${tried
            .map((f) => `${f.name}: ${f.error.split('\n')[0]}`) // the cause; later lines are FFmpeg's generic ones
            .join('; ')})`,
    );
  }
  return { encoders, hwaccels, failed, probed_at: (options.now?.() ?? new Date()).toISOString(), warnings };
}

const BENCH = /bench:.*\brtime=([0-9.]+)s/;

/**
 * Encodes the probe's source to `-f null` and measures frames per second. The time is FFmpeg's
 * own `-benchmark` rtime: it starts after the command line is parsed and the input opened, so
 * loading FFmpeg's libraries (a large share of a 2 s encode on a small board) does not rank the
 * encoders; the encoder's own start (a GPU driver loading) is in it, as in every task. The wall
 * time of the process stands in when there is no bench line, and for a run stopped at its time
 * limit after some frames: a slow encoder still works.
 */
async function timeEncode(
  ffmpeg: string,
  e: VideoEncoder,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ fps: number } | { error: string }> {
  const a = videoEncodeArgs(e, { codec: e.codec, preset: 'medium', pixel_format: 'yuv420p' }, PROBE_RATE);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-benchmark', // its line is printed at the info level, FFmpeg's default
    '-progress',
    'pipe:1',
    ...a.device,
    '-f',
    'lavfi',
    '-i',
    PROBE_SOURCE,
    ...(a.upload ? ['-vf', a.upload] : []),
    ...a.output,
    '-f',
    'null',
    '-',
  ];
  let r: Awaited<ReturnType<typeof runProcess>>;
  try {
    r = await runProcess(ffmpeg, args, { timeoutMs, ...(signal ? { signal } : {}) });
  } catch (err) {
    return { error: `cannot run ${ffmpeg}: ${(err as Error).message}` };
  }
  const frames = framesOf(r.stdout);
  if (r.code !== 0 && !(r.timedOut && frames > 0)) {
    if (r.timedOut) return { error: `no frame within ${Math.round(timeoutMs)} ms` };
    if (r.aborted) return { error: 'the probe was cancelled' };
    // -benchmark prints its memory line on the way out even after a failure: not a cause.
    const stderr = r.stderr.replace(/^bench: .*$/gm, '');
    return { error: stderrSummary(stderr, 3) || `exit code ${r.code ?? r.signal}` };
  }
  if (frames === 0) return { error: 'the test encode produced no frame' };
  const bench = r.code === 0 ? BENCH.exec(r.stderr) : null;
  const seconds = bench ? Number(bench[1]) : r.ms / 1000;
  return { fps: Math.round((frames / Math.max(seconds, 0.001)) * 10) / 10 };
}

/** The frame count of the last `-progress` block. */
function framesOf(stdout: string): number {
  const blocks = createProgressParser().push(stdout.endsWith('\n') ? stdout : `${stdout}\n`);
  const last = blocks.at(-1);
  return last ? (toProgress(last, null).frame ?? 0) : 0;
}
