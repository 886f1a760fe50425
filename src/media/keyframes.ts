/**
 * The video packets of a file, as ffprobe lists them without decoding (fast: a demux only):
 * each one's presentation time and keyframe flag, and the file's start time. The planner cuts
 * chunks at the keyframes; a chunk's check counts the frames it holds.
 */
import { resolve } from 'node:path';
import { AppError } from '../core/errors.js';
import type { VideoPacket } from '../core/planner/chunks.js';
import { DEFAULT_PROBE_TIMEOUT_MS } from './ffprobe.js';
import { runProcess, stderrSummary } from './process.js';

export interface PacketOptions {
  ffprobe: string;
  /** Default 30 s (a demux of a long file over a network share takes a while). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Demuxer names ffprobe may use (`-format_whitelist`). */
  formats?: readonly string[];
}

export interface VideoPackets {
  /** The container's start time (s): FFmpeg's `-ss` counts from it. */
  startTime: number;
  /** Decode order; packets FFmpeg discards (before an edit list's start) left out. */
  packets: VideoPacket[];
}

/** 24 bytes a packet: room for 10 hours at 120 fps. */
const MAX_STDOUT = 128 * 1024 * 1024;

/**
 * `packet,<pts_time>,<flags>` and `format,<start_time>` lines (ffprobe `-of csv`). A packet with no
 * time (N/A) makes the whole list useless for cutting: an error, not a guess.
 */
export function parsePacketCsv(text: string): VideoPackets {
  const packets: VideoPacket[] = [];
  let startTime = 0;
  for (const line of text.split('\n')) {
    const [section, a, b] = line.trim().split(',');
    if (section === 'packet') {
      if (b?.includes('D')) continue;
      const pts = Number(a);
      if (a === undefined || a === 'N/A' || !Number.isFinite(pts))
        throw new AppError('probe_failed', 'a video packet has no presentation time');
      packets.push({ pts, key: b?.startsWith('K') ?? false });
    } else if (section === 'format' && a !== undefined && a !== 'N/A' && Number.isFinite(Number(a))) {
      startTime = Number(a);
    }
  }
  return { startTime, packets };
}

export async function readVideoPackets(input: string, options: PacketOptions): Promise<VideoPackets> {
  const path = resolve(input);
  const args = ['-v', 'error', '-hide_banner', '-protocol_whitelist', 'file'];
  if (options.formats?.length) args.push('-format_whitelist', options.formats.join(','));
  // V: the first video that is not cover art, as the renderer selects it.
  args.push(
    '-select_streams',
    'V:0',
    '-show_entries',
    'packet=pts_time,flags:format=start_time',
    '-of',
    'csv=p=1',
    `file:${path}`,
  );
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const r = await runProcess(options.ffprobe, args, {
    timeoutMs,
    signal: options.signal,
    maxStdoutBytes: MAX_STDOUT,
  });
  if (r.aborted) throw new AppError('cancelled', 'reading the keyframes was cancelled');
  if (r.timedOut)
    throw new AppError('probe_timeout', `ffprobe did not list the video packets within ${timeoutMs} ms`);
  if (r.stdoutOverflow) throw new AppError('probe_failed', 'the list of video packets is too long');
  if (r.code !== 0)
    throw new AppError(
      'probe_failed',
      `ffprobe could not list the video packets: ${stderrSummary(r.stderr, 1)}`,
    );
  return parsePacketCsv(r.stdout);
}
