/**
 * Operators that combine or change pictures over time, end to end: overlay (still and video
 * watermarks, opacity, a time window), concat (unequal inputs, a silent one), fade. What they did
 * is read back from the frames: the main video is four solid quarters, so a watermark or a fade
 * shows as a change of level where nothing else moves.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeClip } from '../src/media/test-support/make-media.js';
import { expectAsPlanned, expectDuration, put, runPlanned, streamOf } from './helpers/e2e.js';
import { audioLevels, decodedSeconds, frameCount, frameStats, probed } from './helpers/measure.js';
import { tempRoot } from './helpers/pipeline.js';
import { isRed, isWhite, makeQuadrants } from './helpers/sources.js';

const FAST = { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } };
/** The frame shown at `t` (a frame time at 25 fps: a multiple of 0.04). */
const at = <T extends { pts: number }>(frames: T[], t: number): T => {
  const f = frames.find((x) => Math.abs(x.pts - t) < 0.005);
  if (!f) throw new Error(`no frame at ${t} s`);
  return f;
};

describe('overlay', () => {
  // The 64x48 mark at bottom-right with a 10 px margin sits at 246,182 on the white quarter.
  const MARK = { x: 252, y: 188, w: 48, h: 32 };

  it('a PNG at bottom-right with a margin; opacity 0.5 blends halfway; it stays to the end', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(2), 'main.mp4');
    await put(root, await makeClip({ format: 'png', audio: false, size: '64x48' }), 'logo.png');
    const params = { position: 'bottom-right', margin: 10 };
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'main', source: 'main.mp4' },
          { id: 'logo', source: 'logo.png' },
        ],
        operations: [
          { op: 'overlay', inputs: ['main', 'logo'], output: 'solid', params },
          { op: 'overlay', inputs: ['main', 'logo'], output: 'half', params: { ...params, opacity: 0.5 } },
        ],
        outputs: [
          { id: 'solid', destination: 'solid.mp4', codec: FAST },
          { id: 'half', destination: 'half.mp4', codec: FAST },
        ],
      },
      root,
    );
    const solid = await frameStats(join(root, 'solid.mp4'), MARK);
    const half = await frameStats(join(root, 'half.mp4'), MARK);
    expect(solid).toHaveLength(50);
    // testsrc2's picture is far darker than white; half opacity lands midway between it and white (235).
    expect(solid[0]!.y).toBeLessThan(180);
    expect(half[0]!.y).toBeCloseTo((solid[0]!.y + 235) / 2, -1);
    expect(Math.abs(solid[49]!.y - solid[0]!.y)).toBeLessThan(40); // still there on the last frame
    // Its right and bottom edges sit 10 px from the frame's: its last columns and rows are picture,
    // the 10 px beyond them the main's white.
    const strip = async (x: number, y: number, w: number, h: number) =>
      isWhite((await frameStats(join(root, 'solid.mp4'), { x, y, w, h }))[0]!);
    expect([await strip(304, 190, 4, 36), await strip(250, 224, 56, 4)]).toEqual([false, false]);
    expect([await strip(310, 150, 10, 90), await strip(200, 230, 120, 10)]).toEqual([true, true]);
    for (const f of ['solid.mp4', 'half.mp4']) await expectDuration(join(root, f), 2);
    await expectAsPlanned(plan, 0);
    await expectAsPlanned(plan, 1);
  });

  it('in a time window: shown from 1 s to 2 s only', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(3), 'main.mp4');
    await put(root, await makeClip({ format: 'png', audio: false, size: '64x48' }), 'logo.png');
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'main', source: 'main.mp4' },
          { id: 'logo', source: 'logo.png' },
        ],
        operations: [
          { op: 'overlay', inputs: ['main', 'logo'], output: 'out', params: { start: 1, end: 2 } },
        ],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const frames = await frameStats(join(root, 'out.mp4'), MARK);
    expect(isWhite(at(frames, 0.6))).toBe(true);
    expect(isWhite(at(frames, 1.4))).toBe(false);
    expect(isWhite(at(frames, 2.4))).toBe(true);
    await expectAsPlanned(plan, 0);
  });

  it('a 1 s video watermark plays once over a 3 s main, which keeps its length', async () => {
    const root = tempRoot();
    await put(root, await makeQuadrants(3), 'main.mp4');
    await put(root, await makeClip({ seconds: 1, size: '80x60', audio: false }), 'mark.mp4');
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'main', source: 'main.mp4' },
          { id: 'mark', source: 'mark.mp4' },
        ],
        operations: [
          { op: 'overlay', inputs: ['main', 'mark'], output: 'out', params: { position: 'top-left' } },
        ],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    const frames = await frameStats(out, { x: 20, y: 20, w: 60, h: 40 });
    expect(isRed(at(frames, 0.4))).toBe(false);
    expect(isRed(at(frames, 2))).toBe(true); // the mark ended; the red quarter shows again
    expect(await frameCount(out)).toBe(75);
    await expectDuration(out, 3);
    await expectAsPlanned(plan, 0);
  });
});

