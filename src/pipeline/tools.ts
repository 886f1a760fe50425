/**
 * What the pipeline needs from the process layer, as an interface: the CLI wires it to real
 * ffprobe/FFmpeg (media/), a worker will wire it to its own configured binaries.
 */

import type { Progress } from '../core/ffmpeg/progress.js';
import type { MediaInfo } from '../core/index.js';
import type { VideoPackets } from '../media/index.js';

export interface RunResult {
  /** The end of FFmpeg's stderr (the loudnorm measurement lives there). */
  stderrTail: string;
  /** Wall-clock time of the FFmpeg process, spawn to exit. */
  durationMs: number;
}

export interface MediaTools {
  probe(path: string, signal?: AbortSignal): Promise<MediaInfo>;
  /** What planning reads of an input: in-process where everything it needs is there (MP4), else probe(). */
  probeInput(path: string, signal?: AbortSignal): Promise<MediaInfo>;
  /** What the output check reads of a file just written as `format`: in-process where it can be (MP4), else probe(). */
  probeOutput(path: string, format: string): Promise<MediaInfo>;
  run(
    args: readonly string[],
    opts: { expectedDuration: number | null; onProgress?: (p: Progress) => void; signal?: AbortSignal },
  ): Promise<RunResult>;
  /** The video packets of a file without decoding: where its keyframes are, how many frames it holds. */
  videoPackets(path: string, signal?: AbortSignal): Promise<VideoPackets>;
  /** Encoder names this FFmpeg has (from `ffmpeg -encoders`). */
  encoders(): Promise<ReadonlySet<string>>;
  /**
   * The hardware encoders that passed this worker's probe (media/hw-probe). Without it no hardware
   * encoder is trusted, whatever `encoders()` lists.
   */
  hardwareEncoders?(): Promise<ReadonlySet<string>>;
}
