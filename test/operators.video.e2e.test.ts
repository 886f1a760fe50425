/**
 * The picture operators end to end: each spec runs through the real pipeline (what `mediaforge run`
 * does) and the outputs are decoded back. Durations within one frame, exact frame counts and sizes,
 * where the picture went (read from a source of solid quarters), and the plan's prediction = the file.
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
import {
  decodedSeconds,
  fieldDetection,
  fieldOrder,
  frameCount,
  frameStats,
  probed,
} from './helpers/measure.js';
import { ffmpegAtLeast, tempRoot } from './helpers/pipeline.js';
import {
  expectRampFrame,
  isBlue,
  isRed,
  isWhite,
  makeInterlaced,
  makeQuadrants,
  makeRamp,
} from './helpers/sources.js';

/** The bundled FFmpeg 4.1's fps and bwdif end a frame or two off at the end of a stream: counts are exact from 5. */
const FRAME_EXACT = await ffmpegAtLeast(5);

const FAST = { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } };
const VIDEO_ONLY = { video: { codec: 'h264', preset: 'ultrafast' } };

/** One operation on in.mp4, written to out.mp4 as h264 + aac (or `codec`). */
const one = (op: string, params: Record<string, unknown>, codec: unknown = FAST) =>
  single(op, params, { codec });

/** The average colour of a region of the first frame. */
async function regionAt(file: string, x: number, y: number, w = 20, h = 20) {
  return (await frameStats(file, { x, y, w, h }))[0]!;
}

describe('trim', () => {
  // The ramp's level says which source frame a picture is: frame n has Y = 16 + 2n.
  it('keeps [1 s, 3 s) of video and audio: 50 frames, source frames 25 … 74, 2 s', async () => {
    const root = tempRoot();
    await put(root, await makeRamp(4, { audio: true }), 'in.mp4');
    const { plan } = await runPlanned(one('trim', { start: '00:00:01', duration: 2 }), root);
    const out = join(root, 'out.mp4');
    expect(await streamsOf(out)).toBe('video/h264 audio/aac');
    const frames = await frameStats(out);
    expect(frames).toHaveLength(50);
    expectRampFrame(frames[0]!, 25);
    expectRampFrame(frames[49]!, 74);
    await expectDuration(out, 2);
    await expectAsPlanned(plan, 0);
  });

  it('with end instead of duration, between frames: the frames at 2.00 … 3.48 s', async () => {
    const root = tempRoot();
    await put(root, await makeRamp(4, { audio: true }), 'in.mp4');
    const { plan } = await runPlanned(one('trim', { start: 2, end: '00:00:03.5' }), root);
    const frames = await frameStats(join(root, 'out.mp4'));
    expect(frames).toHaveLength(38);
    expectRampFrame(frames[0]!, 50);
    expectRampFrame(frames[37]!, 87);
    await expectDuration(join(root, 'out.mp4'), 1.5);
    await expectAsPlanned(plan, 0);
  });
});

describe('scale', () => {
  const cases: Array<[string, Record<string, unknown>, [number, number]]> = [
    ['width only keeps the aspect', { width: 160 }, [160, 120]],
    ['height only keeps the aspect, even width', { height: 100 }, [134, 100]],
    ['both sides stretch (fill)', { width: 200, height: 100 }, [200, 100]],
    ['contain fits inside 200x200', { width: 200, height: 200, fit: 'contain' }, [200, 150]],
    ['cover fills 200x200 and crops', { width: 200, height: 200, fit: 'cover' }, [200, 200]],
  ];
  it.each(cases)('%s', async (_name, params, [width, height]) => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 1 }), 'in.mp4');
    const { plan } = await runPlanned(one('scale', params), root);
    const v = streamOf(await probed(join(root, 'out.mp4')), 'video')!;
    expect([v.width, v.height]).toEqual([width, height]);
    expect(await frameCount(join(root, 'out.mp4'))).toBe(25);
    await expectAsPlanned(plan, 0);
  });

  it('accepts every algorithm, six renditions from one decode', async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 1 }), 'in.mp4');
    const algorithms = ['bicubic', 'bilinear', 'lanczos', 'neighbor', 'area', 'spline'];
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: algorithms.map((a) => ({
          op: 'scale',
          input: 'src',
          output: a,
          params: { width: 96, algorithm: a },
        })),
        outputs: algorithms.map((a) => ({ id: a, destination: `${a}.mp4`, codec: FAST })),
      },
      root,
    );
    expect(plan.tasks.filter((t) => t.kind === 'transcode')).toHaveLength(1);
    for (const [i, a] of algorithms.entries()) {
      expect(streamOf(await probed(join(root, `${a}.mp4`)), 'video')).toMatchObject({
        width: 96,
        height: 72,
      });
      await expectAsPlanned(plan, i);
    }
  });
});

