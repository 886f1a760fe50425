/**
 * End-to-end checks: run a spec through the real pipeline, keep its plan, and hold each output
 * to what it must be (durations within a frame, sizes, streams, codecs) and to what the plan
 * predicted. The media these tests make beyond makeClip: sources.ts; measurements: measure.ts.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type MediaInfo, type Plan, rationalToNumber } from '../../src/core/index.js';
import { makeClip } from '../../src/media/test-support/make-media.js';
import type { JobResult } from '../../src/pipeline/index.js';
import { decodedSeconds, probed } from './measure.js';
import { runSpec, tempRoot } from './pipeline.js';

/** Runs a spec exactly as `mediaforge run` does, keeping the plan it made (what `mediaforge plan` shows). */
export async function runPlanned(spec: unknown, root: string): Promise<{ plan: Plan; result: JobResult }> {
  let plan: Plan | undefined;
  const result = await runSpec(spec, root, {
    onPrepared: (job) => {
      plan = job.plan;
    },
  });
  return { plan: plan!, result };
}

/** The absolute destination of output `index`. */
export function pathOf(plan: Plan, index: number): string {
  const o = plan.outputs.find((x) => x.index === index);
  if (!o) throw new Error(`the plan has no output ${index}`);
  return o.path;
}

/** The streams of a file as `type/codec`, in file order: `'video/h264 audio/aac'`. */
export async function streamsOf(file: string): Promise<string> {
  return (await probed(file)).streams.map((s) => `${s.type}/${s.codec}`).join(' ');
}

/** A new media root holding a 1 s 160x120 clip (h264 + aac, makeClip's) as `in.mp4`. */
export async function rootWithClip(): Promise<{ root: string; src: string }> {
  const root = tempRoot();
  return { root, src: await put(root, await makeClip({ seconds: 1, size: '160x120' }), 'in.mp4') };
}

/** A spec whose outputs all write the input `src` (in.mp4) as it is: `operations: []`. */
export const direct = (
  outputs: ReadonlyArray<{ destination: string; codec?: unknown; format?: string }>,
) => ({
  inputs: [{ id: 'src', source: 'in.mp4' }],
  operations: [],
  outputs: outputs.map((o) => ({ id: 'src', ...o })),
});

/** Puts a made file into the media root under `name`. */
export async function put(root: string, file: string, name: string): Promise<string> {
  await copyFile(file, join(root, name));
  return join(root, name);
}

/** ffprobe's names for the abstract codecs where they differ. */
const PROBED_AUDIO: Readonly<Record<string, string>> = { pcm: 'pcm_s16le' };
const IMAGE_CODECS: Readonly<Record<string, string>> = { jpg: 'mjpeg', png: 'png', webp: 'webp' };

/** Samples in one frame of each audio codec: the most an encoder may pad or trim at the end. */
export const CODEC_FRAME: Readonly<Record<string, number>> = {
  aac: 1024,
  mp3: 1152,
  opus: 960,
  vorbis: 2048,
  flac: 4608,
  pcm_s16le: 1,
};

export const streamOf = (info: MediaInfo, type: 'video' | 'audio') =>
  info.streams.find((s) => s.type === type);

/**
 * Each stream's decoded length is what it must be, within one video frame for video and one codec
 * frame for audio (`audioFrames` more where a container cannot signal the encoder's priming). One
 * number for both, or each its own: FFmpeg 5.1 does not cut the AAC padding at the end of an mp4
 * when decoding, so a 4 s source's audio decodes to 4.011 s, and what follows it (speed) inherits that.
 */
export async function expectDuration(
  file: string,
  seconds: number | { video?: number; audio?: number },
  opts: { audioFrames?: number } = {},
): Promise<void> {
  const want = typeof seconds === 'number' ? { video: seconds, audio: seconds } : seconds;
  const info = await probed(file);
  const v = streamOf(info, 'video');
  const a = streamOf(info, 'audio');
  if (v && want.video !== undefined) {
    const frame = 1 / rationalToNumber(v.fps!);
    const got = await decodedSeconds(file, 'v');
    expect(Math.abs(got - want.video), `video of ${file}: ${got} s`).toBeLessThanOrEqual(frame + 1e-3);
  }
  if (a && want.audio !== undefined) {
    const frame = ((CODEC_FRAME[a.codec] ?? 1024) * (opts.audioFrames ?? 1)) / a.sampleRate!;
    const got = await decodedSeconds(file, 'a');
    expect(Math.abs(got - want.audio), `audio of ${file}: ${got} s`).toBeLessThanOrEqual(frame + 1e-3);
  }
}

