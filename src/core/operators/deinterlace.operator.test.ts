import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { deinterlace } from './deinterlace.operator.js';

const meta = (num: number, den: number): StreamMeta => ({
  duration: 10,
  video: { width: 720, height: 576, fps: { num, den }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 48000, channels: 2 },
});
const issues = (raw: unknown) => {
  const r = deinterlace.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};

describe('deinterlace params', () => {
  it('defaults to one frame per frame, all frames, auto parity', () =>
    expect(deinterlace.params.parse({})).toEqual({ mode: 'frame', parity: 'auto', deint: 'all' }));
  it.each([
    [{ mode: 'send_field' }, ['mode:invalid_value']],
    [{ parity: 'top' }, ['parity:invalid_value']],
    [{ deint: 1 }, ['deint:invalid_value']],
    [{ filter: 'yadif' }, ['filter:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('deinterlace output and filter', () => {
  it.each([
    [{}, meta(25, 1), '[0:v]bwdif=mode=send_frame:parity=auto:deint=all[bwdif_0]', { num: 25, den: 1 }],
    [
      { mode: 'field', parity: 'tff' },
      meta(25, 1),
      '[0:v]bwdif=mode=send_field:parity=tff:deint=all[bwdif_0]',
      { num: 50, den: 1 },
    ],
    [
      { mode: 'field', parity: 'bff', deint: 'interlaced' },
      meta(30000, 1001),
      '[0:v]bwdif=mode=send_field:parity=bff:deint=interlaced[bwdif_0]',
      { num: 60000, den: 1001 },
    ],
    [
      { mode: 'field' },
      meta(25, 2),
      '[0:v]bwdif=mode=send_field:parity=auto:deint=all[bwdif_0]',
      { num: 25, den: 1 },
    ],
  ])('%j → %s', (raw, src, graph, rate) => {
    const p = deinterlace.params.parse(raw);
    const out = deinterlace.output(p, [src]);
    expect(out).toEqual({ ...src, video: { ...src.video!, fps: rate } });
    const r = deinterlace.filter(p, {
      inputs: [{ video: '0:v', audio: '0:a', meta: src }],
      meta: out,
      label: labeller(),
    });
    expect(renderGraph(r.nodes)).toBe(graph);
    expect(r.audio).toBe('0:a');
  });
});
