/**
 * What the spec asks of the FFmpeg that will run it. An old build (the bundled 4.1 fallback, a
 * distribution's old package) is told plainly which feature it lacks, instead of failing later
 * with "Option not found".
 */
import { getOperator } from '../operators/registry.js';
import type { ValidSpec } from './validate.js';

export interface FfmpegVersion {
  major: number;
  minor: number;
}

const older = (v: FfmpegVersion, [major, minor]: readonly [number, number]) =>
  v.major < major || (v.major === major && v.minor < minor);

/** One sentence per operation this FFmpeg cannot run; none when the version is unknown (assumed recent). */
export function versionProblems(valid: ValidSpec, version: FfmpegVersion | null): string[] {
  if (!version) return [];
  const problems: string[] = [];
  valid.spec.operations.forEach((op, i) => {
    const need = getOperator(op.op)?.requires?.(valid.params[i]);
    if (need && older(version, need.ffmpeg)) {
      problems.push(
        `operations[${i}]: ${need.feature} needs FFmpeg ≥ ${need.ffmpeg.join('.')}, this one is ${version.major}.${version.minor}`,
      );
    }
  });
  return problems;
}
