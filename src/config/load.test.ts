import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

function yaml(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mf-config-')), 'mediaforge.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('gives defaults', () => {
    const c = loadConfig('run', { env: {} });
    expect(c.probe_timeout_seconds).toBe(30);
    expect(c.max_pixels).toBe(8192 * 8192);
    expect(c.media_root).toBeUndefined();
  });

  it('layers env over YAML over defaults, and flags over env', () => {
    const file = yaml('probe_timeout_seconds: 10\nstall_timeout_seconds: 50\nmedia_root: /from/yaml\n');
    const c = loadConfig('run', {
      env: { MEDIAFORGE_STALL_TIMEOUT_SECONDS: '70', MEDIAFORGE_MEDIA_ROOT: '/from/env' },
      file,
      overrides: { media_root: '/from/flag' },
    });
    expect([c.probe_timeout_seconds, c.stall_timeout_seconds, c.media_root]).toEqual([10, 70, '/from/flag']);
  });

  it('reads MEDIAFORGE_CONFIG as the file', () => {
    const file = yaml('threads: 3\n');
    expect(loadConfig('run', { env: { MEDIAFORGE_CONFIG: file } }).threads).toBe(3);
  });

  it('splits the extra roots list from the environment', () => {
    expect(loadConfig('run', { env: { MEDIAFORGE_EXTRA_MEDIA_ROOTS: '/a:/b' } }).extra_media_roots).toEqual([
      '/a',
      '/b',
    ]);
  });

  it('is frozen', () => {
    const c = loadConfig('run', { env: {} });
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { threads: number }).threads = 9;
    }).toThrow(TypeError);
  });

  it.each([
    [{ env: { MEDIAFORGE_PROBE_TIMEOUT_SECONDS: 'abc' } }, /MEDIAFORGE_PROBE_TIMEOUT_SECONDS: .*number/],
    [{ env: { MEDIAFORGE_MAX_PIXELS: '-1' } }, /MEDIAFORGE_MAX_PIXELS/],
    [{ env: { MEDIAFORGE_LOG_LEVEL: 'loud' } }, /MEDIAFORGE_LOG_LEVEL: .*(debug|info)/],
    [{ env: { MEDIAFORGE_MEDIAROOT: '/x' } }, /unknown setting MEDIAFORGE_MEDIAROOT/],
  ] as const)('names the bad setting: %j', (opts, pattern) => {
    expect(() => loadConfig('run', opts)).toThrow(pattern);
  });

  it('names an unknown or bad key of the YAML file with the file', () => {
    const unknown = yaml('media_rot: /x\n');
    expect(() => loadConfig('run', { env: {}, file: unknown })).toThrow(/unknown setting .*media_rot/);
    const bad = yaml('kill_grace_seconds: forever\n');
    expect(() => loadConfig('run', { env: {}, file: bad })).toThrow(new RegExp(`${bad}: kill_grace_seconds`));
    const notYaml = yaml('a: [\n');
    expect(() => loadConfig('run', { env: {}, file: notYaml })).toThrow(/not valid YAML/);
    expect(() => loadConfig('run', { env: {}, file: '/nonexistent/mf.yaml' })).toThrow(
      /cannot read config file/,
    );
  });

  it('leaves the launcher variables alone', () => {
    expect(() => loadConfig('run', { env: { MEDIAFORGE_NODE_DIR: '/x' } })).not.toThrow();
  });
});
