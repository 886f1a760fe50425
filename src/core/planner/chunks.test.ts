import { describe, expect, it } from 'vitest';
import type { JoinPieces } from '../spec/task-spec.schema.js';
import {
  type ChunkSpan,
  chunkSpans,
  indexPackets,
  type KeyframeIndex,
  shouldChunk,
  steadyRate,
  type VideoPacket,
} from './chunks.js';
import { concatList, scratchFolder } from './compile-chunks.js';

/** `seconds` of video at `fps`, a keyframe every `gop` frames, in presentation order. */
function cfr(seconds: number, fps: number, gop: number, start = 0): VideoPacket[] {
  return Array.from({ length: Math.round(seconds * fps) }, (_, i) => ({
    pts: Math.round((start + i / fps) * 1e6) / 1e6,
    key: i % gop === 0,
  }));
}

/** [start, end, firstFrame, endFrame] of each span: the table form. */
const ms = (s: number) => Math.round(s * 1000) / 1000;
const table = (spans: ChunkSpan[]) => spans.map((s) => [ms(s.start), ms(s.end), s.firstFrame, s.endFrame]);

describe('indexPackets', () => {
  it('numbers frames in presentation order, whatever the decode order (B-frames)', () => {
    // Decode order I P B B: the P is shown after the Bs.
    const packets: VideoPacket[] = [
      { pts: 0, key: true },
      { pts: 0.12, key: false },
      { pts: 0.04, key: false },
      { pts: 0.08, key: false },
      { pts: 0.16, key: true },
      { pts: 0.28, key: false },
      { pts: 0.2, key: false },
      { pts: 0.24, key: false },
    ];
    expect(indexPackets(packets)).toEqual({
      frames: 8,
      first: 0,
      end: 0.32,
      keyframes: [{ frame: 4, time: 0.16, cut: 0.159 }],
      gaps: { min: 0.04, max: 0.04 },
    });
  });

  it('counts times from the input start, as -ss does (an MPEG-TS starts at 1.4 s)', () => {
    const index = indexPackets(cfr(4, 25, 50, 1.4), 1.4)!;
    expect(index.first).toBe(0);
    expect(index.end).toBe(4);
    expect(index.keyframes).toEqual([{ frame: 50, time: 2, cut: 1.999 }]);
  });

  it('keeps a video that starts after the input (audio first) where it starts', () => {
    const index = indexPackets(cfr(2, 25, 25, 0.5), 0.3)!;
    expect(index.first).toBe(0.2);
    expect(index.keyframes[0]).toEqual({ frame: 25, time: 1.2, cut: 1.199 });
  });

  it('has nothing to say of no packets', () => {
    expect(indexPackets([])).toBeNull();
  });
});

describe('chunkSpans', () => {
  const index = (seconds: number, fps: number, gop: number): KeyframeIndex =>
    indexPackets(cfr(seconds, fps, gop))!;

  it.each<[string, KeyframeIndex, number, Array<[number, number, number, number]>]>([
    [
      '20 s, a keyframe every 2 s, chunks of 4 s',
      index(20, 30, 60),
      4,
      [
        [0, 4, 0, 120],
        [4, 8, 120, 240],
        [8, 12, 240, 360],
        [12, 16, 360, 480],
        [16, 20, 480, 600],
      ],
    ],
    [
      'a last piece shorter than half a chunk joins the one before (21 s)',
      index(21, 30, 60),
      4,
      [
        [0, 4, 0, 120],
        [4, 8, 120, 240],
        [8, 12, 240, 360],
        [12, 16, 360, 480],
        [16, 21, 480, 630],
      ],
    ],
    [
      'a last piece of half a chunk or more stays (22 s)',
      index(22, 30, 60),
      4,
      [
        [0, 4, 0, 120],
        [4, 8, 120, 240],
        [8, 12, 240, 360],
        [12, 16, 360, 480],
        [16, 20, 480, 600],
        [20, 22, 600, 660],
      ],
    ],
    [
      'keyframes every 3 s and chunks of 4 s: the nearest keyframe (ties to the earlier)',
      index(12, 25, 75),
      4,
      [
        [0, 3, 0, 75],
        [3, 6, 75, 150],
        [6, 9, 150, 225],
        [9, 12, 225, 300],
      ],
    ],
    ['one keyframe: one span, nothing to split', index(20, 30, 100_000), 4, [[0, 20, 0, 600]]],
    ['shorter than a chunk and a half: one span', index(5, 30, 30), 4, [[0, 5, 0, 150]]],
  ])('%s', (_name, idx, seconds, want) => {
    expect(table(chunkSpans(idx, seconds))).toEqual(want);
  });

  it('passes over keyframes closer than half a chunk, and takes a far one when none is near', () => {
    const idx: KeyframeIndex = {
      frames: 1000,
      first: 0,
      end: 40,
      keyframes: [
        { frame: 5, time: 0.2, cut: 0.18 },
        { frame: 250, time: 10, cut: 9.98 },
        { frame: 275, time: 11, cut: 10.98 },
        { frame: 900, time: 36, cut: 35.98 },
      ],
      gaps: { min: 0.04, max: 0.04 },
    };
    expect(table(chunkSpans(idx, 4))).toEqual([
      [0, 10, 0, 250],
      [10, 36, 250, 900],
      [36, 40, 900, 1000],
    ]);
  });

  it('seeks and stops just before a keyframe, never on one', () => {
    const spans = chunkSpans(index(12, 25, 50), 4);
    expect(spans.map((s) => [s.seek, s.stop])).toEqual([
      [null, 3.999],
      [3.999, 7.999],
      [7.999, null],
    ]);
  });

  it('seeks half the gap before a keyframe when the frames are closer than 2 ms', () => {
    const idx = indexPackets([
      { pts: 0, key: true },
      { pts: 0.0015, key: false },
      { pts: 0.003, key: true },
    ])!;
    expect(idx.keyframes).toEqual([{ frame: 2, time: 0.003, cut: 0.00225 }]);
  });

  it('makes longer chunks rather than more than MAX_CHUNKS', () => {
    const spans = chunkSpans(index(3000, 10, 20), 2);
    expect(spans.length).toBeLessThanOrEqual(500);
    expect(spans.length).toBeGreaterThan(450);
    expect(spans.at(-1)!.endFrame).toBe(30_000);
  });

  it('covers every frame once: each span starts where the one before ends', () => {
    const idx = indexPackets(cfr(61, 29.97, 37))!;
    const spans = chunkSpans(idx, 5);
    expect(spans[0]!.firstFrame).toBe(0);
    expect(spans.at(-1)!.endFrame).toBe(idx.frames);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]!.firstFrame).toBe(spans[i - 1]!.endFrame);
      expect(spans[i]!.start).toBe(spans[i - 1]!.end);
      expect(spans[i]!.seek).toBe(spans[i - 1]!.stop);
    }
  });
});

