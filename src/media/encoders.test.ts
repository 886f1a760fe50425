import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { cachedEncoderList, listEncoders, listHwaccels, testEncode } from './encoders.js';
import { findExecutable } from './process.js';
import { makeExecutable, mediaTempDir } from './test-support/make-media.js';

const ffmpeg = process.env.MEDIAFORGE_FFMPEG ?? findExecutable('ffmpeg', process.env.PATH) ?? 'ffmpeg';

/**
 * An FFmpeg built with NVENC on a machine without an NVIDIA GPU: it lists h264_nvenc, and the
 * test encode fails the way the real one does (recorded from FFmpeg 5.1 here).
 */
const FAKE_GPU_FFMPEG = `
case " $* " in
  *" -encoders "*)
    echo "Encoders:"
    echo " V..... = Video"
    echo " ------"
    echo " V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)"
    echo " V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)"
    ;;
  *" h264_nvenc "*)
    echo "[h264_nvenc @ 0x5648a0ab3680] Cannot load libcuda.so.1" >&2
    echo "Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height" >&2
    exit 1
    ;;
  *) exit 0 ;;
esac`;

describe('listEncoders', () => {
  it('lists what the real FFmpeg was built with', async () => {
    const encoders = await listEncoders(ffmpeg);
    expect(encoders.get('libx264')).toMatchObject({ kind: 'video', codec: 'h264' });
    expect(encoders.get('aac')).toMatchObject({ kind: 'audio', codec: 'aac' });
  });

  it('caches the names per binary', async () => {
    const first = cachedEncoderList(ffmpeg);
    expect(cachedEncoderList(ffmpeg)).toBe(first);
    expect((await first).has('libx264')).toBe(true);
  });

  it('fails with the reason when the binary does not answer', async () => {
    const broken = makeExecutable(
      'ffmpeg-broken',
      'echo "libavcodec.so.59: cannot open shared object file" >&2; exit 127',
      join(mediaTempDir(), 'enc-bin'),
    );
    const e = await listEncoders(broken).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({
      code: 'ffmpeg_failed',
      message: expect.stringContaining('cannot open shared object'),
    });
  });

  it('lists hardware acceleration methods', async () => {
    const methods = await listHwaccels(ffmpeg);
    expect(Array.isArray(methods)).toBe(true);
    for (const m of methods) expect(m).toMatch(/^[a-z0-9_]+$/);
  });
});

describe('testEncode', () => {
  it.each(['libx264', 'mjpeg', 'png'])('passes with %s', async (encoder) => {
    const r = await testEncode(ffmpeg, encoder);
    expect(r).toEqual({ ok: true, ms: expect.any(Number) });
  });

  it.each(['aac', 'libopus', 'libmp3lame', 'flac'])(
    'encodes silence with the audio encoder %s',
    async (encoder) => {
      expect((await testEncode(ffmpeg, encoder)).ok).toBe(true);
    },
  );

  it('fails for an encoder this FFmpeg does not have', async () => {
    const r = await testEncode(ffmpeg, 'no_such_encoder');
    expect(r.ok).toBe(false);
    expect(r.error).toContain("Unknown encoder 'no_such_encoder'");
  });

  it('does not advertise a listed hardware encoder that cannot encode', async () => {
    const gpuLess = makeExecutable('ffmpeg', FAKE_GPU_FFMPEG, join(mediaTempDir(), 'gpu-less'));
    expect((await listEncoders(gpuLess)).has('h264_nvenc')).toBe(true);
    const r = await testEncode(gpuLess, 'h264_nvenc');
    expect(r.ok).toBe(false);
    expect(r.error).toContain('Cannot load libcuda.so.1');
    expect(r.error).not.toContain('0x5648a0ab3680');
    expect((await testEncode(gpuLess, 'libx264')).ok).toBe(true);
  });

  it('never passes an odd name to FFmpeg', async () => {
    expect(await testEncode(ffmpeg, '-vf')).toEqual({ ok: false, error: 'not an encoder name: -vf', ms: 0 });
    expect((await testEncode(ffmpeg, 'libx264 -y')).ok).toBe(false);
  });

  it('reports a binary it cannot run', async () => {
    const r = await testEncode('/nonexistent/ffmpeg', 'libx264');
    expect(r.ok).toBe(false);
    expect(r.error).toContain('cannot run /nonexistent/ffmpeg');
  });
});
