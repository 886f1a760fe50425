import { mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { effectiveVersion, probeHardware, resolveBinaries, runProcess } from '../media/index.js';
import { writeFakeFfmpeg } from '../media/test-support/fake-ffmpeg.js';
import { makeClip, mediaTempDir } from '../media/test-support/make-media.js';
import { mediaRoots } from '../storage/index.js';
import { EncoderHealth, type UnhealthyEncoder } from './encoder-health.js';
import { executeJob } from './execute.js';
import { localTools } from './local-tools.js';
import { prepareJob } from './prepare.js';
import type { MediaTools } from './tools.js';

describe('EncoderHealth', () => {
  it('remembers an encoder with its reason, tells each listener once, and forgets on clear()', () => {
    const health = new EncoderHealth();
    const heard: UnhealthyEncoder[] = [];
    const stop = health.onUnhealthy((e) => heard.push(e));
    const view = health.unhealthy();
    health.markUnhealthy('h264_nvenc', 'Cannot load libcuda.so.1');
    health.markUnhealthy('h264_nvenc', 'again');
    expect(view.has('h264_nvenc')).toBe(true); // a live view
    expect(health.reason('h264_nvenc')).toBe('Cannot load libcuda.so.1');
    expect(heard).toEqual([{ name: 'h264_nvenc', reason: 'Cannot load libcuda.so.1' }]);
    stop();
    health.markUnhealthy('hevc_vaapi', 'no device');
    expect(heard).toHaveLength(1);
    health.clear();
    expect([...view]).toEqual([]);
  });
});

/**
 * The fake FFmpeg lists h264_nvenc, passes it at the probe and fails it on real input, as a GPU
 * does when its driver went away after the worker started. Everything else is the real FFmpeg.
 */
describe('a hardware encoder that passed the probe and fails at a task start', () => {
  let root: string;
  const log = join(mediaTempDir(), 'flaky-nvenc.log');
  let ffprobe: string;

  beforeAll(async () => {
    root = mkdtempSync(join(mediaTempDir(), 'hw-root-'));
    ffprobe = (await resolveBinaries({ env: process.env })).ffprobe.path;
    await makeClip({ seconds: 2, size: '320x240', fps: 25, dir: root, name: 'in' }); // 50 frames
  });

  async function setup(fake: Parameters<typeof writeFakeFfmpeg>[0]) {
    const ffmpeg = writeFakeFfmpeg({ ...fake, log });
    const probe = await probeHardware({ ffmpeg, mode: 'auto', codecs: ['h264'] });
    const config = loadConfig('run', { env: {}, overrides: { media_root: root } });
    const binaries = await resolveBinaries({ ffmpeg, env: process.env });
    const proved = new Set(probe.encoders.filter((e) => e.hardware !== null).map((e) => e.name));
    const tools: MediaTools = { ...localTools(config, binaries), hardwareEncoders: async () => proved };
    const roots = mediaRoots(root);
    const health = new EncoderHealth();
    const heard: UnhealthyEncoder[] = [];
    health.onUnhealthy((e) => heard.push(e));
    /** in.mp4 → `destination` as H.264 + AAC; returns the video encoders FFmpeg was started with. */
    const run = async (destination: string, hardware = true) => {
      await writeFile(log, '');
      const spec = {
        inputs: [{ id: 'in', source: 'in.mp4' }],
        outputs: [
          { id: 'in', destination, codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: 'aac' } },
        ],
      };
      const job = await prepareJob(spec, {
        roots,
        tools,
        limits: { maxPixels: config.max_pixels, maxSeconds: config.max_input_seconds },
        ffmpegVersion: effectiveVersion(binaries.ffmpeg),
      });
      await executeJob(job, { roots, tools, hardware, health });
      return startedWith();
    };
    return { probe, health, heard, run };
  }

  async function startedWith(): Promise<string[]> {
    const lines = (await readFile(log, 'utf8')).split('\n');
    return lines.flatMap((l) => /-c:v (\S+)/.exec(l)?.[1] ?? []);
  }

  async function videoOf(file: string) {
    const r = await runProcess(ffprobe, [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,nb_read_frames',
      '-of',
      'json',
      file,
    ]);
    const s = JSON.parse(r.stdout).streams[0];
    return { codec: s.codec_name as string, frames: Number(s.nb_read_frames) };
  }

  it('runs the task again with libx264, marks h264_nvenc unhealthy, and later tasks go straight to software', async () => {
    const { probe, health, heard, run } = await setup({
      list: ['h264_nvenc'],
      failOutsideProbe: ['h264_nvenc'],
    });
    expect(probe.encoders.map((e) => e.name)).toContain('h264_nvenc'); // it did pass the probe

    expect(await run('first.mp4')).toEqual(['h264_nvenc', 'libx264']);
    expect(await videoOf(join(root, 'first.mp4'))).toEqual({ codec: 'h264', frames: 50 });
    expect([...health.unhealthy()]).toEqual(['h264_nvenc']);
    expect(heard).toEqual([
      { name: 'h264_nvenc', reason: expect.stringContaining('Cannot load libcuda.so.1') },
    ]);

    expect(await run('second.mp4')).toEqual(['libx264']);
    expect(await videoOf(join(root, 'second.mp4'))).toEqual({ codec: 'h264', frames: 50 });
  });

  it('an encoder that is listed but failed the probe is never started, hardware on or not', async () => {
    const { probe, health, run } = await setup({ list: ['h264_nvenc'], fail: ['h264_nvenc'] });
    expect(probe.failed.map((f) => f.name)).toContain('h264_nvenc');
    expect(await run('unproved.mp4')).toEqual(['libx264']);
    expect(health.unhealthy().size).toBe(0);
  });

  it('with hardware not allowed, software from the start', async () => {
    const { health, run } = await setup({ list: ['h264_nvenc'], failOutsideProbe: ['h264_nvenc'] });
    expect(await run('soft.mp4', false)).toEqual(['libx264']);
    expect(health.unhealthy().size).toBe(0);
  });

  it('when software fails the same way, the cause was not the encoder: its error stands, nothing is marked', async () => {
    const { health, run } = await setup({
      list: ['h264_nvenc'],
      failOutsideProbe: ['h264_nvenc'],
      fail: ['libx264'],
    });
    const e = await run('never.mp4').catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'ffmpeg_failed', message: expect.stringContaining('[libx264') });
    expect(await startedWith()).toEqual(['h264_nvenc', 'libx264']);
    expect(health.unhealthy().size).toBe(0);
  });
});