describe('steadyRate', () => {
  /** Frame times from gaps (s). */
  const times = (gaps: number[]): VideoPacket[] => {
    const out: VideoPacket[] = [{ pts: 0, key: true }];
    for (const g of gaps) out.push({ pts: Math.round((out.at(-1)!.pts + g) * 1e6) / 1e6, key: false });
    return out;
  };
  it.each<[string, number[], { num: number; den: number }, boolean]>([
    ['constant 30 fps', [1 / 30, 1 / 30, 1 / 30], { num: 30, den: 1 }, true],
    [
      '29.97 in a millisecond container (33, 34, 33 ms)',
      [0.033, 0.034, 0.033],
      { num: 30000, den: 1001 },
      true,
    ],
    ['25 fps then 50 fps', [0.04, 0.04, 0.02, 0.02], { num: 25, den: 1 }, false],
    ['a dropped frame (a gap of two periods)', [0.04, 0.08, 0.04], { num: 25, den: 1 }, false],
    ['the rate ffprobe states is not the rate the frames have', [0.04, 0.04], { num: 30, den: 1 }, false],
  ])('%s', (_name, gaps, fps, want) => {
    expect(steadyRate(indexPackets(times(gaps))!, fps)).toBe(want);
  });
});

describe('shouldChunk', () => {
  it.each([
    [{ durationSeconds: 600, idleWorkers: 3, chunkSeconds: 30 }, true],
    [{ durationSeconds: 600, idleWorkers: 1, chunkSeconds: 30 }, false],
    [{ durationSeconds: 60, idleWorkers: 4, chunkSeconds: 30 }, false],
    [{ durationSeconds: 150, idleWorkers: 2, chunkSeconds: 100 }, false],
    [{ durationSeconds: 200, idleWorkers: 2, chunkSeconds: 100 }, true],
    [{ durationSeconds: null, idleWorkers: 4, chunkSeconds: 30 }, false],
  ])('%o → %s', (o, want) => {
    expect(shouldChunk(o)).toBe(want);
  });
});

describe('the scratch folder and the concat list', () => {
  it('puts the scratch folder beside the destination, hidden, cut to a legal name', () => {
    expect(scratchFolder('/media/out/film.mp4', 'ab12cd34')).toBe(
      '/media/out/.film.mp4.mediaforge-chunks-ab12cd34',
    );
    const long = scratchFolder(`/m/${'é'.repeat(127)}.mp4`, 'ab12cd34');
    expect(new TextEncoder().encode(long.slice(3)).length).toBeLessThanOrEqual(255);
  });

  it('lists the chunks by relative name with the time each lasts (not the last)', () => {
    const pieces: JoinPieces = {
      scratch: '/m/.x',
      chunks: [
        { file: 'chunk-0000.nut', frames: 120, duration: 4 },
        { file: 'chunk-0001.nut', frames: 120, duration: 4.004 },
        { file: "it's.nut", frames: 45, duration: 1.5 },
      ],
      video_offset: 0,
    };
    expect(concatList(pieces)).toBe(
      [
        'ffconcat version 1.0',
        "file 'chunk-0000.nut'",
        'duration 4.000000',
        "file 'chunk-0001.nut'",
        'duration 4.004000',
        "file 'it'\\''s.nut'",
        '',
      ].join('\n'),
    );
  });
});
