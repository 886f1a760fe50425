import { describe, expect, it } from 'vitest';
import { parsePathMappings, toLocalPath, toOrchestratorPath } from './path-mapping.js';

describe('path mappings', () => {
  const maps = parsePathMappings(['/mnt/nas=/Volumes/nas', '/mnt/nas/movies=/Volumes/movies/']);

  it.each([
    ['/mnt/nas/a.mp4', '/Volumes/nas/a.mp4'],
    ['/mnt/nas', '/Volumes/nas'],
    // The longest prefix wins.
    ['/mnt/nas/movies/b.mkv', '/Volumes/movies/b.mkv'],
    // Whole components only.
    ['/mnt/nasty/c.mp4', '/mnt/nasty/c.mp4'],
    ['/srv/other.mp4', '/srv/other.mp4'],
    // A path cannot climb out of the mapped prefix by normalisation.
    ['/mnt/nas/x/../y.mp4', '/Volumes/nas/y.mp4'],
    ['/mnt/nas/../etc/passwd', '/mnt/etc/passwd'],
  ])('%s → %s', (from, to) => {
    expect(toLocalPath(from, maps)).toBe(to);
  });

  it('undoes the mapping for reports', () => {
    for (const p of ['/mnt/nas/a.mp4', '/mnt/nas/movies/b.mkv', '/srv/other.mp4'])
      expect(toOrchestratorPath(toLocalPath(p, maps), maps)).toBe(p);
  });

  it.each(['/mnt/nas', 'mnt=/x', '/a=relative', '=/x'])('refuses %j', (bad) => {
    expect(() => parsePathMappings([bad])).toThrow(/FROM=TO/);
  });
});