describe('crop', () => {
  it('at an anchor: the top-left 160x120 of the quarters is all red', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(), 'in.mp4');
    const { plan } = await runPlanned(one('crop', { width: 160, height: 120, position: 'top-left' }), root);
    const out = join(root, 'out.mp4');
    expect(streamOf(await probed(out), 'video')).toMatchObject({ width: 160, height: 120 });
    expect(isRed((await frameStats(out))[0]!)).toBe(true);
    await expectAsPlanned(plan, 0);
  });

  it('at x:y: 160x120 from 80,60 holds a part of each quarter in its own corner', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(), 'in.mp4');
    const { plan } = await runPlanned(one('crop', { width: 160, height: 120, x: 80, y: 60 }), root);
    const out = join(root, 'out.mp4');
    expect(isRed(await regionAt(out, 10, 10))).toBe(true);
    expect(isBlue(await regionAt(out, 10, 90))).toBe(true);
    expect(isWhite(await regionAt(out, 130, 90))).toBe(true);
    await expectAsPlanned(plan, 0);
  });
});

describe('pad', () => {
  it('to 400x300 in red, picture at the top-left: red borders right and below only', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(), 'in.mp4');
    const { plan } = await runPlanned(
      one('pad', { width: 400, height: 300, colour: 'red', position: 'top-left' }),
      root,
    );
    const out = join(root, 'out.mp4');
    expect(streamOf(await probed(out), 'video')).toMatchObject({ width: 400, height: 300 });
    expect(isRed(await regionAt(out, 350, 150))).toBe(true); // right border
    expect(isRed(await regionAt(out, 200, 260))).toBe(true); // bottom border
    expect(isWhite(await regionAt(out, 280, 200))).toBe(true); // the picture's white quarter, unmoved
    expect(isBlue(await regionAt(out, 10, 200))).toBe(true);
    await expectAsPlanned(plan, 0);
  });

  it('centred by default, in black: the picture starts at 40,30', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(), 'in.mp4');
    const { plan } = await runPlanned(one('pad', { width: 400, height: 300 }), root);
    const out = join(root, 'out.mp4');
    expect((await regionAt(out, 10, 10)).y).toBeLessThan(20);
    expect(isRed(await regionAt(out, 42, 32))).toBe(true);
    await expectAsPlanned(plan, 0);
  });
});

describe('fps', () => {
  it('25 → 10 fps keeps the duration: 4 s gives 40 frames', async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 4 }), 'in.mp4');
    const { plan } = await runPlanned(one('fps', { fps: 10 }), root);
    const out = join(root, 'out.mp4');
    expect(await frameCount(out)).toBe(40);
    expect(streamOf(await probed(out), 'video')!.fps).toEqual({ num: 10, den: 1 });
    await expectDuration(out, 4);
    await expectAsPlanned(plan, 0);
  });
});

