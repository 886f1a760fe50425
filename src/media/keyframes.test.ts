import { describe, expect, it } from 'vitest';
import { parsePacketCsv, readVideoPackets } from './keyframes.js';
import { makeClip, makeFile } from './test-support/make-media.js';

const ffprobe = process.env.MEDIAFORGE_FFPROBE ?? 'ffprobe';

describe('parsePacketCsv', () => {
  it('reads packets in decode order, their keyframe flags and the start time', () => {
    const csv = 'packet,1.400000,K_\npacket,1.520000,__\npacket,1.440000,__\nformat,1.400000\n';
    expect(parsePacketCsv(csv)).toEqual({
      startTime: 1.4,
      packets: [
        { pts: 1.4, key: true },
        { pts: 1.52, key: false },
        { pts: 1.44, key: false },
      ],
    });
  });

  it('leaves out the packets FFmpeg discards (before an edit list start)', () => {
    expect(parsePacketCsv('packet,-0.080000,KD\npacket,0.000000,K_\nformat,0.000000\n').packets).toEqual([
      { pts: 0, key: true },
    ]);
  });

  it('refuses a packet without a time rather than guess where it is', () => {
    expect(() => parsePacketCsv('packet,N/A,K_\n')).toThrow(/no presentation time/);
  });
});

describe('readVideoPackets', () => {
  it('lists every video packet of a real file, the first a keyframe', async () => {
    const clip = await makeClip({ seconds: 2, fps: 25 });
    const { packets, startTime } = await readVideoPackets(clip, { ffprobe });
    expect(startTime).toBe(0);
    expect(packets).toHaveLength(50);
    expect(packets[0]).toEqual({ pts: 0, key: true });
  });

  it('says probe_failed for a file that is not media', async () => {
    const file = makeFile('not-media.mp4', 'hello');
    await expect(readVideoPackets(file, { ffprobe })).rejects.toMatchObject({ code: 'probe_failed' });
  });
});
