/**
 * Loudness and gain end to end, measured as an engineer would: integrated loudness by a real EBU R128
 * pass (ffmpeg's ebur128), levels by volumedetect. Sources: makeClip's 440 Hz tone (about -21 LUFS)
 * and a tone that steps down 24 dB halfway (loud 2 s, quiet 2 s).
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
  streamOf,
  streamsOf,
} from './helpers/e2e.js';
import { audioLevels, frameCount, integratedLoudness, probed } from './helpers/measure.js';
import { tempRoot } from './helpers/pipeline.js';
import { makeSteps, makeTone } from './helpers/sources.js';

const FAST = { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } };
const LOUD = { from: 0.5, to: 1.5 };
const QUIET = { from: 2.5, to: 3.5 };

describe('loudnorm', () => {
  // -16 asks for some 5 LU more than the source has, well beyond the ±1 LU checked.
  it('single pass (dynamic) brings a 4 s tone to -16 LUFS ±1; the video passes through', async () => {
    const root = tempRoot();
    const src = await put(root, await makeClip({ seconds: 4 }), 'in.mp4');
    const { plan } = await runPlanned(single('loudnorm', { integrated: -16 }, { codec: FAST }), root);
    const out = join(root, 'out.mp4');
    expect(await integratedLoudness(src)).toBeLessThan(-20);
    expect(Math.abs((await integratedLoudness(out)) - -16)).toBeLessThanOrEqual(1);
    expect(await frameCount(out)).toBe(100);
    expect(streamOf(await probed(out), 'audio')).toMatchObject({ sampleRate: 48000, channels: 1 });
    await expectAsPlanned(plan, 0);
  });

  it('two_pass measures first, then applies one gain: -20 LUFS ±1, the 24 dB step kept', async () => {
    const root = tempRoot();
    const src = await put(root, await makeSteps(), 'in.flac');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.flac' }],
        operations: [
          { op: 'loudnorm', input: 'src', output: 'linear', params: { integrated: -20, two_pass: true } },
        ],
        outputs: [{ id: 'linear', destination: 'linear.m4a' }],
      },
      root,
    );
    expect(plan.tasks.map((t) => t.kind)).toEqual(['measure', 'transcode']);
    const out = join(root, 'linear.m4a');
    expect(await streamsOf(out)).toBe('audio/aac');
    expect(await integratedLoudness(src)).toBeGreaterThan(-12);
    expect(Math.abs((await integratedLoudness(out)) - -20)).toBeLessThanOrEqual(1);
    const step = async (file: string) =>
      (await audioLevels(file, LOUD)).mean - (await audioLevels(file, QUIET)).mean;
    expect(await step(src)).toBeCloseTo(24, 0);
    expect(await step(out)).toBeCloseTo(24, 0); // linear: one gain for the whole file
    await expectAsPlanned(plan, 0);
  });

  it('two_pass measures what it normalises: after a trim, the quiet half alone', async () => {
    const root = tempRoot();
    await put(root, await makeSteps(), 'in.flac');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.flac' }],
        operations: [
          { op: 'trim', input: 'src', output: 'quiet', params: { start: 2 } },
          { op: 'loudnorm', input: 'quiet', output: 'out', params: { two_pass: true } },
        ],
        outputs: [{ id: 'out', destination: 'out.flac' }],
      },
      root,
    );
    // Measured over the whole file (about -10 LUFS), the gain would leave the quiet half near -46.
    expect(Math.abs((await integratedLoudness(join(root, 'out.flac'))) - -23)).toBeLessThanOrEqual(1);
    await expectDuration(join(root, 'out.flac'), 2);
    await expectAsPlanned(plan, 0);
  });
});

describe('volume', () => {
  it('gain_db +6 raises the mean level by 6 dB; the video is untouched', async () => {
    const root = tempRoot();
    const src = await put(root, await makeClip({ seconds: 2 }), 'in.mp4');
    const { plan } = await runPlanned(single('volume', { gain_db: 6 }, { codec: FAST }), root);
    const out = join(root, 'out.mp4');
    const gain = (await audioLevels(out)).mean - (await audioLevels(src)).mean;
    expect(gain).toBeGreaterThan(5.5);
    expect(gain).toBeLessThan(6.5);
    expect(await frameCount(out)).toBe(50);
    await expectAsPlanned(plan, 0);
  });

  it('factor 0.5 on a wav halves the amplitude: -6.02 dB, exactly in PCM', async () => {
    const root = tempRoot();
    const src = await put(root, await makeTone({ hz: 440, seconds: 2 }), 'in.wav');
    const { plan } = await runPlanned(
      single('volume', { factor: 0.5 }, { source: 'in.wav', destination: 'out.wav' }),
      root,
    );
    const out = join(root, 'out.wav');
    expect(await streamsOf(out)).toBe('audio/pcm_s16le');
    expect((await audioLevels(out)).mean - (await audioLevels(src)).mean).toBeCloseTo(-6.02, 1);
    await expectDuration(out, 2);
    await expectAsPlanned(plan, 0);
  });
});
