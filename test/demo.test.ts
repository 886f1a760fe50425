import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, jsonLines, runCli } from './helpers/cli.js';
import { countFrames, listFiles, probeFile, tempRoot } from './helpers/pipeline.js';

beforeAll(ensureBuilt, 120_000);

describe('npm start (mediaforge demo)', () => {
  it('generates a clip and runs the example job: an 8 s 640x360 MP4, an MP3 and a sprite sheet with its track', async () => {
    const dir = tempRoot('mf-demo-');
    const r = await runCli(['demo', '--dir', dir, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.at(-1)).toMatchObject({ type: 'result', status: 'completed' });
    expect(lines.filter((l) => l.type === 'progress').length).toBeGreaterThan(0);
    expect(listFiles(dir)).toEqual([
      'demo/job.json',
      'demo/out/clip-640.mp4',
      'demo/out/clip-audio.mp3',
      'demo/out/sprite.jpg',
      'demo/out/sprite.vtt',
      'demo/source.mp4',
    ]);

    const mp4 = await probeFile(join(dir, 'demo/out/clip-640.mp4'));
    expect(mp4.format.duration).toBeCloseTo(8, 1);
    expect(mp4.streams.map((s) => [s.type, s.codec, s.width ?? null, s.height ?? null])).toEqual([
      ['video', 'h264', 640, 360],
      ['audio', 'aac', null, null],
    ]);
    expect(await countFrames(join(dir, 'demo/out/clip-640.mp4'))).toBe(240);
    const mp3 = await probeFile(join(dir, 'demo/out/clip-audio.mp3'));
    expect(mp3.streams.map((s) => s.type)).toEqual(['audio']);
    expect(mp3.format.duration).toBeGreaterThan(7.9);
    expect(mp3.format.duration).toBeLessThan(8.1);
    const sheet = await probeFile(join(dir, 'demo/out/sprite.jpg'));
    expect(sheet.streams[0]).toMatchObject({ width: 640, height: 180 });
    const vtt = readFileSync(join(dir, 'demo/out/sprite.vtt'), 'utf8');
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect(vtt.match(/-->/g)).toHaveLength(6);
    expect(vtt).toContain('00:00:10.000 --> 00:00:12.000\nsprite.jpg#xywh=160,90,160,90');
  });
});
