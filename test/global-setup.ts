/**
 * Every temporary file of a test run goes under one folder made here and removed at the end:
 * vitest's fork workers exit without running 'exit' handlers, so per-test clean-up cannot be
 * trusted to run. Workers and the processes they start inherit TMPDIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'mediaforge-tests-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