describe('rotate', () => {
  it('90° clockwise swaps the size and takes the red top-left quarter to the top-right', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(), 'in.mp4');
    const { plan } = await runPlanned(one('rotate', { angle: 90 }), root);
    const out = join(root, 'out.mp4');
    expect(streamOf(await probed(out), 'video')).toMatchObject({ width: 240, height: 320 });
    expect(isRed(await regionAt(out, 180, 40))).toBe(true);
    expect(isBlue(await regionAt(out, 40, 40))).toBe(true);
    await expectAsPlanned(plan, 0);
  });

  it('180° keeps the size and takes red to the bottom-right', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(), 'in.mp4');
    const { plan } = await runPlanned(one('rotate', { angle: 180 }), root);
    const out = join(root, 'out.mp4');
    expect(streamOf(await probed(out), 'video')).toMatchObject({ width: 320, height: 240 });
    expect(isRed(await regionAt(out, 260, 180))).toBe(true);
    expect(isWhite(await regionAt(out, 40, 40))).toBe(true);
    await expectAsPlanned(plan, 0);
  });
});

describe('speed', () => {
  it('2× plays 4 s in 2 s: 50 frames at the same 25 fps, every other source frame, audio as long', async () => {
    const root = tempRoot();
    const src = await put(root, await makeRamp(4, { audio: true }), 'in.mp4');
    const { plan } = await runPlanned(one('speed', { factor: 2 }), root);
    const out = join(root, 'out.mp4');
    const frames = await frameStats(out);
    expect(frames).toHaveLength(50);
    for (const k of [0, 10, 49]) expectRampFrame(frames[k]!, 2 * k);
    expect(streamOf(await probed(out), 'video')!.fps).toEqual({ num: 25, den: 1 });
    // The source's audio decodes to 4.011 s (its AAC padding stays, see expectDuration): half of that.
    await expectDuration(out, { video: 2, audio: (await decodedSeconds(src, 'a')) / 2 });
    await expectAsPlanned(plan, 0);
  });

  it.skipIf(!FRAME_EXACT)('0.5× plays 2 s in 4 s: each source frame twice (FFmpeg ≥ 5)', async () => {
    const root = tempRoot();
    const src = await put(root, await makeRamp(2, { audio: true }), 'in.mp4');
    const { plan } = await runPlanned(one('speed', { factor: 0.5 }), root);
    const out = join(root, 'out.mp4');
    const frames = await frameStats(out);
    expect(frames).toHaveLength(100);
    for (const k of [0, 1, 2, 51, 99]) expectRampFrame(frames[k]!, Math.floor(k / 2));
    await expectDuration(out, { video: 4, audio: (await decodedSeconds(src, 'a')) * 2 });
    await expectAsPlanned(plan, 0);
  });
});

describe('deinterlace', () => {
  it('frame mode: same 25 fps and frame count, and the fields no longer show', async () => {
    const root = tempRoot();
    await put(root, await makeInterlaced(2), 'in.mp4');
    const before = await fieldDetection(join(root, 'in.mp4'));
    expect(before.tff).toBeGreaterThan(40); // the source really is interlaced
    const { plan } = await runPlanned(one('deinterlace', {}, VIDEO_ONLY), root);
    const out = join(root, 'out.mp4');
    expect(await frameCount(out)).toBe(50);
    expect(await fieldOrder(out)).toBe('progressive');
    const after = await fieldDetection(out);
    expect(after.progressive).toBeGreaterThan(40);
    await expectAsPlanned(plan, 0);
  });

  it.skipIf(!FRAME_EXACT)(
    'field mode doubles the rate: 50 fps, 100 frames over the same 2 s (FFmpeg ≥ 5)',
    async () => {
      const root = tempRoot();
      await put(root, await makeInterlaced(2), 'in.mp4');
      const { plan } = await runPlanned(one('deinterlace', { mode: 'field' }, VIDEO_ONLY), root);
      const out = join(root, 'out.mp4');
      expect(await frameCount(out)).toBe(100);
      expect(streamOf(await probed(out), 'video')!.fps).toEqual({ num: 50, den: 1 });
      await expectDuration(out, 2);
      await expectAsPlanned(plan, 0);
    },
  );
});
