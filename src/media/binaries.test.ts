import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { parseVersion, resolveBinaries, resolveBinary } from './binaries.js';
import { findExecutable } from './process.js';
import { makeExecutable, mediaTempDir } from './test-support/make-media.js';

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

const noPackages = (s: string) => Promise.reject(new Error(`Cannot find package '${s}'`));

describe('parseVersion', () => {
  it.each([
    ['ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers', 5, 1, '5.1.9-0+deb12u1'],
    ['ffmpeg version n6.1.1 Copyright (c) 2000-2023 the FFmpeg developers', 6, 1, 'n6.1.1'],
    [
      'ffmpeg version 4.1-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2018',
      4,
      1,
      '4.1-static',
    ],
    ['ffmpeg version 7.1 Copyright (c) 2000-2024 the FFmpeg developers\nbuilt with Apple clang', 7, 1, '7.1'],
    [
      'ffmpeg version N-113684-g5fd1c6f Copyright (c) 2000-2024 the FFmpeg developers',
      null,
      null,
      'N-113684-g5fd1c6f',
    ],
    ['ffmpeg version git-2020-05-23-26240b2 Copyright (c) 2000-2020', null, null, 'git-2020-05-23-26240b2'],
  ])('%s', (text, major, minor, word) => {
    expect(parseVersion(text, 'ffmpeg')).toEqual({ major, minor, text: word });
  });

  it('refuses output of another program', () => {
    expect(parseVersion('ffprobe version 5.1 Copyright', 'ffmpeg')).toBeNull();
    expect(parseVersion('bash: ffmpeg: command not found', 'ffmpeg')).toBeNull();
    expect(parseVersion('', 'ffprobe')).toBeNull();
  });
});

describe('resolveBinary', () => {
  it('finds the real binaries on PATH and reads their versions', async () => {
    const found = await resolveBinaries({ env: { PATH: process.env.PATH }, importModule: noPackages });
    expect(found.ffmpeg).toMatchObject({ source: 'path', path: findExecutable('ffmpeg', process.env.PATH) });
    expect(found.ffprobe.source).toBe('path');
    expect(found.ffmpeg.version.major === null || found.ffmpeg.version.major >= 4).toBe(true);
    expect(found.warnings).toEqual([]);
  });

  it('says clearly when MEDIAFORGE_FFMPEG points at nothing, without falling back to PATH', async () => {
    const e = await failure(
      resolveBinary('ffmpeg', { env: { MEDIAFORGE_FFMPEG: '/nonexistent/ffmpeg', PATH: process.env.PATH } }),
    );
    expect(e.code).toBe('ffmpeg_not_found');
    expect(e.message).toContain('MEDIAFORGE_FFMPEG (/nonexistent/ffmpeg) is not an executable file');
    expect(e.message).toContain('apt-get install ffmpeg');
  });

  it('refuses an explicit path to a program that is not ffmpeg', async () => {
    const notFfmpeg = makeExecutable('not-ffmpeg', 'echo "hello"', join(mediaTempDir(), 'bin-other'));
    const e = await failure(resolveBinary('ffmpeg', { ffmpeg: notFfmpeg, env: {} }));
    expect(e.code).toBe('ffmpeg_not_found');
    expect(e.message).toMatch(/configured ffmpeg path: .*does not look like ffmpeg/);
  });

  it('takes an explicit path over PATH and the environment', async () => {
    const dir = join(mediaTempDir(), 'bin-explicit');
    const mine = makeExecutable('ffprobe', 'echo "ffprobe version 8.0-mine Copyright"', dir);
    const r = await resolveBinary('ffprobe', {
      ffprobe: mine,
      env: { MEDIAFORGE_FFPROBE: '/nonexistent', PATH: process.env.PATH },
    });
    expect(r.binary).toEqual({
      path: mine,
      source: 'env',
      version: { major: 8, minor: 0, text: '8.0-mine' },
    });
  });

  it('looks ffmpeg up on the PATH it is given', async () => {
    const dir = join(mediaTempDir(), 'bin-fake');
    const fake = makeExecutable(
      'ffmpeg',
      'echo "ffmpeg version 9.2.1-fake Copyright (c) the FFmpeg developers"',
      dir,
    );
    const r = await resolveBinary('ffmpeg', { env: { PATH: `/nonexistent:${dir}:${process.env.PATH}` } });
    expect(r.binary).toEqual({
      path: fake,
      source: 'path',
      version: { major: 9, minor: 2, text: '9.2.1-fake' },
    });
  });

  it('falls back to the installer package, with a warning', async () => {
    const real = findExecutable('ffmpeg', process.env.PATH);
    const r = await resolveBinary('ffmpeg', {
      env: { PATH: '/nonexistent' },
      importModule: async (s) =>
        s === '@ffmpeg-installer/ffmpeg' ? { default: { path: real, version: '4.1' } } : {},
    });
    expect(r.binary).toMatchObject({ path: real, source: 'bundled' });
    expect(r.warnings).toEqual([expect.stringContaining('@ffmpeg-installer/ffmpeg')]);
  });

  it('says how to install FFmpeg when there is none anywhere', async () => {
    const e = await failure(
      resolveBinary('ffprobe', { env: { PATH: '/nonexistent' }, importModule: noPackages }),
    );
    expect(e.code).toBe('ffmpeg_not_found');
    expect(e.message).toContain('MEDIAFORGE_FFPROBE (not set)');
    expect(e.message).toContain('@ffprobe-installer/ffprobe (not installed)');
    expect(e.message).toMatch(/apt-get install ffmpeg.*brew install ffmpeg/);
  });
});
