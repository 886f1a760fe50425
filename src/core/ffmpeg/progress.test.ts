import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createProgressParser, type ProgressBlock, toProgress } from './progress.js';

/**
 * Recorded from FFmpeg 5.1.9 (Debian 12):
 * - null-output.txt:    -f lavfi -i testsrc2=s=160x120:r=25:d=1 -f null -progress pipe:1 -
 * - audio-only-mp3.txt: -f lavfi -i sine=f=440:d=3 -c:a libmp3lame -progress pipe:1 out.mp3
 * - realtime-mp4.txt:   -re -f lavfi -i testsrc2=s=320x240:r=25:d=3 -f lavfi -i sine=f=440:d=3
 *                       -c:v libx264 -preset medium -c:a aac -progress pipe:1 -stats_period 0.5 out.mp4
 * - mpegts-speed-na.txt: -re -f lavfi -i testsrc2=s=160x120:r=25:d=1.5 -c:v libx264 -preset ultrafast
 *                       -output_ts_offset -10 -progress pipe:1 -stats_period 0.5 -f mpegts out.ts
 */
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/progress/${name}`, import.meta.url), 'utf8');

function parseAll(text: string, chunkSize = text.length): ProgressBlock[] {
  const parser = createProgressParser();
  const blocks: ProgressBlock[] = [];
  for (let i = 0; i < text.length; i += chunkSize) blocks.push(...parser.push(text.slice(i, i + chunkSize)));
  return blocks;
}

describe('createProgressParser', () => {
  it('splits a recorded run into its blocks, the last one marked end', () => {
    const blocks = parseAll(fixture('realtime-mp4.txt'));
    expect(blocks).toHaveLength(8);
    expect(blocks.map((b) => b.end)).toEqual([false, false, false, false, false, false, false, true]);
    expect(blocks[4]?.values).toMatchObject({
      frame: '51',
      out_time_us: '69660',
      speed: '0.0343x',
      progress: 'continue',
    });
  });

  it('gives the same blocks whatever the chunk boundaries', () => {
    const text = fixture('realtime-mp4.txt');
    const whole = parseAll(text);
    for (const size of [1, 2, 3, 7, 13, 64]) expect(parseAll(text, size)).toEqual(whole);
  });

  it('keeps no key from one block in the next', () => {
    const [first, second] = parseAll('frame=1\nfps=2\nprogress=continue\nout_time_us=5\nprogress=end\n');
    expect(first?.values).toEqual({ frame: '1', fps: '2', progress: 'continue' });
    expect(second?.values).toEqual({ out_time_us: '5', progress: 'end' });
  });

  it('reads CRLF, blank lines and garbage without failing', () => {
    const blocks = parseAll('garbage\r\n\r\n=x\r\nout_time_us=1500000\r\nprogress=continue\r\n');
    expect(blocks).toEqual([{ values: { out_time_us: '1500000', progress: 'continue' }, end: false }]);
  });

  it('waits for the end of a line before using it', () => {
    const parser = createProgressParser();
    expect(parser.push('out_time_us=1500000\nprogress=cont')).toEqual([]);
    expect(parser.push('inue\n')).toHaveLength(1);
  });

  it('drops an absurdly long line instead of buffering it', () => {
    const parser = createProgressParser();
    parser.push('x'.repeat(10_000));
    expect(parser.push('\nframe=3\nprogress=end\n')).toEqual([
      { values: { frame: '3', progress: 'end' }, end: true },
    ]);
  });
});

describe('toProgress', () => {
  it('follows a real encode to 100 % with speed and ETA', () => {
    const blocks = parseAll(fixture('realtime-mp4.txt'));
    const ps = blocks.map((b) => toProgress(b, 3));
    expect(ps[0]).toEqual({
      outTimeSeconds: 0,
      percent: 0,
      fps: 0,
      speed: 0,
      frame: 1,
      totalSizeBytes: 48,
      etaSeconds: null, // speed 0: no estimate
      done: false,
    });
    expect(ps[6]?.outTimeSeconds).toBeCloseTo(2.275556, 6);
    expect(ps[6]?.percent).toBeCloseTo(75.85, 2);
    expect(ps[6]?.speed).toBe(0.75);
    expect(ps[6]?.etaSeconds).toBeCloseTo((3 - 2.275556) / 0.75, 6);
    // The end is a little past the expected 3 s (AAC priming): clamped.
    expect(ps[7]).toMatchObject({
      percent: 100,
      etaSeconds: 0,
      done: true,
      totalSizeBytes: 132393,
      fps: 23.85,
    });
  });

  it('reads N/A values as unknown (null output: no size, no speed at first)', () => {
    const [first, last] = parseAll(fixture('null-output.txt')).map((b) => toProgress(b, 1));
    expect(first).toMatchObject({
      outTimeSeconds: 0.04,
      percent: 4,
      speed: null,
      totalSizeBytes: null,
      etaSeconds: null,
    });
    expect(last).toMatchObject({
      outTimeSeconds: 1,
      percent: 100,
      speed: 449,
      totalSizeBytes: null,
      done: true,
    });
  });

  it('reads speed=N/A from a recorded mpegts run', () => {
    const [first] = parseAll(fixture('mpegts-speed-na.txt')).map((b) => toProgress(b, 1.5));
    expect(first).toMatchObject({ speed: null, totalSizeBytes: 0, outTimeSeconds: 0, percent: 0 });
  });

  it('reads an audio-only encode, which has no frame or fps', () => {
    const ps = parseAll(fixture('audio-only-mp3.txt')).map((b) => toProgress(b, 3));
    expect(ps[0]).toMatchObject({ frame: null, fps: null, speed: 0, outTimeSeconds: 0 });
    expect(ps[1]).toMatchObject({ frame: null, speed: 125, percent: 100, done: true });
    expect(ps[1]?.outTimeSeconds).toBeCloseTo(3.005147, 6);
  });

  it('has no percent or ETA without an expected duration', () => {
    const [p] = parseAll(fixture('realtime-mp4.txt'))
      .slice(6)
      .map((b) => toProgress(b, null));
    expect(p).toMatchObject({ percent: null, etaSeconds: null, speed: 0.75 });
    expect(toProgress({ values: { out_time_us: '5' }, end: false }, 0).percent).toBeNull();
  });

  // Not recordable with FFmpeg 5.1 on demand; the forms come from fftools' print_report.
  it.each([
    [
      'FFmpeg ≥ 6 before the first packet',
      { out_time_us: 'N/A', out_time_ms: 'N/A', out_time: 'N/A', speed: 'N/A' },
    ],
    [
      'FFmpeg 5.1 before any stream has a timestamp (INT64_MIN + 1)',
      {
        out_time_us: '-9223372036854775807',
        out_time_ms: '-9223372036854775807',
        out_time: '-2562047788:00:54.775807',
      },
    ],
  ])('treats %s as an unknown time', (_, values) => {
    expect(toProgress({ values, end: false }, 10)).toMatchObject({
      outTimeSeconds: null,
      percent: null,
      etaSeconds: null,
    });
  });

  it('falls back to out_time when the microsecond keys are missing, and reads %g speeds', () => {
    expect(
      toProgress({ values: { out_time: '00:01:02.500000', speed: '4e+04x' }, end: false }, 125),
    ).toMatchObject({
      outTimeSeconds: 62.5,
      percent: 50,
      speed: 40000,
    });
  });
});
