import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors.js';
import { mainVideo, streamMetaOf } from '../spec/media-info.js';
import { mp3TailFrom, notMediaReason, parseFfprobeJson, parseRate } from './ffprobe-parse.js';

/**
 * Recorded with ffprobe 5.1.9 (`-v error -protocol_whitelist file -print_format json -show_format
 * -show_streams file:PATH`) on files made from lavfi:
 * - av.mp4:    testsrc2 320x240 @ 30000/1001, 2 s, libx264 + sine 48 kHz aac 96k (language eng)
 * - tone.mp3:  sine 2 s, libmp3lame 128k
 * - still.png: one testsrc2 frame, 64x48
 * - rot.mov:   av.mp4 remuxed with `-c copy -metadata:s:v:0 rotate=90`
 * - two.mkv:   testsrc2 160x120 @ 25 + two libopus tracks (mono eng, stereo fre)
 * - cover.mp3: tone.mp3 + still.png as `-disposition:v attached_pic`
 * - tone.mp3.tail: tone.mp3's last packets (`-f mp3 -read_intervals 0.037551% -select_streams a:0
 *   -show_entries packet=pts,duration:packet_side_data=discard_padding -print_format json=compact=1`)
 */
const probed = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/ffprobe/${name}.json`, import.meta.url), 'utf8'));

describe('parseFfprobeJson', () => {
  it('reads an mp4 with h264 and aac', () => {
    expect(parseFfprobeJson(probed('av.mp4'))).toEqual({
      format: {
        name: 'mov,mp4,m4a,3gp,3g2,mj2',
        longName: 'QuickTime / MOV',
        duration: 2.002,
        size: 223700,
        bitRate: 893906,
      },
      streams: [
        {
          index: 0,
          type: 'video',
          codec: 'h264',
          profile: 'Constrained Baseline',
          width: 320,
          height: 240,
          fps: { num: 30000, den: 1001 },
          pixFmt: 'yuv420p',
          bitRate: 783572,
          duration: 2.002,
          frames: 60,
        },
        {
          index: 1,
          type: 'audio',
          codec: 'aac',
          profile: 'LC',
          sampleRate: 48000,
          channels: 1,
          channelLayout: 'mono',
          bitRate: 96858,
          duration: 2,
          frames: 95,
          language: 'eng',
        },
      ],
    });
  });

  it('reads an mp3: audio only, no rate', () => {
    const info = parseFfprobeJson(probed('tone.mp3'));
    expect(info.format).toMatchObject({ name: 'mp3', duration: 2.037551, bitRate: 129810 });
    expect(info.streams).toEqual([
      {
        index: 0,
        type: 'audio',
        codec: 'mp3',
        sampleRate: 44100,
        channels: 1,
        channelLayout: 'mono',
        bitRate: 128000,
        duration: 2.037551,
      },
    ]);
  });

  it('reads a png as a still picture with no duration', () => {
    const info = parseFfprobeJson(probed('still.png'));
    expect(info.format).toEqual({
      name: 'png_pipe',
      longName: 'piped png sequence',
      duration: null,
      size: 554,
      bitRate: null,
    });
    expect(info.streams[0]).toMatchObject({
      type: 'video',
      codec: 'png',
      width: 64,
      height: 48,
      pixFmt: 'rgb24',
    });
    expect(streamMetaOf(info)).toMatchObject({
      duration: null,
      still: true,
      video: { width: 64, height: 48 },
    });
  });

  it('reads the rotation from the display matrix, and the planner swaps the sides', () => {
    const info = parseFfprobeJson(probed('rot.mov'));
    expect(mainVideo(info)?.rotation).toBe(90);
    expect(streamMetaOf(info).video).toMatchObject({ width: 240, height: 320 });
  });

  it('reads an mkv with two audio tracks; durations come from the DURATION tags', () => {
    const info = parseFfprobeJson(probed('two.mkv'));
    expect(info.format).toMatchObject({ name: 'matroska,webm', duration: 2.008, size: 115743 });
    expect(info.streams).toEqual([
      {
        index: 0,
        type: 'video',
        codec: 'h264',
        profile: 'Constrained Baseline',
        width: 160,
        height: 120,
        fps: { num: 25, den: 1 },
        pixFmt: 'yuv420p',
        duration: 2.007,
      },
      {
        index: 1,
        type: 'audio',
        codec: 'opus',
        sampleRate: 48000,
        channels: 1,
        channelLayout: 'mono',
        duration: 2.008,
        language: 'eng',
      },
      {
        index: 2,
        type: 'audio',
        codec: 'opus',
        sampleRate: 48000,
        channels: 2,
        channelLayout: 'stereo',
        duration: 2.008,
        language: 'fre',
      },
    ]);
  });

  it('marks cover art as an attached picture without a frame rate', () => {
    const info = parseFfprobeJson(probed('cover.mp3'));
    expect(info.streams[1]).toMatchObject({ type: 'video', codec: 'png', attachedPic: true });
    expect(info.streams[1]?.fps).toBeUndefined();
    expect(mainVideo(info)).toBeUndefined();
    expect(streamMetaOf(info)).toMatchObject({ video: null, audio: { sampleRate: 44100, channels: 1 } });
  });

  // Older ffprobe (the bundled 4.1 build) reports rotation as a clockwise `rotate` tag.
  it.each([
    ['90', -90],
    ['270', 90],
    ['180', 180],
    ['0', undefined],
  ])('turns tags.rotate=%s into rotation %s', (rotate, rotation) => {
    const info = parseFfprobeJson({
      format: { format_name: 'mov' },
      streams: [{ index: 0, codec_type: 'video', codec_name: 'h264', tags: { rotate } }],
    });
    expect(info.streams[0]?.rotation).toBe(rotation);
  });

  it('prefers avg_frame_rate, falls back to r_frame_rate, and drops unknown values', () => {
    const info = parseFfprobeJson({
      format: { format_name: 'x', duration: 'N/A', size: 'N/A', bit_rate: 'N/A' },
      streams: [
        { index: 0, codec_type: 'video', avg_frame_rate: '0/0', r_frame_rate: '24000/1001' },
        { index: 1, codec_type: 'weird', bit_rate: 'N/A', tags: { language: 'und' } },
      ],
    });
    expect(info).toEqual({
      format: { name: 'x', duration: null, size: 0, bitRate: null },
      streams: [
        { index: 0, type: 'video', codec: 'unknown', fps: { num: 24000, den: 1001 } },
        { index: 1, type: 'data', codec: 'unknown' },
      ],
    });
  });

  it.each([null, [], 'text', {}, { streams: [] }])('refuses output without a format section: %j', (json) => {
    let error: unknown;
    try {
      parseFfprobeJson(json);
    } catch (e) {
      error = e;
    }
    expect(isAppError(error) && error.code).toBe('probe_failed');
  });
});

describe('an mp3 is as long as what it decodes to', () => {
  // tone.mp3: 2 s at 44.1 kHz is 78 frames of 1152 samples, stated 2.037551 s. FFmpeg skips the
  // encoder's delay and its own 529 (1105 samples, start_time 0.025057) and discards the 551 samples
  // of padding the last packet carries: 88200 samples decode, 2.000 s.
  const tone = probed('tone.mp3');
  const tail = probed('tone.mp3.tail');
  const withStream = (changes: Record<string, unknown>) => {
    const json = structuredClone(tone) as { streams: Record<string, unknown>[] };
    Object.assign(json.streams[0]!, changes);
    return json;
  };

  it('reads the tail from 2 s before the stated end', () => {
    expect(mp3TailFrom(tone)).toBe(0.037);
  });

  it('takes the duration from start_time to the end of the last packet less its padding', () => {
    const info = parseFfprobeJson(tone, tail);
    expect(info.format.duration).toBe(2);
    expect(info.streams[0]?.duration).toBe(2);
    expect(streamMetaOf(info).duration).toBe(2);
  });

  it('keeps the stated duration without the tail, or when the tail holds no packets', () => {
    expect(parseFfprobeJson(tone).format.duration).toBe(2.037551);
    expect(parseFfprobeJson(tone, { packets: [] }).format.duration).toBe(2.037551);
    expect(parseFfprobeJson(tone, 'garbage').format.duration).toBe(2.037551);
  });

  it('trims the audio of an mp3 with cover art, not the picture', () => {
    const info = parseFfprobeJson(probed('cover.mp3'), tail);
    expect(info.format.duration).toBe(2);
    expect(info.streams.map((s) => [s.type, s.duration])).toEqual([
      ['audio', 2],
      ['video', 2.037556],
    ]);
  });

  it('reads no tail where FFmpeg trims nothing: no encoder delay (no Info tag), or not mp3', () => {
    expect(mp3TailFrom(withStream({ start_pts: 0, start_time: '0.000000' }))).toBeNull();
    expect(mp3TailFrom(probed('av.mp4'))).toBeNull();
    expect(mp3TailFrom(probed('two.mkv'))).toBeNull();
    expect(mp3TailFrom(withStream({ codec_name: 'mp2' }))).toBeNull();
    expect(parseFfprobeJson(probed('av.mp4'), tail).format.duration).toBe(2.002);
  });

  it('reads a short mp3 from its start', () => {
    expect(mp3TailFrom(withStream({ duration: '0.339592' }))).toBe(0);
  });
});

describe('parseRate', () => {
  it.each([
    ['30000/1001', { num: 30000, den: 1001 }],
    ['50/2', { num: 25, den: 1 }],
    ['0/0', undefined],
    ['25/0', undefined],
    ['N/A', undefined],
    [25, undefined],
  ])('%j → %j', (v, r) => expect(parseRate(v)).toEqual(r));
});

describe('notMediaReason', () => {
  it('refuses text read by the tty demuxer and files without media streams', () => {
    const tty = { format: { name: 'tty', duration: 1.52, size: 8893, bitRate: 46805 }, streams: [] };
    expect(notMediaReason(parseFfprobeJson(probed('av.mp4')))).toBeNull();
    expect(notMediaReason(tty)).toMatch(/text/);
    expect(notMediaReason({ ...tty, format: { ...tty.format, name: 'mp3' } })).toMatch(/no audio, video/);
  });
});
