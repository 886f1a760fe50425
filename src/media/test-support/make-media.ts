/**
 * Real media for tests, made by the real FFmpeg from lavfi sources (testsrc2 + sine), small and
 * short so a test pays tens of milliseconds for it.
 *
 *   const clip = await makeClip({ seconds: 2, size: '320x240' });          // mp4: h264 + aac
 *   const song = await makeClip({ video: false, format: 'mp3' });
 *   const logo = await makeClip({ audio: false, format: 'png' });          // one frame
 *
 * Files go to one temp folder per test process (removed when it exits) unless `dir` is given;
 * the same options give the same file, made once. The FFmpeg used is MEDIAFORGE_FFMPEG or `ffmpeg`.
 * makeFile() and makeExecutable() make the odd ones: a text file named .mp4, a fake ffmpeg.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, stderrSummary } from '../process.js';

export type ClipFormat =
  | 'mp4'
  | 'mkv'
  | 'mov'
  | 'webm'
  | 'ts'
  | 'mp3'
  | 'm4a'
  | 'wav'
  | 'flac'
  | 'png'
  | 'jpg';

export interface ClipOptions {
  /** Default 2. */
  seconds?: number;
  /** WIDTHxHEIGHT, default 320x240. */
  size?: string;
  /** Default 25. */
  fps?: number;
  /** Default true for video containers and pictures. */
  video?: boolean;
  /** Default true, except for pictures. */
  audio?: boolean;
  /** Default mp4. */
  format?: ClipFormat;
  /** Folder to write into; default: this process's temp folder. */
  dir?: string;
  /** File name without extension; default: derived from the options. */
  name?: string;
}

const AUDIO_ONLY = new Set<ClipFormat>(['mp3', 'm4a', 'wav', 'flac']);
const PICTURES = new Set<ClipFormat>(['png', 'jpg']);
const CODECS: Record<ClipFormat, { video?: string[]; audio?: string[] }> = {
  mp4: { video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'], audio: ['-c:a', 'aac'] },
  mov: { video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'], audio: ['-c:a', 'aac'] },
  mkv: {
    video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    audio: ['-c:a', 'libopus'],
  },
  ts: { video: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'], audio: ['-c:a', 'aac'] },
  webm: { video: ['-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '300k'], audio: ['-c:a', 'libopus'] },
  mp3: { audio: ['-c:a', 'libmp3lame'] },
  m4a: { audio: ['-c:a', 'aac'] },
  wav: { audio: ['-c:a', 'pcm_s16le'] },
  flac: { audio: ['-c:a', 'flac'] },
  png: { video: [] },
  jpg: { video: [] },
};

let sharedDir: string | undefined;
const made = new Map<string, Promise<string>>();

/** This process's temp folder for media, removed when the process exits. */
export function mediaTempDir(): string {
  if (!sharedDir) {
    const dir = mkdtempSync(join(tmpdir(), 'mediaforge-test-'));
    sharedDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return sharedDir;
}

export function ffmpegForTests(): string {
  return process.env.MEDIAFORGE_FFMPEG ?? 'ffmpeg';
}

export function makeClip(options: ClipOptions = {}): Promise<string> {
  const format = options.format ?? 'mp4';
  const picture = PICTURES.has(format);
  const video = options.video ?? !AUDIO_ONLY.has(format);
  const audio = options.audio ?? !picture;
  const seconds = options.seconds ?? 2;
  const size = options.size ?? '320x240';
  const fps = options.fps ?? 25;
  if (!video && !audio) throw new Error('makeClip: a clip needs video or audio');
  if (picture && audio) throw new Error(`makeClip: ${format} cannot hold audio`);
  const dir = options.dir ?? mediaTempDir();
  const name = options.name ?? `clip-${seconds}s-${size}-${fps}-${video ? 'v' : ''}${audio ? 'a' : ''}`;
  const file = join(dir, `${name}.${format}`);
  const existing = made.get(file);
  if (existing) return existing;

  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-y'];
  if (video) args.push('-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`);
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`);
  if (video) args.push(...(CODECS[format].video ?? []));
  if (audio) args.push(...(CODECS[format].audio ?? []));
  if (picture) args.push('-frames:v', '1');
  args.push(file);

  const pending = (async () => {
    mkdirSync(dir, { recursive: true });
    const r = await runProcess(ffmpegForTests(), args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`makeClip ${name}.${format} failed: ${stderrSummary(r.stderr)}`);
    return file;
  })();
  made.set(file, pending);
  pending.catch(() => made.delete(file));
  return pending;
}

/** A file with the given content (a text file named .mp4, an empty file...) in the temp folder. */
export function makeFile(name: string, content: string | Uint8Array, dir = mediaTempDir()): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

/**
 * An executable shell script, e.g. a fake `ffmpeg` that prints a version or sleeps forever:
 * `makeExecutable('ffmpeg', 'echo "ffmpeg version 9.9"', join(mediaTempDir(), 'fake-bin'))`.
 * Use `exec` for a long-running command, so that killing the script's pid kills the command.
 */
export function makeExecutable(name: string, body: string, dir = mediaTempDir()): string {
  const file = makeFile(name, `#!/bin/sh\n${body}\n`, dir);
  chmodSync(file, 0o755);
  return file;
}
