/** The pipeline's MediaTools on this machine: the configured ffprobe and FFmpeg, through media/. */
import type { RunConfig } from '../config/index.js';
import type { Progress } from '../core/ffmpeg/progress.js';
import { ALLOWED_DEMUXERS, pictureDemuxer } from '../core/index.js';
import {
  type Binaries,
  cachedEncoderList,
  inspectMp4,
  isComplete,
  probe,
  readVideoPackets,
  runFfmpeg,
} from '../media/index.js';
import type { MediaTools } from './tools.js';

/** Outputs whose check can read the moov in-process instead of starting ffprobe. */
const ISO_BMFF = new Set(['mp4', 'mov', 'm4a']);

export function localTools(config: Readonly<RunConfig>, binaries: Binaries): MediaTools {
  let encoders: Promise<ReadonlySet<string>> | undefined;
  const tools: MediaTools = {
    probeInput: async (path, signal) => {
      const quick = await inspectMp4(path);
      return quick && isComplete(quick) ? quick : tools.probe(path, signal);
    },
    probeOutput: async (path, format) =>
      (ISO_BMFF.has(format) ? await inspectMp4(path) : null) ?? tools.probe(path),
    probe: (path, signal) =>
      probe(path, {
        ffprobe: binaries.ffprobe.path,
        timeoutMs: config.probe_timeout_seconds * 1000,
        formats: ALLOWED_DEMUXERS,
        maxPixels: config.max_pixels,
        ...(pictureDemuxer(path) ? { format: pictureDemuxer(path)! } : {}),
        ...(signal ? { signal } : {}),
      }),
    // A demux of the whole file: longer than a probe, so a longer limit.
    videoPackets: (path, signal) =>
      readVideoPackets(path, {
        ffprobe: binaries.ffprobe.path,
        timeoutMs: config.probe_timeout_seconds * 4000,
        formats: ALLOWED_DEMUXERS,
        ...(signal ? { signal } : {}),
      }),
    run: async (args, opts) => {
      const run = runFfmpeg({
        ffmpeg: binaries.ffmpeg.path,
        args,
        expectedDurationSeconds: opts.expectedDuration,
        ...(opts.onProgress ? { onProgress: (p: Progress) => opts.onProgress!(p) } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        killGraceMs: config.kill_grace_seconds * 1000,
        deadlineMs: config.task_timeout_seconds > 0 ? config.task_timeout_seconds * 1000 : null,
        stallTimeoutMs: config.stall_timeout_seconds > 0 ? config.stall_timeout_seconds * 1000 : null,
      });
      const result = await run.done;
      return { stderrTail: result.stderrTail, durationMs: result.durationMs };
    },
    encoders: () => {
      encoders ??= cachedEncoderList(binaries.ffmpeg.path);
      return encoders;
    },
  };
  return tools;
}
