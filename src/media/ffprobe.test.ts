import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { probe } from './ffprobe.js';
import { findExecutable, runProcess } from './process.js';
import {
  ffmpegForTests,
  makeClip,
  makeExecutable,
  makeFile,
  mediaTempDir,
} from './test-support/make-media.js';

const ffprobe = process.env.MEDIAFORGE_FFPROBE ?? findExecutable('ffprobe', process.env.PATH) ?? 'ffprobe';

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

describe('probe on real media', () => {
  it('reads an mp4 with video and audio', async () => {
    const info = await probe(await makeClip({ seconds: 2, size: '320x240' }), { ffprobe });
    expect(info.format.name).toContain('mp4');
    expect(info.format.duration).toBeCloseTo(2, 1);
    expect(info.streams.map((s) => [s.type, s.codec])).toEqual([
      ['video', 'h264'],
      ['audio', 'aac'],
    ]);
    expect(info.streams[0]).toMatchObject({ width: 320, height: 240, fps: { num: 25, den: 1 } });
  });

  it.each([
    ['mp3', [['audio', 'mp3']]],
    [
      'mkv',
      [
        ['video', 'h264'],
        ['audio', 'opus'],
      ],
    ],
    ['png', [['video', 'png']]],
    ['wav', [['audio', 'pcm_s16le']]],
  ] as const)('reads a %s', async (format, streams) => {
    const info = await probe(await makeClip({ format, seconds: 1 }), { ffprobe });
    expect(info.streams.map((s) => [s.type, s.codec])).toEqual(streams);
  });

  it('reads a file named -i as a file, not an option', async () => {
    const dir = join(mediaTempDir(), 'dash-name');
    mkdirSync(dir, { recursive: true });
    const odd = join(dir, '-i');
    copyFileSync(await makeClip({ seconds: 1 }), odd);
    const info = await probe(odd, { ffprobe });
    expect(info.streams).toHaveLength(2);
  });

  it('applies a demuxer whitelist', async () => {
    const clip = await makeClip({ seconds: 1 });
    await expect(probe(clip, { ffprobe, formats: ['mov', 'matroska'] })).resolves.toBeTruthy();
    const e = await failure(probe(clip, { ffprobe, formats: ['matroska'] }));
    expect(e.code).toBe('input_not_allowed');
  });

  it('never lets a playlist reach the network', async () => {
    const m3u8 = makeFile('remote.m3u8', '#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n');
    const e = await failure(probe(m3u8, { ffprobe }));
    expect(['input_not_media', 'input_not_allowed']).toContain(e.code);
  });
});

describe('probe of an mp3: as long as it decodes', () => {
  /** A 3 s 440 Hz tone as mp3, with `args` for the encoder and muxer. */
  async function mp3(name: string, rate: number, args: string[]): Promise<string> {
    const file = join(mediaTempDir(), `${name}.mp3`);
    const input = `sine=frequency=440:sample_rate=${rate}:duration=3`;
    const r = await runProcess(
      ffmpegForTests(),
      ['-v', 'error', '-y', '-f', 'lavfi', '-i', input, '-c:a', 'libmp3lame', ...args, file],
      { timeoutMs: 30_000 },
    );
    if (r.code !== 0) throw new Error(r.stderr);
    return file;
  }

  // Decoding yields the 3 s that were encoded, exactly: FFmpeg drops the delay and the padding the
  // LAME tag states (the header says 3.024 s at 48 kHz, 3.030 s at 44.1 kHz VBR).
  it.each([
    ['CBR 48 kHz', 48_000, ['-b:a', '128k']],
    ['VBR 44.1 kHz with an ID3v1 tag', 44_100, ['-q:a', '4', '-write_id3v1', '1']],
  ])('%s: 3 s', async (name, rate, args) => {
    const info = await probe(await mp3(name.replace(/\W+/g, '-'), rate, args), { ffprobe });
    expect(info.format.duration).toBe(3);
    expect(info.streams[0]?.duration).toBe(3);
  });

  // Without the Info tag FFmpeg has no delay or padding to drop: all 126 frames decode, 3.024 s.
  it('an mp3 without an Info tag keeps the length of all its frames', async () => {
    const info = await probe(await mp3('no-xing', 48_000, ['-write_xing', '0']), { ffprobe });
    expect(info.format.duration).toBe(3.024);
  });
});

describe('probe on files that are not media', () => {
  it.each([
    [
      'a text file named .mp4',
      () => makeFile('text.mp4', 'hello, this is not a video\n'),
      /not a media file/,
    ],
    [
      'a long text file (read as "tty" by ffprobe)',
      () => makeFile('notes.txt', 'line\n'.repeat(2000)),
      /text file/,
    ],
    ['a zero-length file', () => makeFile('empty.mp4', ''), /empty \(0 bytes\)/],
    ['a folder', () => mediaTempDir(), /is a folder/],
  ])('refuses %s as input_not_media', async (_, make, message) => {
    const e = await failure(probe(make(), { ffprobe }));
    expect(e.code).toBe('input_not_media');
    expect(e.message).toMatch(message);
  });

  it('says input_not_found for a missing file, naming only the file', async () => {
    const e = await failure(probe(join(mediaTempDir(), 'missing.mp4'), { ffprobe }));
    expect(e).toMatchObject({ code: 'input_not_found', message: 'missing.mp4: no such file' });
  });

  it('keeps server folders out of messages', async () => {
    const e = await failure(probe(makeFile('text2.mp4', 'text'), { ffprobe }));
    expect(e.message).not.toContain(mediaTempDir());
    expect(e.message).toContain('text2.mp4');
  });
});

describe('probe when ffprobe misbehaves', () => {
  const bin = join(mediaTempDir(), 'bad-ffprobe');

  it('kills a hanging ffprobe: probe_timeout', async () => {
    const hang = makeExecutable('ffprobe-hang', 'exec sleep 30', bin);
    const e = await failure(probe(await makeClip({ seconds: 1 }), { ffprobe: hang, timeoutMs: 300 }));
    expect(e.code).toBe('probe_timeout');
  });

  it('reports the last stderr line of an unexpected failure: probe_failed', async () => {
    const broken = makeExecutable(
      'ffprobe-broken',
      'echo "first line" >&2; echo "something broke" >&2; exit 3',
      bin,
    );
    const e = await failure(probe(await makeClip({ seconds: 1 }), { ffprobe: broken }));
    expect(e).toMatchObject({ code: 'probe_failed' });
    expect(e.message).toMatch(/something broke$/);
  });

  it('refuses an answer that is not JSON', async () => {
    const chatty = makeExecutable('ffprobe-chatty', 'echo "not json"', bin);
    const e = await failure(probe(await makeClip({ seconds: 1 }), { ffprobe: chatty }));
    expect(e.code).toBe('probe_failed');
  });

  it('stops when aborted: cancelled', async () => {
    const hang = makeExecutable('ffprobe-hang2', 'exec sleep 30', bin);
    const abort = new AbortController();
    const pending = probe(await makeClip({ seconds: 1 }), { ffprobe: hang, signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    expect((await failure(pending)).code).toBe('cancelled');
  });

  it('says ffmpeg_not_found when ffprobe itself is missing', async () => {
    const e = await failure(probe(await makeClip({ seconds: 1 }), { ffprobe: '/nonexistent/ffprobe' }));
    expect(e.code).toBe('ffmpeg_not_found');
  });
});
