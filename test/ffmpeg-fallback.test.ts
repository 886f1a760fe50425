/**
 * With no FFmpeg on the machine, the optional @ffmpeg-installer static build (FFmpeg 4.1, 2018)
 * runs a first job, with a warning; a feature it lacks is refused by name (ffmpeg_too_old).
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectiveVersion, resolveBinaries } from '../src/media/index.js';
import { makeClip } from '../src/media/test-support/make-media.js';
import { probeFile, runSpec, tempRoot } from './helpers/pipeline.js';

const bundled = await resolveBinaries({ env: { PATH: '' } }).catch(() => null);

describe.skipIf(!bundled)('the bundled FFmpeg fallback (optional dependency installed)', () => {
  const run = (spec: unknown, root: string) => runSpec(spec, root, { binaries: bundled! });

  it('is found when nothing else is, says it is old, and is held to 4.1', () => {
    expect(bundled!.ffmpeg.source).toBe('bundled');
    expect(bundled!.warnings.join(' ')).toMatch(/old static build/);
    expect(effectiveVersion(bundled!.ffmpeg)).toEqual({ major: 4, minor: 1 });
  });

  it('runs a trim + scale job', async () => {
    const root = tempRoot();
    await copyFile(await makeClip({ seconds: 3 }), join(root, 'in.mp4'));
    await run(
      {
        inputs: [{ id: 'v', source: 'in.mp4' }],
        operations: [
          { op: 'trim', input: 'v', output: 't', params: { start: 1, duration: 1.5 } },
          { op: 'scale', input: 't', output: 's', params: { width: 160 } },
        ],
        outputs: [
          { id: 's', destination: 'out.mp4', codec: { video: { codec: 'h264', preset: 'ultrafast' } } },
        ],
      },
      root,
    );
    const info = await probeFile(join(root, 'out.mp4'));
    expect(info.format.duration).toBeCloseTo(1.5, 1);
    expect(info.streams[0]).toMatchObject({ codec: 'h264', width: 160, height: 120 });
  });

  it('refuses a feature it lacks, naming it, before running anything', async () => {
    const root = tempRoot();
    await copyFile(await makeClip({ seconds: 1, video: false, format: 'mp3' }), join(root, 'a.mp3'));
    await copyFile(await makeClip({ seconds: 1, video: false, format: 'mp3' }), join(root, 'b.mp3'));
    const spec = {
      inputs: [
        { id: 'a', source: 'a.mp3' },
        { id: 'b', source: 'b.mp3' },
      ],
      operations: [{ op: 'mix', inputs: ['a', 'b'], output: 'm', params: { normalize: false } }],
      outputs: [{ id: 'm', destination: 'm.mp3' }],
    };
    await expect(run(spec, root)).rejects.toMatchObject({
      code: 'ffmpeg_too_old',
      message: expect.stringMatching(/normalize.*needs FFmpeg ≥ 4\.4, this one is 4\.1/),
    });
  });
});
