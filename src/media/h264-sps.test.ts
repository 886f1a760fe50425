import { describe, expect, it } from 'vitest';
import { spsSize } from './h264-sps.js';

// SPS NAL units x264 wrote (from the avcC of FFmpeg 5.1 encodes of testsrc2).
const SPS = {
  // Baseline, 120x68 macroblocks cropped by 8 rows; holds emulation-prevention bytes (00 00 03).
  hd: '6742c028da01e0089f97011000000300100000030320f1832a',
  // Main, interlaced (frame_mbs_only 0): 240 lines from 8 field-pair map units, cropped by 16.
  interlaced: '674d4015f40a087e5c0440000003004000000c87c50aa8',
  // High 4:2:2 (profile 122), 322x178: chroma format and bit depths come first, cropping by 2s.
  odd422: '677a000dbcd981519e223f011000000300100000030320f14299a0',
};

describe('spsSize', () => {
  it.each([
    ['hd', 1920, 1080],
    ['interlaced', 320, 240],
    ['odd422', 322, 178],
  ] as const)('%s: %ix%i', (name, width, height) => {
    expect(spsSize(Buffer.from(SPS[name], 'hex'))).toEqual({ width, height });
  });

  it('gives null for a cut SPS and for what is not an SPS', () => {
    expect(spsSize(Buffer.from(SPS.hd.slice(0, 12), 'hex'))).toBeNull();
    expect(spsSize(Buffer.from(`68${SPS.hd.slice(2)}`, 'hex'))).toBeNull(); // a PPS header
  });
});
