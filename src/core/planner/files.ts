/**
 * The files an output leaves behind, by name, known from the plan alone: prepare checks them
 * against the inputs and each other before anything runs, and execute writes exactly these.
 */
import type { TaskOutput, TaskSpec } from '../spec/task-spec.schema.js';

const stemOf = (path: string) => {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash ? { stem: path.slice(0, dot), ext: path.slice(dot) } : { stem: path, ext: '' };
};

/** The sprite's WebVTT track beside its sheet: `sheet.jpg` → `sheet.vtt`. */
export function vttPath(path: string): string {
  return `${stemOf(path).stem}.vtt`;
}

/** The numbered pictures of a series, as image2 names them with `-%04d`: `thumb.png` → `thumb-0001.png`, ... */
export function seriesPaths(path: string, frames: number): string[] {
  const { stem, ext } = stemOf(path);
  return Array.from({ length: frames }, (_, k) => `${stem}-${String(k + 1).padStart(4, '0')}${ext}`);
}

/** Every file an output writes once it succeeds: its destination or the pictures of its series, then any sidecar. */
export function writtenFiles(out: Pick<TaskOutput, 'path' | 'image' | 'sidecar'>): string[] {
  const main = out.image && out.image.frames > 1 ? seriesPaths(out.path, out.image.frames) : [out.path];
  return out.sidecar ? [...main, out.sidecar.path] : main;
}

/**
 * The files a task reads and writes: what a worker without shared storage fetches before it runs
 * and uploads after. A join reads its chunks and its audio piece (it writes its concat list itself).
 */
export function taskFiles(t: TaskSpec): { reads: string[]; writes: string[] } {
  const reads =
    t.kind === 'join' && t.join
      ? [...t.join.chunks.map((c) => `${t.join!.scratch}/${c.file}`), ...t.inputs.slice(1).map((i) => i.path)]
      : t.inputs.map((i) => i.path);
  return { reads: [...new Set(reads)], writes: [...new Set(t.outputs.flatMap(writtenFiles))] };
}
