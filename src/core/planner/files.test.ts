import { describe, expect, it } from 'vitest';
import { seriesPaths, vttPath, writtenFiles } from './files.js';

describe('the files an output writes', () => {
  it('names a series as image2 numbers it, and a sheet its track', () => {
    expect(seriesPaths('/m/out/thumb.png', 3)).toEqual([
      '/m/out/thumb-0001.png',
      '/m/out/thumb-0002.png',
      '/m/out/thumb-0003.png',
    ]);
    expect(seriesPaths('/m/a.b/pic', 1)).toEqual(['/m/a.b/pic-0001']);
    expect(seriesPaths('/m/t.jpg', 10_000).at(-1)).toBe('/m/t-10000.jpg');
    expect(vttPath('/m/out/sheet.jpg')).toBe('/m/out/sheet.vtt');
    expect(vttPath('/m/a.b/sheet')).toBe('/m/a.b/sheet.vtt');
  });

  it.each([
    [{ path: '/m/o.mp4', image: null }, ['/m/o.mp4']],
    [{ path: '/m/t.png', image: { frames: 1 } }, ['/m/t.png']],
    [{ path: '/m/t.png', image: { frames: 2 } }, ['/m/t-0001.png', '/m/t-0002.png']],
    [
      {
        path: '/m/s.jpg',
        image: { frames: 1 },
        sidecar: { kind: 'sprite_vtt' as const, path: '/m/s.vtt', node: 's' },
      },
      ['/m/s.jpg', '/m/s.vtt'],
    ],
  ])('%j → %j', (out, want) => expect(writtenFiles(out)).toEqual(want));
});
