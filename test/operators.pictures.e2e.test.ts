/**
 * Pictures out of video, end to end: a thumbnail in each picture format, a numbered series, a sprite
 * sheet and the WebVTT track that points into it. The pictures are decoded back (codec, size,
 * one frame each), and the track is parsed and held to the sheet.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeClip } from '../src/media/test-support/make-media.js';
import { expectAsPlanned, put, runPlanned, streamOf } from './helpers/e2e.js';
import { frameCount, frameStats, probed } from './helpers/measure.js';
import { listFiles, tempRoot } from './helpers/pipeline.js';
import { expectRampFrame, makeRamp } from './helpers/sources.js';

async function picture(file: string) {
  const v = streamOf(await probed(file), 'video')!;
  return { codec: v.codec, width: v.width, height: v.height, frames: await frameCount(file) };
}

describe('thumbnail', () => {
  it('at 1.5 s, 160 wide: one picture each in jpg, png and webp', async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 3 }), 'in.mp4');
    const formats = [
      ['jpg', 'mjpeg'],
      ['png', 'png'],
      ['webp', 'webp'],
    ] as const;
    const { plan, result } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [{ op: 'thumbnail', input: 'src', output: 'thumb', params: { at: 1.5, width: 160 } }],
        outputs: formats.map(([ext]) => ({ id: 'thumb', destination: `thumb.${ext}` })),
      },
      root,
    );
    for (const [i, [ext, codec]] of formats.entries()) {
      expect(await picture(join(root, `thumb.${ext}`))).toEqual({
        codec,
        width: 160,
        height: 120,
        frames: 1,
      });
      expect(result.outputs[i]!.files).toEqual([join(root, `thumb.${ext}`)]);
      await expectAsPlanned(plan, i);
    }
    expect(listFiles(root)).toEqual(['in.mp4', 'thumb.jpg', 'thumb.png', 'thumb.webp']);
  });

  it('takes the frame at `at` (frame 50 at 2 s), not the first one', async () => {
    const root = tempRoot();
    await put(root, await makeRamp(3), 'in.mp4');
    await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [{ op: 'thumbnail', input: 'src', output: 'thumb', params: { at: 2 } }],
        outputs: [{ id: 'thumb', destination: 'thumb.jpg' }],
      },
      root,
    );
    expectRampFrame((await frameStats(join(root, 'thumb.jpg')))[0]!, 50);
  });

  it('every 1 s of a 4 s clip: name-0001.jpg … name-0004.jpg, one picture each', async () => {
    const root = tempRoot();
    await put(root, await makeRamp(4), 'in.mp4');
    const { plan, result } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [{ op: 'thumbnail', input: 'src', output: 'thumbs', params: { every: 1, width: 96 } }],
        outputs: [{ id: 'thumbs', destination: 'shots/name.jpg' }],
      },
      root,
    );
    const names = ['name-0001.jpg', 'name-0002.jpg', 'name-0003.jpg', 'name-0004.jpg'];
    expect(listFiles(root)).toEqual(['in.mp4', ...names.map((n) => `shots/${n}`)]);
    expect(result.outputs[0]!.files).toEqual(names.map((n) => join(root, 'shots', n)));
    expect(plan.outputs[0]!.image).toEqual({ frames: 4 });
    for (const [i, n] of names.entries()) {
      const file = join(root, 'shots', n);
      expect(await picture(file)).toEqual({ codec: 'mjpeg', width: 96, height: 72, frames: 1 });
      expectRampFrame((await frameStats(file))[0]!, 25 * i); // the frames at 0, 1, 2, 3 s
    }
    await expectAsPlanned(plan, 0, { file: join(root, 'shots', names[0]!) });
  });
});

describe('sprite', () => {
  interface Cue {
    start: number;
    end: number;
    url: string;
    x: number;
    y: number;
    w: number;
    h: number;
  }
  const seconds = (t: string) => {
    const [h, m, s] = t.split(':');
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  };
  function parseVtt(text: string): Cue[] {
    expect(text.startsWith('WEBVTT\n')).toBe(true);
    const re = /^(\d+:\d\d:\d\d\.\d{3}) --> (\d+:\d\d:\d\d\.\d{3})\n(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/gm;
    return [...text.matchAll(re)].map((m) => ({
      start: seconds(m[1]!),
      end: seconds(m[2]!),
      url: m[3]!,
      x: Number(m[4]),
      y: Number(m[5]),
      w: Number(m[6]),
      h: Number(m[7]),
    }));
  }

  it('4.4 s every 1 s in 3 columns, 80 wide: a 240x120 sheet of 5 tiles and a track of 5 cues', async () => {
    const root = tempRoot();
    await put(root, await makeRamp(4.4), 'in.mp4');
    const { plan, result } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [
          { op: 'sprite', input: 'src', output: 'sheet', params: { interval: 1, columns: 3, width: 80 } },
        ],
        outputs: [{ id: 'sheet', destination: 'preview/sheet.jpg' }],
      },
      root,
    );
    const sheet = join(root, 'preview/sheet.jpg');
    const vtt = join(root, 'preview/sheet.vtt');
    // ceil(4.4 / 1) = 5 tiles of 80x60 in 3 columns → 2 rows.
    expect(await picture(sheet)).toEqual({ codec: 'mjpeg', width: 240, height: 120, frames: 1 });
    expect(result.outputs[0]!.files).toEqual([sheet, vtt]);
    expect(listFiles(root)).toEqual(['in.mp4', 'preview/sheet.jpg', 'preview/sheet.vtt']);
    await expectAsPlanned(plan, 0);

    const cues = parseVtt(await readFile(vtt, 'utf8'));
    expect(cues).toHaveLength(5);
    expect(cues.map((c) => c.start)).toEqual([0, 1, 2, 3, 4]);
    expect(cues.at(-1)!.end).toBe((await probed(join(root, 'in.mp4'))).format.duration);
    expect(cues.at(-1)!.end).toBeCloseTo(4.4, 3);
    for (const [i, c] of cues.entries()) {
      expect(c.url).toBe('sheet.jpg');
      expect([c.x, c.y, c.w, c.h]).toEqual([(i % 3) * 80, Math.floor(i / 3) * 60, 80, 60]);
      expect(c.x + c.w).toBeLessThanOrEqual(240);
      expect(c.y + c.h).toBeLessThanOrEqual(120);
      if (i > 0) expect(c.start).toBe(cues[i - 1]!.end);
    }
    // Tile i is the frame at i s (Y = 16 + 2·25i); the sixth place of the 3x2 grid is empty, black.
    const tile = async (i: number) =>
      (await frameStats(sheet, { x: (i % 3) * 80 + 8, y: Math.floor(i / 3) * 60 + 8, w: 64, h: 44 }))[0]!;
    for (const i of [0, 1, 2, 3, 4]) expectRampFrame(await tile(i), 25 * i);
    expect((await tile(5)).y).toBeLessThan(20);
  });
});

/*
 * Left to guess, FFmpeg picks image2 (refused: it expands %d) over jpeg_pipe for most JPEGs by the
 * extension alone; pictures are opened with their own demuxer by name (admission.pictureDemuxer).
 */
describe('JPEG files of ordinary pictures', () => {
  it('a thumbnail series of testsrc2 into jpg is written and verified', async () => {
    const root = tempRoot();
    await put(root, await makeClip({ seconds: 2 }), 'in.mp4');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [{ op: 'thumbnail', input: 'src', output: 'shots', params: { every: 1 } }],
        outputs: [{ id: 'shots', destination: 'shots/s.jpg' }],
      },
      root,
    );
    expect(listFiles(join(root, 'shots'))).toEqual(['s-0001.jpg', 's-0002.jpg']);
    await expectAsPlanned(plan, 0, { file: join(root, 'shots/s-0001.jpg') });
  });

  it('a JPEG photo is accepted as an input (here written to png)', async () => {
    const root = tempRoot();
    await put(root, await makeClip({ format: 'jpg', audio: false, size: '320x240' }), 'photo.jpg');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'photo', source: 'photo.jpg' }],
        operations: [],
        outputs: [{ id: 'photo', destination: 'photo.png' }],
      },
      root,
    );
    expect(await picture(join(root, 'photo.png'))).toEqual({
      codec: 'png',
      width: 320,
      height: 240,
      frames: 1,
    });
    await expectAsPlanned(plan, 0);
  });
});
