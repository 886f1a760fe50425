import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureRootMarker, ROOT_MARKER, readRootMarker } from './root-marker.js';

const dir = () => mkdtempSync(join(tmpdir(), 'mf-marker-'));

describe('root markers', () => {
  it('are made once: later calls, even at the same moment, read the same id', async () => {
    const root = dir();
    expect(await readRootMarker(root)).toBeNull();
    const ids = await Promise.all([ensureRootMarker(root), ensureRootMarker(root), ensureRootMarker(root)]);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(1);
    expect(await readRootMarker(root)).toBe(ids[0]);
    expect(readFileSync(join(root, ROOT_MARKER), 'utf8').trim()).toBe(ids[0]);
  });

  it('a marker that is not one of ours reads as none', async () => {
    const root = dir();
    writeFileSync(join(root, ROOT_MARKER), 'hello\n');
    expect(await readRootMarker(root)).toBeNull();
  });

  it('a root that cannot take one has none', async () => {
    expect(await ensureRootMarker(join(dir(), 'missing'))).toBeNull();
  });
});