describe('concat', () => {
  it("joins 320x240@25 (2 s) and 160x120@30 (1 s) at the first's size and rate: 3 s, 75 frames", async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 2 }), 'a.mp4');
    await put(root, await makeClip({ seconds: 1, size: '160x120', fps: 30 }), 'b.mp4');
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'a', source: 'a.mp4' },
          { id: 'b', source: 'b.mp4' },
        ],
        operations: [{ op: 'concat', inputs: ['a', 'b'], output: 'out' }],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    const info = await probed(out);
    expect(streamOf(info, 'video')).toMatchObject({ width: 320, height: 240, fps: { num: 25, den: 1 } });
    expect(streamOf(info, 'audio')).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 2 });
    expect(await frameCount(out)).toBe(75);
    // Each source's audio decodes a little past its video (AAC padding FFmpeg 5.1 keeps): the sum of both.
    const audio =
      (await decodedSeconds(join(root, 'a.mp4'), 'a')) + (await decodedSeconds(join(root, 'b.mp4'), 'a'));
    await expectDuration(out, { video: 3, audio });
    await expectAsPlanned(plan, 0);
  });

  it('fills an input without audio with silence as long as its video', async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 2 }), 'a.mp4');
    await put(root, await makeClip({ seconds: 1, audio: false }), 'b.mp4');
    const { plan } = await runPlanned(
      {
        inputs: [
          { id: 'a', source: 'a.mp4' },
          { id: 'b', source: 'b.mp4' },
        ],
        operations: [{ op: 'concat', inputs: ['a', 'b'], output: 'out' }],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    expect(await frameCount(out)).toBe(75);
    const audio = (await decodedSeconds(join(root, 'a.mp4'), 'a')) + 1;
    await expectDuration(out, { video: 3, audio });
    // The tone: -18 dBFS peaks, -21 once spread from mono to stereo (FFmpeg's -3 dB centre mix).
    expect((await audioLevels(out, { from: 0.5, to: 1.5 })).max).toBeGreaterThan(-22);
    expect((await audioLevels(out, { from: 2.2, to: 2.9 })).max).toBeLessThan(-80); // the silence
    await expectAsPlanned(plan, 0);
  });
});

describe('fade', () => {
  it('in and out over 1 s: black first and last frames, silent first and last 50 ms', async () => {
    const root = tempRoot();
    const src = await put(root, await makeClip({ seconds: 3 }), 'in.mp4');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [{ op: 'fade', input: 'src', output: 'out', params: { in: 1, out: 1 } }],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    const frames = await frameStats(out);
    const source = await frameStats(src);
    expect(frames).toHaveLength(75);
    expect(frames[0]!.y).toBeLessThan(20); // limited-range black is 16
    expect(frames[74]!.y).toBeLessThan(25); // 1/25 of the way back from black
    expect(frames[37]!.y).toBeCloseTo(source[37]!.y, -1); // untouched in the middle
    const middle = await audioLevels(out, { from: 1.2, to: 1.8 });
    expect((await audioLevels(out, { from: 0, to: 0.05 })).max).toBeLessThan(middle.max - 25);
    expect((await audioLevels(out, { from: 2.95, to: 3 })).max).toBeLessThan(middle.max - 25);
    await expectDuration(out, { video: 3, audio: await decodedSeconds(src, 'a') });
    await expectAsPlanned(plan, 0);
  });

  it('from white, video only: the first frame is white and the audio starts at full level', async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 2 }), 'in.mp4');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [
          { op: 'fade', input: 'src', output: 'out', params: { in: 1, audio: false, colour: 'white' } },
        ],
        outputs: [{ id: 'out', destination: 'out.mp4', codec: FAST }],
      },
      root,
    );
    const out = join(root, 'out.mp4');
    expect(isWhite((await frameStats(out))[0]!)).toBe(true);
    expect((await audioLevels(out, { from: 0, to: 0.05 })).max).toBeGreaterThan(-20);
    expect(streamOf(await probed(out), 'video')!.pixFmt).toBe('yuv420p');
    await expectAsPlanned(plan, 0);
  });
});
