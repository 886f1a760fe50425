import { describe, expect, it } from 'vitest';
import { profileProblem, writtenSampleRate } from './codec-rules.js';

describe('profileProblem', () => {
  it.each([
    ['h264', undefined, 'yuv444p', null],
    ['h264', 'high', 'yuv420p', null],
    ['h264', 'high', 'yuv444p', /8-bit 4:2:0/],
    ['h264', 'baseline', 'yuv420p10le', /8-bit 4:2:0/],
    ['h264', 'main10', 'yuv420p10le', /no main10/],
    ['hevc', 'main', 'yuv420p', null],
    ['hevc', 'main', 'yuv420p10le', /main10/],
    ['hevc', 'main10', 'yuv420p10le', null],
    ['hevc', 'main10', 'yuv444p', /yuv420p or yuv420p10le/],
    ['hevc', 'high', 'yuv420p', /no high profile/],
    ['vp9', 'main', 'yuv420p', /h264 and hevc/],
  ] as const)('%s %s %s', (codec, profile, pix, want) => {
    const got = profileProblem(codec, profile, pix);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});

describe('writtenSampleRate', () => {
  it('is 48 kHz for opus whatever is asked, else the asked or the input rate', () => {
    expect([
      writtenSampleRate('opus', 24_000, 44_100),
      writtenSampleRate('aac', 22_050, 48_000),
      writtenSampleRate('mp3', undefined, 44_100),
    ]).toEqual([48_000, 22_050, 44_100]);
  });
});
