/**
 * A job's progress from its tasks: each task weighs the seconds of media it produces, scaled by
 * what its kind costs (core taskWeight: a chunked output's audio and join weigh little), so a
 * loudnorm measuring pass and the encode after it count for what they are.
 */
import { type TaskProgress, taskWeight } from '../core/index.js';

export interface TaskSnapshot {
  id: string;
  kind: string;
  state: string;
  attempt: number;
  progress: TaskProgress | null;
  expectedDuration: number | null;
}

export interface JobProgressView {
  overall_percent: number;
  current_step: string;
  tasks: Array<{ task_id: string; kind: string; state: string; attempt: number; percent: number }>;
  fps: number | null;
  speed: number | null;
  eta_seconds: number | null;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function jobProgress(tasks: readonly TaskSnapshot[], stage: string): JobProgressView {
  const percentOf = (t: TaskSnapshot) =>
    t.state === 'succeeded' ? 100 : t.state === 'running' ? (t.progress?.percent ?? 0) : 0;
  const weights = tasks.map((t) => taskWeight(t.kind, t.expectedDuration));
  const total = weights.reduce((a, b) => a + b, 0);
  const done = tasks.reduce((sum, t, i) => sum + (weights[i]! * percentOf(t)) / 100, 0);
  const running = tasks.filter((t) => t.state === 'running');
  const current = running[0];
  const speeds = running
    .map((t) => t.progress?.speed)
    .filter((s): s is number => typeof s === 'number' && s > 0);
  const speed = speeds.length > 0 ? speeds.reduce((a, b) => a + b, 0) : null;
  const remainingMedia = total - done;
  return {
    overall_percent: total > 0 ? round1(Math.min(100, (100 * done) / total)) : 0,
    current_step: current ? `${current.kind} ${current.id.split(':').pop()}` : stage,
    tasks: tasks.map((t) => ({
      task_id: t.id,
      kind: t.kind,
      state: t.state,
      attempt: t.attempt,
      percent: round1(percentOf(t)),
    })),
    fps: current?.progress?.fps ?? null,
    speed: speed === null ? null : round1(speed * 100) / 100,
    eta_seconds:
      speed && tasks.every((t) => t.expectedDuration !== null) ? Math.round(remainingMedia / speed) : null,
  };
}
