import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { volume } from './volume.operator.js';

const SRC: StreamMeta = {
  duration: 12,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 } },
  audio: { sampleRate: 44100, channels: 1 },
};
const issues = (raw: unknown) => {
  const r = volume.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (raw: unknown, src = SRC) => {
  const p = volume.params.parse(raw);
  const inputs = [
    { ...(src.video ? { video: '0:v' } : {}), ...(src.audio ? { audio: '0:a' } : {}), meta: src },
  ];
  const r = volume.filter(p, { inputs, meta: volume.output(p, [src]), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('volume params', () => {
  it.each([
    [{ gain_db: -6 }, { gain_db: -6 }],
    [{ gain_db: 60 }, { gain_db: 60 }],
    [{ factor: 0 }, { factor: 0 }],
    [{ factor: 2.5 }, { factor: 2.5 }],
  ])('reads %j', (raw, want) => expect(volume.params.parse(raw)).toEqual(want));

  it.each([
    [{}, ['gain_db:required']],
    [{ gain_db: 3, factor: 2 }, ['factor:invalid_params']],
    [{ gain_db: -61 }, ['gain_db:out_of_range']],
    [{ gain_db: 1e9 }, ['gain_db:out_of_range']],
    [{ gain_db: Number.NaN }, ['gain_db:invalid_type']],
    [{ gain_db: Number.POSITIVE_INFINITY }, ['gain_db:invalid_type']],
    [{ gain_db: '6dB' }, ['gain_db:invalid_type']],
    [{ factor: -1 }, ['factor:out_of_range']],
    [{ factor: 10.5 }, ['factor:out_of_range']],
    [{ factor: 1, db: 3 }, ['db:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('volume', () => {
  it('keeps the meta, video passing through', () => {
    expect(volume.output({ gain_db: 3 }, [SRC])).toEqual(SRC);
    expect(render({ gain_db: 3 }).video).toBe('0:v');
  });

  it('needs audio', () => {
    expect(volume.check!({ factor: 1 }, [{ ...SRC, audio: null }])).toEqual([
      'volume needs an input with audio',
    ]);
    expect(volume.check!({ factor: 1 }, [SRC])).toEqual([]);
  });

  it.each([
    [{ gain_db: -6 }, '[0:a]volume=volume=-6dB[volume_0]'],
    [{ gain_db: 1.25 }, '[0:a]volume=volume=1.25dB[volume_0]'],
    [{ gain_db: 0.1234567 }, '[0:a]volume=volume=0.123457dB[volume_0]'],
    [{ factor: 0.5 }, '[0:a]volume=volume=0.5[volume_0]'],
    [{ factor: 0 }, '[0:a]volume=volume=0[volume_0]'],
  ])('renders %j', (raw, graph) => {
    const r = render(raw);
    expect(r.graph).toBe(graph);
    expect(r.audio).toBe('volume_0');
  });
});
