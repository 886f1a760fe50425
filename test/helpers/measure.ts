/**
 * Looking inside outputs with the real FFmpeg: decoded durations, picture levels, loudness, field
 * detection, packets. Each helper is one analysis pass whose numbers FFmpeg prints; none trusts a
 * header where decoding can tell.
 */
import { statSync } from 'node:fs';
import type { MediaInfo } from '../../src/core/index.js';
import { runProcess, stderrSummary } from '../../src/media/index.js';
import { probeFile, testBinaries } from './pipeline.js';

async function ffmpeg(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const b = await testBinaries();
  const r = await runProcess(b.ffmpeg.path, ['-hide_banner', '-nostdin', ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${stderrSummary(r.stderr)}`);
  return r;
}

async function ffprobe(args: string[]): Promise<string> {
  const b = await testBinaries();
  const r = await runProcess(b.ffprobe.path, ['-v', 'error', ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`ffprobe ${args.join(' ')} failed: ${stderrSummary(r.stderr)}`);
  return r.stdout;
}

/** Results for a file as it is now (path, size, mtime): outputs are read many times, written once. */
const memo = new Map<string, Promise<unknown>>();
function once<T>(what: string, file: string, make: () => Promise<T>): Promise<T> {
  const st = statSync(file);
  const key = `${what}\u0000${file}\u0000${st.size}\u0000${st.mtimeMs}`;
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key) as Promise<T>;
}

/** ffprobe's MediaInfo of a file, probed once. */
export function probed(file: string): Promise<MediaInfo> {
  return once('probe', file, () => probeFile(file));
}

export interface Decoded {
  /** The first video stream: frames decoded, and the time from the first frame's start to the last one's end. */
  video?: { frames: number; seconds: number };
  /** The first audio stream: samples decoded (after the container's priming skip) and their length. */
  audio?: { samples: number; seconds: number };
}

interface ProbeFrames {
  streams: Array<{ index: number; codec_type: string; sample_rate?: string; avg_frame_rate?: string }>;
  frames: Array<{ stream_index: number; pts_time?: string; pkt_duration_time?: string; nb_samples?: number }>;
}

/**
 * Every frame of the first video and audio streams decoded (one ffprobe pass). Lengths are what a
 * player gets: mp3's header counts the encoder's delay and padding (2 s reads 2.04 s), an mp4 hides
 * AAC priming with an edit list; decoding applies both, so headers are not what is measured here.
 */
export function decoded(file: string): Promise<Decoded> {
  return once('decode', file, async () => {
    const json = JSON.parse(
      await ffprobe([
        '-show_entries',
        'stream=index,codec_type,sample_rate,avg_frame_rate:frame=stream_index,pts_time,pkt_duration_time,nb_samples',
        '-of',
        'json',
        `file:${file}`,
      ]),
    ) as ProbeFrames;
    const out: Decoded = {};
    const v = json.streams.find((s) => s.codec_type === 'video');
    const a = json.streams.find((s) => s.codec_type === 'audio');
    if (v) {
      const frames = json.frames.filter((f) => f.stream_index === v.index);
      const pts = frames.map((f) => Number(f.pts_time));
      const [num, den] = (v.avg_frame_rate ?? '25/1').split('/').map(Number);
      const last = Number(frames.at(-1)?.pkt_duration_time ?? den! / num!);
      out.video = {
        frames: frames.length,
        seconds: frames.length ? Math.max(...pts) - Math.min(...pts) + last : 0,
      };
    }
    if (a) {
      const samples = json.frames
        .filter((f) => f.stream_index === a.index)
        .reduce((n, f) => n + Number(f.nb_samples), 0);
      out.audio = { samples, seconds: samples / Number(a.sample_rate) };
    }
    return out;
  });
}

/** The decoded length in seconds of the first video or audio stream (see decoded()). */
export async function decodedSeconds(file: string, kind: 'v' | 'a'): Promise<number> {
  const d = (await decoded(file))[kind === 'v' ? 'video' : 'audio'];
  if (!d) throw new Error(`${file} has no ${kind === 'v' ? 'video' : 'audio'} stream`);
  return d.seconds;
}

/** Frames of the first video stream, decoded: exact, not the header's claim. */
export async function frameCount(file: string): Promise<number> {
  const d = await decoded(file);
  if (!d.video) throw new Error(`${file} has no video stream`);
  return d.video.frames;
}

export interface FrameStats {
  pts: number;
  /** signalstats averages over the frame (or the region), 8-bit code values. */
  y: number;
  u: number;
  v: number;
}

/** Per decoded frame, the average Y/U/V of the whole picture or of a region of it. */
export async function frameStats(
  file: string,
  region?: { x: number; y: number; w: number; h: number },
): Promise<FrameStats[]> {
  const crop = region ? `crop=${region.w}:${region.h}:${region.x}:${region.y},` : '';
  // Levels on one scale whatever the source: JPEG's full-range YUV and PNG's RGB become limited-range
  // YUV. pipe\\:1 : the graph parser takes one backslash, the option parser the other.
  const vf = `${crop}scale=out_range=tv,format=yuv420p,signalstats,metadata=mode=print:file=pipe\\\\:1`;
  const r = await ffmpeg([
    '-v',
    'error',
    '-i',
    `file:${file}`,
    '-map',
    '0:v:0',
    '-vf',
    vf,
    '-f',
    'null',
    '-',
  ]);
  const frames: FrameStats[] = [];
  for (const block of r.stdout.split(/^frame:/m).slice(1)) {
    const get = (k: string) => Number(new RegExp(`lavfi\\.signalstats\\.${k}=([\\d.]+)`).exec(block)?.[1]);
    frames.push({
      pts: Number(/pts_time:([\d.]+)/.exec(block)?.[1]),
      y: get('YAVG'),
      u: get('UAVG'),
      v: get('VAVG'),
    });
  }
  return frames;
}

/** Integrated loudness (LUFS) by a full EBU R128 pass: the `I:` line of ebur128's summary. */
export async function integratedLoudness(file: string): Promise<number> {
  const r = await ffmpeg([
    '-nostats',
    '-i',
    `file:${file}`,
    '-map',
    '0:a:0',
    '-af',
    'ebur128',
    '-f',
    'null',
    '-',
  ]);
  const summary = r.stderr.slice(r.stderr.lastIndexOf('Summary:'));
  const m = /I:\s+(-?[\d.]+) LUFS/.exec(summary);
  if (!m) throw new Error(`no integrated loudness in ebur128's summary: ${summary.slice(0, 300)}`);
  return Number(m[1]);
}

/** volumedetect's mean and max (dBFS) over the audio, or over [from, to) seconds of it. */
export async function audioLevels(
  file: string,
  window?: { from: number; to: number },
): Promise<{ mean: number; max: number }> {
  const trim = window ? `atrim=${window.from}:${window.to},` : '';
  const r = await ffmpeg([
    '-nostats',
    '-i',
    `file:${file}`,
    '-map',
    '0:a:0',
    '-af',
    `${trim}volumedetect`,
    '-f',
    'null',
    '-',
  ]);
  const mean = /mean_volume: (-?[\d.]+|-inf) dB/.exec(r.stderr)?.[1];
  const max = /max_volume: (-?[\d.]+|-inf) dB/.exec(r.stderr)?.[1];
  if (mean === undefined || max === undefined) throw new Error(`no volumedetect result for ${file}`);
  const db = (s: string) => (s === '-inf' ? Number.NEGATIVE_INFINITY : Number(s));
  return { mean: db(mean), max: db(max) };
}

/**
 * The level (dBFS, volumedetect's mean) of what passes a band filter: whether a tone near `hz` is
 * in the mix. The band is narrow (a 50 Hz wide bandpass) so two tones a few hundred Hz apart are told apart.
 */
export async function toneLevel(
  file: string,
  hz: number,
  window: { from: number; to: number },
): Promise<number> {
  const r = await ffmpeg([
    '-nostats',
    '-i',
    `file:${file}`,
    '-map',
    '0:a:0',
    '-af',
    `atrim=${window.from}:${window.to},bandpass=f=${hz}:width_type=h:w=50,bandpass=f=${hz}:width_type=h:w=50,volumedetect`,
    '-f',
    'null',
    '-',
  ]);
  const mean = /mean_volume: (-?[\d.]+|-inf) dB/.exec(r.stderr)?.[1];
  if (mean === undefined) throw new Error(`no volumedetect result for ${file}`);
  return mean === '-inf' ? Number.NEGATIVE_INFINITY : Number(mean);
}

/** idet's multi-frame verdict over the whole video: how many frames look interlaced or progressive. */
export async function fieldDetection(
  file: string,
): Promise<{ tff: number; bff: number; progressive: number }> {
  const r = await ffmpeg([
    '-nostats',
    '-i',
    `file:${file}`,
    '-map',
    '0:v:0',
    '-vf',
    'idet',
    '-f',
    'null',
    '-',
  ]);
  const m = /Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no idet result for ${file}`);
  return { tff: Number(m[1]), bff: Number(m[2]), progressive: Number(m[3]) };
}

/**
 * Each packet of one stream in file order: its size, time and whether it is a keyframe. Equal sizes
 * mean the same bitstream, cut the same way.
 */
export async function packets(
  file: string,
  kind: 'v' | 'a',
): Promise<Array<{ size: number; pts: number; key: boolean }>> {
  const out = await ffprobe([
    '-select_streams',
    `${kind}:0`,
    '-show_entries',
    'packet=size,pts_time,flags',
    '-of',
    'json',
    `file:${file}`,
  ]);
  const list = (JSON.parse(out) as { packets: Array<{ size: string; pts_time: string; flags: string }> })
    .packets;
  return list.map((p) => ({ size: Number(p.size), pts: Number(p.pts_time), key: p.flags.startsWith('K') }));
}

/** ffprobe's field order of the first video stream (`tt`, `progressive`, ...). */
export async function fieldOrder(file: string): Promise<string> {
  return (
    await ffprobe([
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=field_order',
      '-of',
      'csv=p=0',
      `file:${file}`,
    ])
  ).trim();
}
