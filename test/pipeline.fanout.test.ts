import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeClip } from '../src/media/test-support/make-media.js';
import { countFrames, listFiles, probeFile, runSpec, tempRoot } from './helpers/pipeline.js';

describe('pipeline: the DESIGN example and a fan-out', () => {
  it('trims then scales, as the pipeline seed documents', async () => {
    const root = tempRoot();
    await copyFile(await makeClip({ seconds: 6, size: '320x240', fps: 25 }), join(root, 'test.mp4'));
    const result = await runSpec(
      {
        spec: {
          inputs: [{ id: 'video', source: 'test.mp4' }],
          operations: [
            {
              op: 'trim',
              input: 'video',
              output: 'clip',
              params: { start: '00:00:01', duration: '00:00:03' },
            },
            { op: 'scale', input: 'clip', output: 'small', params: { width: 160, algorithm: 'lanczos' } },
          ],
          outputs: [
            {
              id: 'small',
              destination: 'output.mp4',
              codec: {
                video: { codec: 'libx264', crf: 28, preset: 'ultrafast' },
                audio: { codec: 'aac', bitrate: '96k' },
              },
            },
          ],
        },
      },
      root,
    );
    const info = await probeFile(join(root, 'output.mp4'));
    expect(info.format.duration).toBeCloseTo(3, 1);
    expect(info.streams.map((s) => [s.type, s.codec])).toEqual([
      ['video', 'h264'],
      ['audio', 'aac'],
    ]);
    expect(info.streams[0]).toMatchObject({ width: 160, height: 120 });
    expect(await countFrames(join(root, 'output.mp4'))).toBe(75);
    expect(result.outputs[0]!.files).toEqual([join(root, 'output.mp4')]);
    expect(listFiles(root)).toEqual(['output.mp4', 'test.mp4']);
  });

  it('writes three renditions of one source from one FFmpeg process', async () => {
    const root = tempRoot();
    await mkdir(join(root, 'in'));
    await copyFile(await makeClip({ seconds: 2, size: '640x360' }), join(root, 'in/src.mp4'));
    const progress: number[] = [];
    await runSpec(
      {
        inputs: [{ id: 'src', source: 'in/src.mp4' }],
        operations: [
          { op: 'scale', input: 'src', output: 'r360', params: { height: 360 } },
          { op: 'scale', input: 'src', output: 'r240', params: { height: 240 } },
          {
            op: 'scale',
            input: 'src',
            output: 'r144',
            params: { width: 256, height: 144, algorithm: 'area' },
          },
        ],
        outputs: [
          {
            id: 'r360',
            destination: 'out/360.mp4',
            codec: { video: { codec: 'h264', preset: 'ultrafast' } },
          },
          {
            id: 'r240',
            destination: 'out/240.webm',
            codec: { video: { codec: 'vp9', preset: 'ultrafast', crf: 40 } },
          },
          {
            id: 'r144',
            destination: 'out/144.mkv',
            codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'flac' } },
          },
        ],
      },
      root,
      { onProgress: (p) => p.jobPercent !== null && progress.push(p.jobPercent) },
    );
    const sizes = await Promise.all(
      ['360.mp4', '240.webm', '144.mkv'].map(async (f) => probeFile(join(root, 'out', f))),
    );
    expect(sizes.map((i) => [i.streams[0]!.width, i.streams[0]!.height, i.streams[1]!.codec])).toEqual([
      [640, 360, 'aac'],
      [426, 240, 'opus'],
      [256, 144, 'flac'],
    ]);
    for (const i of sizes) expect(i.format.duration).toBeCloseTo(2, 1);
    expect(progress.length).toBeGreaterThan(0);
    expect(Math.max(...progress)).toBeGreaterThan(90);
    expect(listFiles(root)).toEqual(['in/src.mp4', 'out/144.mkv', 'out/240.webm', 'out/360.mp4']);
  });
});
