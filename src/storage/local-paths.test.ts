import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  confirmSource,
  fileIdentity,
  mediaRoots,
  prepareDestination,
  relativeToRoots,
  resolveLocation,
} from './local-paths.js';

const roots = mediaRoots('/srv/media', ['/mnt/nas']);

describe('resolveLocation (lexical, no file system)', () => {
  it.each([
    ['test.mp4', '/srv/media/test.mp4'],
    ['sub/dir/a b.mkv', '/srv/media/sub/dir/a b.mkv'],
    ['a/../b.mp4', '/srv/media/b.mp4'],
    ['-i', '/srv/media/-i'],
    ['file:///srv/media/x.mp4', '/srv/media/x.mp4'],
    ['file://localhost/mnt/nas/films/x%20y.mkv', '/mnt/nas/films/x y.mkv'],
    ['/mnt/nas/x.mp4', '/mnt/nas/x.mp4'],
    ['..\\..\\etc\\passwd', '/srv/media/..\\..\\etc\\passwd'],
    [`${'n'.repeat(251)}.mp4`, `/srv/media/${'n'.repeat(251)}.mp4`],
    [`${'d/'.repeat(2035)}x.mp4`, `/srv/media/${'d/'.repeat(2035)}x.mp4`],
  ])('%s → %s', (loc, path) => {
    expect(resolveLocation(loc, roots, 'inputs[0].source')).toEqual({ path });
  });

  it.each([
    ['../x.mp4', 'path_outside_root'],
    ['a/../../x.mp4', 'path_outside_root'],
    ['/etc/passwd', 'path_outside_root'],
    ['/srv/mediaX/a.mp4', 'path_outside_root'],
    ['file:///etc/passwd', 'path_outside_root'],
    ['file:///srv/media/%2e%2e/%2e%2e/etc/passwd', 'path_outside_root'],
    ['file:///srv/media/a%00.mp4', 'invalid_value'],
    ['file:///srv/media/100%.mp4', 'invalid_format'],
    ['file:///srv/media/%E2%82.mp4', 'invalid_format'],
    ['a\u0000.mp4', 'invalid_value'],
    ['file://evil.example/x.mp4', 'unsupported_source'],
    ['http://127.0.0.1/x.mp4', 'unsupported_source'],
    ['s3://bucket/key.mp4', 'unsupported_source'],
    ['upload://abc', 'unsupported_source'],
    ['.', 'invalid_value'],
    ['/srv/media', 'invalid_value'],
    [`${'n'.repeat(256)}.mp4`, 'out_of_range'],
    [`sub/${'é'.repeat(128)}/x.mp4`, 'out_of_range'],
    [`${'d/'.repeat(2046)}x.mp4`, 'out_of_range'],
  ])('%s → %s', (loc, code) => {
    const r = resolveLocation(loc, roots, 'inputs[0].source');
    expect(r).toEqual({ issue: expect.objectContaining({ path: 'inputs[0].source', code }) });
  });
});

describe('on disk', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'mf-paths-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.mp4'), 'x');
  writeFileSync(join(root, 'ok.mp4'), 'x');
  symlinkSync(join(outside, 'secret.mp4'), join(root, 'link.mp4'));
  symlinkSync(outside, join(root, 'linkdir'));
  const r = mediaRoots(root);

  it('follows links that stay inside and refuses links that lead out', async () => {
    await expect(confirmSource(join(root, 'ok.mp4'), r)).resolves.toBe(join(root, 'ok.mp4'));
    await expect(confirmSource(join(root, 'link.mp4'), r)).rejects.toMatchObject({
      code: 'path_outside_root',
    });
    await expect(confirmSource(join(root, 'missing.mp4'), r)).rejects.toMatchObject({
      code: 'input_not_found',
    });
  });

  it('creates output folders and refuses a linked folder outside', async () => {
    await expect(prepareDestination(join(root, 'new/deep/out.mp4'), r)).resolves.toBe(
      join(root, 'new/deep/out.mp4'),
    );
    await expect(prepareDestination(join(root, 'linkdir/out.mp4'), r)).rejects.toMatchObject({
      code: 'path_outside_root',
    });
  });

  it('makes no folder outside when the new folders would be under a linked folder that leads out', async () => {
    await expect(prepareDestination(join(root, 'linkdir/new/deeper/out.mp4'), r)).rejects.toMatchObject({
      code: 'path_outside_root',
    });
    expect(existsSync(join(outside, 'new'))).toBe(false);
  });

  it('tells one file by its identity, whatever name or link leads to it', async () => {
    linkSync(join(root, 'ok.mp4'), join(root, 'hard.mp4'));
    symlinkSync('ok.mp4', join(root, 'soft.mp4'));
    const ok = await fileIdentity(join(root, 'ok.mp4'));
    expect(ok).toMatch(/^\d+:\d+$/);
    expect(await fileIdentity(join(root, 'hard.mp4'))).toBe(ok);
    expect(await fileIdentity(join(root, 'soft.mp4'))).toBe(ok);
    expect(await fileIdentity(join(outside, 'secret.mp4'))).not.toBe(ok);
    expect(await fileIdentity(join(root, 'missing.mp4'))).toBeNull();
  });
});

describe('relativeToRoots', () => {
  it.each([
    ['cannot read /srv/media/in/a.mp4: EACCES', 'cannot read in/a.mp4: EACCES'],
    ['["/mnt/nas/x.mkv","/srv/media/out/y.mp4"]', '["x.mkv","out/y.mp4"]'],
    // Only whole root folders: a sibling whose name starts the same stays as it is.
    ['/srv/media2/z.mp4 and /etc/passwd', '/srv/media2/z.mp4 and /etc/passwd'],
  ])('%s → %s', (text, shown) => {
    expect(relativeToRoots(text, roots)).toBe(shown);
  });
});
