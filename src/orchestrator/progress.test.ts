import { describe, expect, it } from 'vitest';
import { jobProgress, type TaskSnapshot } from './progress.js';

const task = (id: string, kind: string, state: string, expectedDuration: number | null): TaskSnapshot => ({
  id: `job:1:${id}`,
  kind,
  state,
  attempt: 1,
  progress: null,
  expectedDuration,
});

describe('jobProgress', () => {
  it("weighs a chunked output's audio and join as the small part of the work they are", () => {
    // 60 s in three chunks, all encoded; the audio (60 s) and the join (60 s) still to run.
    const tasks = [
      task('t0-c0000', 'chunk', 'succeeded', 20),
      task('t0-c0001', 'chunk', 'succeeded', 20),
      task('t0-c0002', 'chunk', 'succeeded', 20),
      task('t0-audio', 'audio', 'ready', 60),
      task('t0', 'join', 'waiting', 60),
    ];
    // 60 of 60 + 6 + 3 weighted seconds.
    expect(jobProgress(tasks, 'processing').overall_percent).toBe(87);
    const joined = tasks.map((t) => ({ ...t, state: 'succeeded' }));
    expect(jobProgress(joined, 'completed').overall_percent).toBe(100);
  });

  it('counts a measuring pass and its encode alike, by the seconds each produces', () => {
    const tasks = [task('m0', 'measure', 'succeeded', 30), task('t0', 'transcode', 'ready', 30)];
    expect(jobProgress(tasks, 'processing').overall_percent).toBe(50);
  });
});