/**
 * What the plan said output `index` would hold is what the file holds: the same streams and codecs,
 * frame size, frame rate, sample rate, channels, and duration within one frame (the video decoded;
 * the audio as its container states it, the plan's own source; `sourcePadding` and `audioFrames`
 * widen that by what a source or container adds, see sourcePadding()).
 */
export async function expectAsPlanned(
  plan: Plan,
  index: number,
  opts: { audioFrames?: number; file?: string; sourcePadding?: number } = {},
): Promise<void> {
  const file = opts.file ?? pathOf(plan, index);
  const out = plan.outputs.find((o) => o.index === index)!;
  const want = out.expect;
  const info = await probed(file);
  const v = streamOf(info, 'video');
  const a = streamOf(info, 'audio');
  expect({ video: !!v, audio: !!a }, `streams of ${file}`).toEqual({
    video: !!want.video,
    audio: !!want.audio,
  });
  if (want.video && v) {
    expect({ width: v.width, height: v.height }).toEqual({
      width: want.video.width,
      height: want.video.height,
    });
    if (!out.image) expect(v.fps, `frame rate of ${file}`).toEqual(want.video.fps);
  }
  // The codecs the plan resolved (copy keeps the input's) are the ones written.
  const resolved = { video: out.video?.codec, audio: out.audio?.codec };
  if (out.image) expect(v?.codec).toBe(IMAGE_CODECS[out.format]);
  if (resolved.video) expect(v?.codec).toBe(resolved.video === 'copy' ? want.video?.codec : resolved.video);
  if (resolved.audio)
    expect(a?.codec).toBe(
      resolved.audio === 'copy' ? want.audio?.codec : (PROBED_AUDIO[resolved.audio] ?? resolved.audio),
    );
  if (want.audio && a)
    expect({ sampleRate: a.sampleRate, channels: a.channels }).toEqual({
      sampleRate: want.audio.sampleRate,
      channels: want.audio.channels,
    });
  if (want.duration === null) return;
  if (v) {
    const got = await decodedSeconds(file, 'v');
    const frame = 1 / rationalToNumber(v.fps!);
    expect(Math.abs(got - want.duration), `video of ${file}: ${got} s`).toBeLessThanOrEqual(frame + 1e-3);
  }
  if (a) {
    // The duration the container states, as the plan's came from the input's container. An mp3's
    // header counts the encoder's delay and padding too (2 s reads 2.04 s; probe() corrects it from
    // the last packets): there decoding, the independent measure, tells the length.
    const got = a.codec === 'mp3' ? await decodedSeconds(file, 'a') : (a.duration ?? info.format.duration!);
    const frame = ((CODEC_FRAME[a.codec] ?? 1024) * (opts.audioFrames ?? 1)) / a.sampleRate!;
    const slack = frame + (opts.sourcePadding ?? 0) + 1e-3;
    expect(Math.abs(got - want.duration), `audio of ${file}: ${got} s`).toBeLessThanOrEqual(slack);
  }
}

/**
 * How much longer a source's audio decodes than its container says: FFmpeg 5.1 keeps an mp4's AAC
 * padding (the encoder's last partial frame) though the edit list ends the track before it. The
 * plan goes by the container, so an exact-length output (wav, flac) of such audio is this much longer.
 */
export async function sourcePadding(file: string): Promise<number> {
  const stated = streamOf(await probed(file), 'audio')!.duration!;
  return (await decodedSeconds(file, 'a')) - stated;
}

/** One operation `op` on the input `src` (default in.mp4), written as `out` to `destination` (default out.mp4). */
export function single(
  op: string,
  params: Record<string, unknown>,
  o: { source?: string; destination?: string; codec?: unknown } = {},
) {
  return {
    inputs: [{ id: 'src', source: o.source ?? 'in.mp4' }],
    operations: [{ op, input: 'src', output: 'out', params }],
    outputs: [{ id: 'out', destination: o.destination ?? 'out.mp4', ...(o.codec ? { codec: o.codec } : {}) }],
  };
}
