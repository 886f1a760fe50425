/**
 * Media the end-to-end tests need beyond makeClip, made once per test process by the real FFmpeg from
 * lavfi sources: plain tones, a tone that steps down, solid quarters, a brightness ramp, a rotated
 * phone video, an MP4 with its cover art first, one with a false frame size, 5.1 audio, interlaced video; and how to read the
 * colours and the ramp back.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runProcess, stderrSummary } from '../../src/media/index.js';
import { ffmpegForTests, makeClip, mediaTempDir } from '../../src/media/test-support/make-media.js';

/** Options without spaces in them, written as one string: `words('-c:v libx264 -preset ultrafast')`. */
const words = (s: string) => s.split(' ');
const H264 = words('-c:v libx264 -preset ultrafast -pix_fmt yuv420p');
const tone = (seconds: number, hz = 440) => `sine=frequency=${hz}:sample_rate=48000:duration=${seconds}`;

const made = new Map<string, Promise<string>>();
/** `name` in this process's media folder, made by FFmpeg with `args` the first time it is asked for. */
function once(name: string, args: string[]): Promise<string> {
  const file = join(mediaTempDir(), name);
  let pending = made.get(file);
  if (!pending) {
    pending = (async () => {
      const r = await runProcess(
        ffmpegForTests(),
        [...words('-hide_banner -nostdin -v error -y'), ...args, file],
        {
          timeoutMs: 60_000,
        },
      );
      if (r.code !== 0) throw new Error(`making ${name} failed: ${stderrSummary(r.stderr)}`);
      return file;
    })();
    made.set(file, pending);
  }
  return pending;
}

/** A sine tone (amplitude 1/8, as makeClip's) alone in an audio file: 48 kHz mono. */
export function makeTone(o: {
  hz: number;
  seconds: number;
  format?: 'mp3' | 'wav' | 'flac';
}): Promise<string> {
  const format = o.format ?? 'wav';
  const codec = { mp3: 'libmp3lame', wav: 'pcm_s16le', flac: 'flac' }[format];
  return once(`tone-${o.hz}-${o.seconds}.${format}`, [
    '-f',
    'lavfi',
    '-i',
    tone(o.seconds, o.hz),
    '-c:a',
    codec,
  ]);
}

/**
 * A 440 Hz tone, loud for 2 s (peaks at -6 dBFS) then 24 dB quieter for 2 s, cut at the sample (48 kHz
 * mono flac): loudness that changes, for telling one gain from another and a part from the whole.
 */
export function makeSteps(): Promise<string> {
  const graph = `${tone(2)},volume=4[a];${tone(2)},volume=0.25[b];[a][b]concat=n=2:v=0:a=1`;
  return once('steps.flac', ['-filter_complex', graph, '-c:a', 'flac']);
}

/**
 * 320x240 h264 of four solid quarters, top-left red, top-right lime, bottom-left blue, bottom-right
 * white, with makeClip's tone: where a picture went after crop/pad/rotate/overlay can be read back.
 */
export function makeQuadrants(seconds = 2): Promise<string> {
  const q = (c: string) => `color=c=${c}:s=160x120:r=25:d=${seconds}`;
  const picture = `${q('red')}[a];${q('lime')}[b];${q('blue')}[c];${q('white')}[d];[a][b][c][d]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0`;
  return once(`quadrants-${seconds}.mp4`, [
    ...['-f', 'lavfi', '-i', picture, '-f', 'lavfi', '-i', tone(seconds)],
    ...H264,
    ...words('-c:a aac'),
  ]);
}

/**
 * 320x240 grey that brightens by 2 code values a frame (Y = 16 + 2n at 25 fps; up to 4.4 s stays
 * under white), with makeClip's tone when `audio`: a picture's level tells which frame it was.
 */
export function makeRamp(seconds = 3, o: { audio?: boolean } = {}): Promise<string> {
  const ramp = `color=c=black:s=320x240:r=25:d=${seconds},geq=lum='16+50*T':cb=128:cr=128`;
  const audio = o.audio ? ['-f', 'lavfi', '-i', tone(seconds), '-c:a', 'aac'] : [];
  return once(`ramp-${seconds}${o.audio ? '-a' : ''}.mp4`, ['-f', 'lavfi', '-i', ramp, ...audio, ...H264]);
}

/**
 * The frame of makeRamp a picture was taken from: its level is that frame's within 1 code value
 * (JPEG's range conversion rounds by 1), half a frame's step, so a neighbour never passes.
 */
