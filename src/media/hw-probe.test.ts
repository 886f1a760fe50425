import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VIDEO_ENCODERS } from '../core/ffmpeg/encoders.js';
import { probeHardware } from './hw-probe.js';
import { writeFakeFfmpeg } from './test-support/fake-ffmpeg.js';
import { mediaTempDir } from './test-support/make-media.js';

/** Every H.264 hardware encoder the registry knows: a fake that fails them all is a GPU-less machine anywhere. */
const H264_HARDWARE = VIDEO_ENCODERS.filter((e) => e.codec === 'h264' && e.hardware !== null).map(
  (e) => e.name,
);
const names = (list: ReadonlyArray<{ name: string }>) => list.map((e) => e.name);

describe('probeHardware', () => {
  it('does not advertise a listed encoder that fails its test encode; software passes with its speed', async () => {
    const ffmpeg = writeFakeFfmpeg({ list: ['h264_nvenc'], fail: ['h264_nvenc'] });
    const probe = await probeHardware({
      ffmpeg,
      mode: 'auto',
      codecs: ['h264'],
      now: () => new Date('2030-01-02T03:04:05Z'),
    });
    expect(names(probe.encoders)).not.toContain('h264_nvenc');
    const nvenc = probe.failed.find((f) => f.name === 'h264_nvenc')?.error;
    expect(nvenc).toContain('Cannot load libcuda.so.1');
    expect(nvenc).not.toContain('bench:');
    const x264 = probe.encoders.find((e) => e.name === 'libx264');
    expect(x264).toMatchObject({ codec: 'h264', hardware: null });
    expect(x264!.fps).toBeGreaterThan(0);
    expect(probe.probed_at).toBe('2030-01-02T03:04:05.000Z');
    expect(probe.hwaccels.every((h) => /^[a-z0-9_]+$/.test(h))).toBe(true);
    expect(probe.warnings).toEqual([]); // auto: no hardware is not news
  });

  it('advertises a hardware encoder that passes, with frames / FFmpeg’s own encode time', async () => {
    // The fake's made-up pass reports 60 frames in rtime=0.100s.
    const ffmpeg = writeFakeFfmpeg({ list: ['h264_nvenc'], failOutsideProbe: ['h264_nvenc'] });
    const probe = await probeHardware({ ffmpeg, mode: 'auto', codecs: ['h264'] });
    expect(probe.encoders[0]).toEqual({ name: 'h264_nvenc', codec: 'h264', hardware: 'nvenc', fps: 600 });
    expect(names(probe.encoders)).toContain('libx264');
  });

  it('off: tries no hardware encoder at all', async () => {
    const log = join(mediaTempDir(), 'probe-off.log');
    const ffmpeg = writeFakeFfmpeg({ list: H264_HARDWARE, fail: H264_HARDWARE, log });
    const probe = await probeHardware({ ffmpeg, mode: 'off', codecs: ['h264'] });
    expect(names(probe.encoders)).toEqual(['libx264']);
    expect(probe.failed).toEqual([]);
    expect(await readFile(log, 'utf8')).not.toMatch(/h264_(nvenc|qsv|vaapi|videotoolbox|amf|v4l2m2m)/);
  });

  it('on: says so when no hardware encoder passed, naming what failed', async () => {
    const ffmpeg = writeFakeFfmpeg({ list: H264_HARDWARE, fail: H264_HARDWARE });
    const probe = await probeHardware({ ffmpeg, mode: 'on', codecs: ['h264'] });
    expect(names(probe.failed)).toEqual(H264_HARDWARE);
    expect(probe.warnings).toHaveLength(1);
    expect(probe.warnings[0]).toContain('hardware is on, but no hardware encoder passed');
    expect(probe.warnings[0]).toContain('h264_nvenc: [h264_nvenc] Cannot load libcuda.so.1;');
  });

  it('keeps to its time budget: what it has no time left for is reported, not advertised', async () => {
    const ffmpeg = writeFakeFfmpeg();
    const probe = await probeHardware({ ffmpeg, mode: 'auto', codecs: ['h264'], timeoutMs: 0 });
    expect(probe.encoders).toEqual([]);
    expect(probe.failed.find((f) => f.name === 'libx264')?.error).toBe(
      'not tried: the probe ran out of time',
    );
  });
});
