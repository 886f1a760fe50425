/**
 * Codecs as the pipeline seed's clients name them, end to end: FFmpeg encoder names as aliases,
 * outputs without codec settings (the container decides), `none` dropping a stream, and the encoder
 * settings (crf, preset, profile, pixel format, keyframe interval, bitrates, sample rate, channels)
 * read back from the files. Each output writes the same 1 s clip, all from one FFmpeg run.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  direct,
  expectAsPlanned,
  expectDuration,
  rootWithClip,
  runPlanned,
  sourcePadding,
  streamOf,
  streamsOf,
} from './helpers/e2e.js';
import { decodedSeconds, packets, probed } from './helpers/measure.js';
import { listFiles, runSpecError } from './helpers/pipeline.js';

const fast = { preset: 'ultrafast' } as const;

describe('codec names and defaults', () => {
  it('takes FFmpeg encoder names as aliases (and a bare string for {codec})', async () => {
    const { root } = await rootWithClip();
    const outputs = [
      ['x264.mp4', { video: { codec: 'libx264', ...fast }, audio: 'aac' }, 'video/h264 audio/aac'],
      ['x265.mkv', { video: { codec: 'libx265', ...fast }, audio: 'flac' }, 'video/hevc audio/flac'],
      [
        'vp9.webm',
        { video: { codec: 'libvpx-vp9', ...fast, crf: 45 }, audio: 'libopus' },
        'video/vp9 audio/opus',
      ],
      ['svt.mkv', { video: { codec: 'libsvtav1', ...fast }, audio: 'none' }, 'video/av1'],
      ['aom.webm', { video: { codec: 'libaom-av1', ...fast, crf: 50 }, audio: 'none' }, 'video/av1'],
      ['lame.mp3', { audio: { codec: 'libmp3lame', bitrate: '96k' } }, 'audio/mp3'],
      ['vorbis.ogg', { audio: 'libvorbis' }, 'audio/vorbis'],
      ['copy.mkv', { video: 'copy', audio: 'copy' }, 'video/h264 audio/aac'],
      ['silent.mp4', { video: { codec: 'libx264', ...fast }, audio: 'none' }, 'video/h264'],
    ] as const;
    const { plan } = await runPlanned(
      direct(outputs.map(([destination, codec]) => ({ destination, codec }))),
      root,
    );
    expect(plan.tasks).toHaveLength(1); // one decode, nine encodes
    for (const [i, [name, , streams]] of outputs.entries()) {
      expect(await streamsOf(join(root, name)), name).toBe(streams);
      await expectAsPlanned(plan, i);
    }
  });

  it('without codec settings the container decides', async () => {
    const { root, src } = await rootWithClip();
    const outputs = [
      ['plain.mp4', 'video/h264 audio/aac'],
      ['plain.webm', 'video/vp9 audio/opus'],
      ['plain.mkv', 'video/h264 audio/aac'],
      ['plain.mov', 'video/h264 audio/aac'],
      ['plain.mp3', 'audio/mp3'],
      ['plain.m4a', 'audio/aac'],
      ['plain.wav', 'audio/pcm_s16le'],
      ['plain.flac', 'audio/flac'],
      ['plain.ogg', 'audio/vorbis'],
    ] as const;
    const { plan } = await runPlanned(direct(outputs.map(([destination]) => ({ destination }))), root);
    // Matroska cannot signal AAC's priming (1024 samples) the way mp4's edit list does: one frame more there.
    const padding = await sourcePadding(src);
    for (const [i, [name, streams]] of outputs.entries()) {
      expect(await streamsOf(join(root, name)), name).toBe(streams);
      await expectAsPlanned(plan, i, { sourcePadding: padding, audioFrames: name.endsWith('.mkv') ? 2 : 1 });
    }
  });

  it("codec.video 'none' drops the video: an mp4 of audio only", async () => {
    const { root, src } = await rootWithClip();
    const codec = { video: 'none', audio: { codec: 'aac', bitrate: '64k' } };
    const { plan } = await runPlanned(direct([{ destination: 'audio.mp4', codec }]), root);
    expect(await streamsOf(join(root, 'audio.mp4'))).toBe('audio/aac');
    await expectDuration(join(root, 'audio.mp4'), await decodedSeconds(src, 'a'));
    await expectAsPlanned(plan, 0);
  });

  it("the plan's expected streams name the codecs the output is written with", async () => {
    const { root } = await rootWithClip();
    const { plan } = await runPlanned(direct([{ destination: 'plain.webm' }]), root);
    const info = await probed(join(root, 'plain.webm'));
    expect(plan.outputs[0]!.expect.video?.codec).toBe(streamOf(info, 'video')!.codec);
    expect(plan.outputs[0]!.expect.audio?.codec).toBe(streamOf(info, 'audio')!.codec);
  });
});

describe('codec settings', () => {
  it('are written as asked: profile, pixel format, keyframe interval, sample rate, channels', async () => {
    const { root } = await rootWithClip();
    const outputs = [
      {
        destination: 'baseline.mp4',
        codec: {
          video: { codec: 'h264', crf: 23, preset: 'fast', profile: 'baseline', keyframe_interval: 0.4 },
          audio: { codec: 'aac', bitrate: '128k', sample_rate: 44100, channels: 2 },
        },
      },
      {
        destination: 'ten-bit.mkv',
        codec: {
          video: { codec: 'hevc', ...fast, pixel_format: 'yuv420p10le', profile: 'main10', bitrate: '300k' },
          audio: { codec: 'opus', bitrate: '64k', sample_rate: 24000 },
        },
      },
      {
        destination: 'full.mp4',
        codec: { video: { codec: 'h264', ...fast, pixel_format: 'yuv444p' }, audio: 'none' },
      },
    ];
    const { plan } = await runPlanned(direct(outputs), root);
    const [baseline, tenBit, full] = await Promise.all(outputs.map((o) => probed(join(root, o.destination))));
    expect(streamOf(baseline!, 'video')).toMatchObject({
      profile: 'Constrained Baseline',
      pixFmt: 'yuv420p',
    });
    expect(streamOf(baseline!, 'audio')).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2 });
    // A keyframe every 0.4 s at 25 fps: frames 0, 10, 20.
    const keys = (await packets(join(root, 'baseline.mp4'), 'v')).flatMap((p, n) => (p.key ? [n] : []));
    expect(keys).toEqual([0, 10, 20]);
    expect(streamOf(tenBit!, 'video')).toMatchObject({
      codec: 'hevc',
      profile: 'Main 10',
      pixFmt: 'yuv420p10le',
    });
    expect(streamOf(tenBit!, 'audio')).toMatchObject({ codec: 'opus', sampleRate: 48000 }); // opus always decodes at 48 kHz
    expect(streamOf(full!, 'video')).toMatchObject({ profile: 'High 4:4:4 Predictive', pixFmt: 'yuv444p' });
    await expectAsPlanned(plan, 0);
    await expectAsPlanned(plan, 2);
  });

  it('opus with sample_rate 24000: the plan says the 48 kHz the file holds', async () => {
    const { root } = await rootWithClip();
    const codec = { video: 'none', audio: { codec: 'opus', sample_rate: 24000 } };
    const { plan } = await runPlanned(direct([{ destination: 'voice.ogg', codec }]), root);
    expect(streamOf(await probed(join(root, 'voice.ogg')), 'audio')!.sampleRate).toBe(48000);
    await expectAsPlanned(plan, 0);
  });

  it('a profile the pixel format cannot have is refused before anything runs', async () => {
    const { root } = await rootWithClip();
    const codec = { video: { codec: 'h264', ...fast, profile: 'high', pixel_format: 'yuv444p' } };
    const e = await runSpecError(direct([{ destination: 'bad.mp4', codec }]), root);
    expect(e.code).toBe('validation_error');
    expect(listFiles(root)).toEqual(['in.mp4']);
  });

  it('when FFmpeg refuses a setting, the error says which', async () => {
    const { root } = await rootWithClip();
    const bad = { video: { codec: 'h264', ...fast, profile: 'high', pixel_format: 'yuv444p' }, audio: 'aac' };
    const e = await runSpecError(
      direct([
        { destination: 'bad.mp4', codec: bad },
        { destination: 'a.m4a' },
        { destination: 'a.ogg' },
        { destination: 'a.mp3' },
      ]),
      root,
    );
    expect(e.message).toMatch(/profile|4:4:4/);
  });
});
