/**
 * The encoders a worker's tasks may use, and what happens when a hardware encoder that passed the
 * probe fails at the start of a real task (a driver reset, a GPU taken by another process, a mode
 * the probe did not try): the task runs again once in software, and the encoder is marked
 * unhealthy so that later tasks go straight to software. The worker listens to report it.
 */
import type { Progress } from '../core/ffmpeg/progress.js';
import { AppError, chooseEncoders, type EncoderChoice, VIDEO_ENCODERS } from '../core/index.js';
import type { MediaTools, RunResult } from './tools.js';

export interface UnhealthyEncoder {
  name: string;
  /** FFmpeg's last words when it failed. */
  reason: string;
}

/** The encoders this worker has seen fail since its last probe. */
export class EncoderHealth {
  readonly #reasons = new Map<string, string>();
  readonly #names = new Set<string>();
  readonly #listeners = new Set<(e: UnhealthyEncoder) => void>();

  /** Idempotent: listeners hear of an encoder once. */
  markUnhealthy(name: string, reason: string): void {
    if (this.#names.has(name)) return;
    this.#names.add(name);
    this.#reasons.set(name, reason);
    for (const listener of this.#listeners) listener({ name, reason });
  }

  /** A live view: a choice made earlier (a job's) sees encoders marked after it. */
  unhealthy(): ReadonlySet<string> {
    return this.#names;
  }

  reason(name: string): string | undefined {
    return this.#reasons.get(name);
  }

  /** For the worker's log and its reports; returns the way to stop listening. Must not throw. */
  onUnhealthy(listener: (e: UnhealthyEncoder) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A new probe decides afresh. */
  clear(): void {
    this.#names.clear();
    this.#reasons.clear();
  }
}

export interface EncoderOptions {
  /** Hardware allowed (the worker's `hardware` is on or auto). */
  hardware?: boolean;
  health?: EncoderHealth;
  vaapiDevice?: string;
}

export interface WorkerEncoders {
  preferred: EncoderChoice;
  /** What a failed hardware start falls back to. */
  software: EncoderChoice;
}

const HARDWARE = new Set(VIDEO_ENCODERS.filter((e) => e.hardware !== null).map((e) => e.name));

/**
 * Software from what `ffmpeg -encoders` lists; hardware, when allowed, only from what passed this
 * worker's probe (`tools.hardwareEncoders()`): listed is not working.
 */
export async function workerEncoders(tools: MediaTools, opts: EncoderOptions): Promise<WorkerEncoders> {
  const listed = await tools.encoders();
  const software = chooseEncoders(listed);
  if (!opts.hardware) return { preferred: software, software };
  const proved = (await tools.hardwareEncoders?.()) ?? new Set<string>();
  const trusted = new Set([...listed].filter((name) => !HARDWARE.has(name) || proved.has(name)));
  const preferred = chooseEncoders(trusted, {
    hardware: true,
    ...(opts.health ? { unhealthy: opts.health.unhealthy() } : {}),
    ...(opts.vaapiDevice ? { vaapiDevice: opts.vaapiDevice } : {}),
  });
  return { preferred, software };
}

/** The hardware video encoders an argv uses (`-c:v h264_nvenc`). */
export function hardwareIn(args: readonly string[]): string[] {
  return args.filter((a, i) => i > 0 && args[i - 1] === '-c:v' && HARDWARE.has(a));
}

type RunOptions = Parameters<MediaTools['run']>[1];

/**
 * Runs the argv built from `encoders.preferred`. When it uses a hardware encoder and FFmpeg fails
 * before reporting a frame, runs once more from `encoders.software`; the encoder is marked
 * unhealthy only when that run succeeds: if software fails too, the cause was elsewhere (the
 * input, the disk) and the software run's error is the one to report.
 */
export async function runWithFallback(
  tools: MediaTools,
  build: (encoders: EncoderChoice) => string[],
  encoders: { preferred: EncoderChoice; software?: EncoderChoice | undefined },
  opts: RunOptions,
  health?: EncoderHealth,
): Promise<RunResult> {
  const args = build(encoders.preferred);
  const hardware = hardwareIn(args);
  if (hardware.length === 0 || !encoders.software) return tools.run(args, opts);
  let started = false;
  const onProgress = (p: Progress) => {
    if ((p.frame ?? 0) > 0) started = true;
    opts.onProgress?.(p);
  };
  try {
    return await tools.run(args, { ...opts, onProgress });
  } catch (e) {
    if (started || !(e instanceof AppError) || e.code !== 'ffmpeg_failed') throw e;
    const result = await tools.run(build(encoders.software), opts);
    for (const name of hardware) health?.markUnhealthy(name, e.message);
    return result;
  }
}
