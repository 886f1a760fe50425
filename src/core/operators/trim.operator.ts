import { z } from 'zod';
import { Duration, Timecode } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';

export const TrimParams = z
  .strictObject({
    start: Timecode.default(0),
    duration: Duration.optional(),
    end: Timecode.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.duration !== undefined && p.end !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: 'give duration or end, not both',
        params: { issue: 'invalid_params' },
      });
    }
    if (p.end !== undefined && p.end <= p.start) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: 'end must be after start',
        params: { issue: 'out_of_range' },
      });
    }
  });
export type TrimParams = z.infer<typeof TrimParams>;

function length(p: TrimParams): number | undefined {
  return p.duration ?? (p.end !== undefined ? p.end - p.start : undefined);
}

export const trim: Operator<TrimParams> = {
  name: 'trim',
  summary: 'Keep a time range (start, and duration or end), video and audio together.',
  params: TrimParams,
  inputs: { kind: 'any', min: 1, max: 1 },
  check: (p, [src]) =>
    src?.duration != null && p.start >= src.duration
      ? [`start ${p.start}s is past the end of the input (${src.duration.toFixed(3)}s)`]
      : [],
  output: (p, [src]) => {
    const rest = src!.duration === null ? null : Math.max(0, src!.duration - p.start);
    const want = length(p);
    return { ...src!, duration: want === undefined ? rest : rest === null ? want : Math.min(want, rest) };
  },
  cost: () => ({ cpuPerSecond: 0.05, memoryMiB: 0 }),
  filter: (p, io) => {
    const len = length(p);
    const range: Record<string, number> =
      len === undefined ? { start: p.start } : { start: p.start, duration: len };
    return mapStreams(
      io,
      [
        { name: 'trim', args: range },
        { name: 'setpts', args: ['PTS-STARTPTS'] },
      ],
      [
        { name: 'atrim', args: range },
        { name: 'asetpts', args: ['PTS-STARTPTS'] },
      ],
    );
  },
  chunkSafe: false,
};
