import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEncoderList, parseHwaccelList } from './encoder-list.js';

// Recorded from FFmpeg 5.1.9 (Debian 12): `ffmpeg -hide_banner -encoders` and `-hwaccels`.
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/encoders/${name}`, import.meta.url), 'utf8');

describe('parseEncoderList', () => {
  const encoders = parseEncoderList(fixture('encoders-5.1.txt'));
  const byName = (name: string) => encoders.find((e) => e.name === name);

  it('reads every encoder line and none of the legend', () => {
    expect(encoders).toHaveLength(217);
    expect(encoders.filter((e) => e.kind === 'video')).toHaveLength(122);
    expect(encoders.filter((e) => e.kind === 'audio')).toHaveLength(84);
    expect(encoders.filter((e) => e.kind === 'subtitle')).toHaveLength(11);
    expect(encoders.some((e) => e.name === '=')).toBe(false);
  });

  it('takes the codec from "(codec ...)", else the encoder name', () => {
    expect(byName('libx264')).toEqual({
      name: 'libx264',
      kind: 'video',
      codec: 'h264',
      description: 'libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10',
      experimental: false,
    });
    expect(byName('h264_nvenc')).toMatchObject({ kind: 'video', codec: 'h264' });
    expect(byName('hevc_vaapi')).toMatchObject({ codec: 'hevc' });
    expect(byName('libaom-av1')).toMatchObject({ codec: 'av1' });
    expect(byName('aac')).toEqual({
      name: 'aac',
      kind: 'audio',
      codec: 'aac',
      description: 'AAC (Advanced Audio Coding)',
      experimental: false,
    });
  });

  it('marks experimental encoders', () => {
    expect(byName('opus')).toMatchObject({ experimental: true, kind: 'audio' });
    expect(byName('libopus')).toMatchObject({ experimental: false, codec: 'opus' });
    expect(byName('dca')).toMatchObject({ experimental: true, codec: 'dts' });
  });

  it('reads a bare list without the legend, and nothing from noise', () => {
    expect(parseEncoderList(' V....D libx264              x (codec h264)\n').map((e) => e.name)).toEqual([
      'libx264',
    ]);
    expect(parseEncoderList('')).toEqual([]);
    expect(parseEncoderList('Unrecognized option\n')).toEqual([]);
  });
});

describe('parseHwaccelList', () => {
  it('reads the methods this build knows', () => {
    expect(parseHwaccelList(fixture('hwaccels-5.1.txt'))).toEqual([
      'vdpau',
      'cuda',
      'vaapi',
      'qsv',
      'drm',
      'opencl',
      'vulkan',
    ]);
  });

  it('reads an empty list', () => {
    expect(parseHwaccelList('Hardware acceleration methods:\n\n')).toEqual([]);
  });
});