export function expectRampFrame(s: { y: number }, frame: number): void {
  expect(Math.abs((s.y - 16) / 2 - frame), `level ${s.y} for frame ${frame}`).toBeLessThanOrEqual(0.5);
}

/**
 * A phone's portrait video: makeClip's 320x240 h264 + aac, stream-copied with a display matrix that
 * turns it a quarter (ffprobe: rotation 90; players and FFmpeg's decoder show 240x320).
 */
export async function makeRotated(seconds = 1): Promise<string> {
  const clip = await makeClip({ seconds });
  return once(`rotated-${seconds}.mp4`, ['-i', clip, ...words('-map 0 -c copy -metadata:s:v:0 rotate=90')]);
}

/**
 * An MP4 whose cover art comes before its video: makeClip's 2 s clip with a PNG attached as a
 * picture, its moov children reordered so udta (where the cover lives) precedes the traks. Same
 * bytes, same moov size: FFmpeg then numbers the cover as the first video stream (`v:0`).
 */
export function makeCoverFirst(): Promise<string> {
  const file = join(mediaTempDir(), 'cover-first.mp4');
  let pending = made.get(file);
  if (!pending) {
    pending = (async () => {
      const withCover = await once('with-cover.mp4', [
        ...['-i', await makeClip({ seconds: 2 })],
        ...['-i', await makeClip({ format: 'png', audio: false, size: '64x64' })],
        ...words('-map 0 -map 1 -c copy -disposition:v:1 attached_pic'),
      ]);
      const b = await readFile(withCover);
      let at = -1;
      let size = 0;
      for (let p = 0; p < b.length; p += b.readUInt32BE(p))
        if (b.toString('latin1', p + 4, p + 8) === 'moov') [at, size] = [p, b.readUInt32BE(p)];
      const kids: Array<[string, Buffer]> = [];
      for (let q = at + 8; q < at + size; q += b.readUInt32BE(q))
        kids.push([b.toString('latin1', q + 4, q + 8), b.subarray(q, q + b.readUInt32BE(q))]);
      const rank = (t: string) => (t === 'mvhd' ? 0 : t === 'udta' ? 1 : 2);
      kids.sort((x, y) => rank(x[0]) - rank(y[0]));
      const moved = [b.subarray(0, at + 8), ...kids.map((k) => k[1]), b.subarray(at + size)];
      await writeFile(file, Buffer.concat(moved));
      return file;
    })();
    made.set(file, pending);
  }
  return pending;
}

/**
 * 1 s of 1920x1080 h264 in an MP4 whose avc1 sample entry says 32x16: a label the muxer writes and
 * FFmpeg's decoder ignores (it sizes pictures from the SPS).
 */
export function makeMislabelled(): Promise<string> {
  const file = join(mediaTempDir(), 'mislabelled.mp4');
  let pending = made.get(file);
  if (!pending) {
    pending = (async () => {
      const b = await readFile(
        await once('full-hd.mp4', [
          ...['-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=25:duration=1'],
          ...H264,
        ]),
      );
      const entry = b.indexOf('avc1', b.indexOf('stsd'));
      b.writeUInt16BE(32, entry + 4 + 24);
      b.writeUInt16BE(16, entry + 4 + 26);
      await writeFile(file, b);
      return file;
    })();
    made.set(file, pending);
  }
  return pending;
}

/** Six-channel (5.1) PCM audio: makeClip's tone, upmixed. */
export function makeSurround(seconds = 2): Promise<string> {
  return once(`surround-${seconds}.wav`, [
    '-f',
    'lavfi',
    '-i',
    tone(seconds),
    ...words('-ac 6 -c:a pcm_s16le'),
  ]);
}

/**
 * Interlaced video as a broadcast would carry it: testsrc2 at 50 frames/s woven into 25 frames/s of
 * two fields each, top field first, encoded interlaced (field_order tt).
 */
export function makeInterlaced(seconds = 2): Promise<string> {
  return once(`interlaced-${seconds}.mp4`, [
    ...['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=50:duration=${seconds}`],
    ...words('-vf tinterlace=mode=interleave_top,setfield=tff -flags +ilme+ildct -top 1'),
    ...H264,
  ]);
}

type Yuv = { y: number; u: number; v: number };
/** Colours as signalstats reads them in limited-range BT.601 YUV. */
export const isRed = (s: Yuv) => s.v > 200 && s.u < 110;
export const isBlue = (s: Yuv) => s.u > 200 && s.v < 130;
export const isWhite = (s: Yuv) => s.y > 225 && Math.abs(s.u - 128) < 6 && Math.abs(s.v - 128) < 6;
