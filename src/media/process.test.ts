import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExecutable, OutputTail, runProcess, startProcess, stderrSummary } from './process.js';
import { makeExecutable, mediaTempDir } from './test-support/make-media.js';

describe('OutputTail', () => {
  it('keeps the last lines', () => {
    const tail = new OutputTail(1000, 3);
    for (let i = 1; i <= 10; i++) tail.push(`line ${i}\n`);
    expect(tail.text()).toBe('line 8\nline 9\nline 10');
  });

  it('keeps the last characters of endless output', () => {
    const tail = new OutputTail(100, 1000);
    for (let i = 0; i < 10_000; i++) tail.push('x'.repeat(99) + '\n');
    expect(tail.text().length).toBeLessThanOrEqual(100);
  });
});

describe('stderrSummary', () => {
  it('keeps the last meaningful lines, without addresses', () => {
    const log = [
      "[Parsed_scale_0 @ 0x55f50cb1bb00] Cannot parse expression for width: 'abc'",
      "[AVFilterGraph @ 0x55f50cb1b000] Error initializing filter 'scale' with args 'w=abc:h=-2'",
      'Error reinitializing filters!',
      '',
      'Conversion failed!',
      '',
    ].join('\n');
    expect(stderrSummary(log, 2)).toBe(
      "[AVFilterGraph] Error initializing filter 'scale' with args 'w=abc:h=-2'\nError reinitializing filters!",
    );
    expect(stderrSummary('')).toBe('');
  });

  it("drops the encoders' closing chatter that would push the cause out (recorded from FFmpeg 5.1)", () => {
    const log = [
      "x264 [error]: high profile doesn't support 4:4:4",
      '[libx264 @ 0x5581f7c3e100] Error setting profile high.',
      'Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height',
      '[aac @ 0x5581f7c41200] Qavg: nan',
      '[aac @ 0x5581f7c42300] 2 frames left in the queue on closing',
      '[libopus @ 0x5581f7c43400] 1 frames left in the queue on closing',
      '[libmp3lame @ 0x5581f7c44500] 3 frames left in the queue on closing',
      'Conversion failed!',
    ].join('\n');
    expect(stderrSummary(log, 3)).toMatch(/Error setting profile high/);
  });
});

describe('findExecutable', () => {
  it('finds on PATH, or takes a path as it is', () => {
    const dir = join(mediaTempDir(), 'find-bin');
    const tool = makeExecutable('some-tool', 'true', dir);
    expect(findExecutable('some-tool', `/nonexistent:${dir}`)).toBe(tool);
    expect(findExecutable(tool, undefined)).toBe(tool);
    expect(findExecutable('some-tool', '/nonexistent')).toBeNull();
    expect(findExecutable(dir, undefined)).toBeNull(); // a folder is not a program
  });
});

describe('runProcess', () => {
  it('collects stdout and the exit code', async () => {
    const r = await runProcess('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err', timedOut: false });
  });

  it('kills on timeout', async () => {
    const r = await runProcess('sleep', ['30'], { timeoutMs: 100 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
  });

  it('passes arguments as they are, never through a shell', async () => {
    const r = await runProcess('printf', ['%s|', '$(id)', '; rm -rf /', '*']);
    expect(r.stdout).toBe('$(id)|; rm -rf /|*|');
  });

  it('rejects when the program does not exist', async () => {
    await expect(startProcess('/nonexistent/x', [])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
