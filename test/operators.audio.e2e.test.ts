/**
 * The sound operators end to end (loudnorm and volume: operators.loudness.e2e.test.ts): trim of an
 * mp3, mix, extract_audio. Which tones are in a mix is read with narrow band-pass filters, levels
 * with volumedetect, lengths by decoding. Sources: makeClip's 440 Hz tone (peaks at -18 dBFS) and tones.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeClip } from '../src/media/test-support/make-media.js';
import {
  expectAsPlanned,
  expectDuration,
  put,
  runPlanned,
  single,
  sourcePadding,
  streamOf,
  streamsOf,
} from './helpers/e2e.js';
import { audioLevels, decodedSeconds, frameCount, frameStats, probed, toneLevel } from './helpers/measure.js';
import { tempRoot } from './helpers/pipeline.js';
import { expectRampFrame, makeRamp, makeSurround, makeTone } from './helpers/sources.js';

const FAST = { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } };

describe('trim, audio only', () => {
  it('mp3 → mp3: [1 s, 3 s) of a 4 s tone, 2 s within one mp3 frame', async () => {
    const root = tempRoot();
    await put(root, await makeTone({ hz: 440, seconds: 4, format: 'mp3' }), 'in.mp3');
    const { plan } = await runPlanned(
      single('trim', { start: 1, duration: 2 }, { source: 'in.mp3', destination: 'out.mp3' }),
      root,
    );
    const out = join(root, 'out.mp3');
    expect(await streamsOf(out)).toBe('audio/mp3');
    await expectDuration(out, 2);
    await expectAsPlanned(plan, 0);
  });
});

describe('mix', () => {
  it('440 Hz (2 s) + 1000 Hz (3 s) → one stream with both; longest 3 s, shortest and first 2 s', async () => {
    const root = tempRoot();
    await put(root, await makeTone({ hz: 440, seconds: 2 }), 'low.wav');
    await put(root, await makeTone({ hz: 1000, seconds: 3 }), 'high.wav');
    const modes = ['longest', 'shortest', 'first'] as const;
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'low', source: 'low.wav' },
          { id: 'high', source: 'high.wav' },
        ],
        operations: modes.map((m) => ({
          op: 'mix',
          inputs: ['low', 'high'],
          output: m,
          params: { duration: m },
        })),
        outputs: modes.map((m) => ({ id: m, destination: `${m}.wav` })),
      },
      root,
    );
    const expected = { longest: 3, shortest: 2, first: 2 };
    for (const [i, m] of modes.entries()) {
      const out = join(root, `${m}.wav`);
      expect(await streamsOf(out)).toBe('audio/pcm_s16le');
      await expectDuration(out, expected[m]);
      await expectAsPlanned(plan, i);
    }
    const longest = join(root, 'longest.wav');
    const first = { from: 0.5, to: 1.5 };
    const last = { from: 2.2, to: 2.8 };
    // Both tones in the first seconds; after 2 s only the 1000 Hz one goes on.
    expect(await toneLevel(longest, 440, first)).toBeGreaterThan(-35);
    expect(await toneLevel(longest, 1000, first)).toBeGreaterThan(-35);
    expect(await toneLevel(longest, 1000, last)).toBeGreaterThan(-35);
    expect(await toneLevel(longest, 440, last)).toBeLessThan(-60);
  });

  it("passes the first input's video through, cut where a shortest mix ends", async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 3 }), 'clip.mp4');
    await put(root, await makeTone({ hz: 1000, seconds: 2 }), 'tone.wav');
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'clip', source: 'clip.mp4' },
          { id: 'tone', source: 'tone.wav' },
        ],
        operations: [
          { op: 'mix', inputs: ['clip', 'tone'], output: 'out', params: { duration: 'shortest' } },
        ],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    expect(await streamsOf(out)).toBe('video/h264 audio/aac');
    expect(await frameCount(out)).toBe(50);
    await expectDuration(out, 2);
    await expectAsPlanned(plan, 0);
  });

  it("holds the first input's last frame while a longer mix goes on (longest)", async () => {
    const root = tempRoot();
    await put(root, await makeRamp(2, { audio: true }), 'clip.mp4');
    await put(root, await makeTone({ hz: 1000, seconds: 3 }), 'tone.wav');
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'clip', source: 'clip.mp4' },
          { id: 'tone', source: 'tone.wav' },
        ],
        operations: [{ op: 'mix', inputs: ['clip', 'tone'], output: 'out' }],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    // The mix lasts 3 s, and so does the picture: 75 frames, the last 25 the clip's last one (49) held.
    const frames = await frameStats(out);
    expect(frames).toHaveLength(75);
    for (const k of [0, 49, 50, 74]) expectRampFrame(frames[k]!, Math.min(k, 49));
    await expectDuration(out, 3);
    await expectAsPlanned(plan, 0);
  });

  it("written with audio none: only the first input's video, held as long as the mix", async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 2 }), 'clip.mp4');
    await put(root, await makeTone({ hz: 1000, seconds: 3 }), 'tone.wav');
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'clip', source: 'clip.mp4' },
          { id: 'tone', source: 'tone.wav' },
        ],
        operations: [{ op: 'mix', inputs: ['clip', 'tone'], output: 'out' }],
        outputs: [
          { id: 'out', destination: 'out.mp4', codec: { video: FAST.video, audio: { codec: 'none' } } },
        ],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    expect(await streamsOf(out)).toBe('video/h264');
    expect(await frameCount(out)).toBe(75);
    await expectAsPlanned(plan, 0);
  });
});

describe('extract_audio', () => {
  it('writes the audio alone to mp3, m4a, wav and flac', async () => {
    const root = tempRoot();
    const src = await put(root, await makeClip({ seconds: 2 }), 'in.mp4');
    const formats = [
      ['mp3', 'mp3'],
      ['m4a', 'aac'],
      ['wav', 'pcm_s16le'],
      ['flac', 'flac'],
    ] as const;
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [{ op: 'extract_audio', input: 'src', output: 'sound' }],
        outputs: formats.map(([ext]) => ({ id: 'sound', destination: `sound.${ext}` })),
      },
      root,
    );
    // What the source's audio decodes to (2 s and its AAC padding), re-encoded: within a frame of that.
    const audio = await decodedSeconds(src, 'a');
    const padding = await sourcePadding(src);
    expect(padding).toBeLessThan(1024 / 48000);
    for (const [i, [ext, codec]] of formats.entries()) {
      const out = join(root, `sound.${ext}`);
      expect(await streamsOf(out)).toBe(`audio/${codec}`);
      expect(streamOf(await probed(out), 'audio')).toMatchObject({ sampleRate: 48000, channels: 1 });
      await expectDuration(out, audio);
      await expectAsPlanned(plan, i, { sourcePadding: padding });
    }
  });
});

it('5.1 audio to mp3: the plan predicts the channels the file gets', async () => {
  const root = tempRoot();
  await put(root, await makeSurround(2), 'in.wav');
  const { plan } = await runPlanned(
    single('extract_audio', {}, { source: 'in.wav', destination: 'out.mp3' }),
    root,
  );
  expect(streamOf(await probed(join(root, 'out.mp3')), 'audio')!.channels).toBe(2);
  await expectAsPlanned(plan, 0);
});

/*
 * An mp3's header states all its frames (a 2 s tone reads 2.04 s) while decoding drops the encoder's
 * delay and padding: probe() takes an mp3's length from its last packets (core/ffmpeg/ffprobe-parse).
 * Were it 40 ms long, a concat of three would say 4.104 s for 4 s, and a fade out would be placed to
 * end 40 ms after the sound does, stopping 19 dB below full level instead of in silence.
 */
describe('mp3 inputs are as long as what they hold', () => {
  it('mp3 → wav: the plan says 2 s', async () => {
    const root = tempRoot();
    await put(root, await makeTone({ hz: 440, seconds: 2, format: 'mp3' }), 'in.mp3');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp3' }],
        operations: [],
        outputs: [{ id: 'src', destination: 'out.wav' }],
      },
      root,
    );
    await expectDuration(join(root, 'out.wav'), 2);
    await expectAsPlanned(plan, 0);
  });

  it('a fade out of an mp3 ends in silence', async () => {
    const root = tempRoot();
    await put(root, await makeTone({ hz: 440, seconds: 2, format: 'mp3' }), 'in.mp3');
    await runPlanned(single('fade', { out: 0.5 }, { source: 'in.mp3', destination: 'out.flac' }), root);
    const out = join(root, 'out.flac');
    const full = await audioLevels(out, { from: 0.5, to: 1.4 });
    // The last 20 ms of a 0.5 s fade are at most 4 % of full: 28 dB down.
    expect((await audioLevels(out, { from: 1.98, to: 2 })).max).toBeLessThan(full.max - 25);
  });
});
