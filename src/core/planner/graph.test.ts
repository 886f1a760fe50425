import { describe, expect, it } from 'vitest';
import { validateJobSpec } from './validate.js';

const input = (id: string) => ({ id, source: `${id}.mp4` });
const op = (o: string, input: string | string[], output: string, params: Record<string, unknown> = {}) =>
  Array.isArray(input) ? { op: o, inputs: input, output, params } : { op: o, input, output, params };
const out = (id: string, destination = `${id}.mp4`) => ({ id, destination });

function issues(spec: unknown) {
  const v = validateJobSpec(spec);
  return v.ok ? [] : v.issues;
}

describe('graph checks', () => {
  it('accepts the DESIGN.md example and orders it', () => {
    const v = validateJobSpec({
      inputs: [input('video')],
      operations: [
        op('trim', 'video', 'clip', { start: '00:00:10', duration: '00:00:30' }),
        op('scale', 'clip', 'small', { width: 1280, height: 720 }),
      ],
      outputs: [out('small')],
    });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.value.graph.order).toEqual(['video', 'clip', 'small']);
    expect(v.value.graph.stages).toEqual([['video'], ['clip'], ['small']]);
    expect(v.value.params[0]).toEqual({ start: 10, duration: 30 });
  });

  it('puts a fan-out in one stage', () => {
    const v = validateJobSpec({
      inputs: [input('src')],
      operations: [
        op('scale', 'src', 'a', { height: 720 }),
        op('scale', 'src', 'b', { height: 480 }),
        op('scale', 'src', 'c', { height: 360 }),
      ],
      outputs: [out('a'), out('b'), out('c')],
    });
    expect(v.ok && v.value.graph.stages).toEqual([['src'], ['a', 'b', 'c']]);
  });

  it('names the cycle', () => {
    const found = issues({
      inputs: [input('v')],
      operations: [
        op('scale', 'b', 'a', { width: 100 }),
        op('scale', 'a', 'b', { width: 100 }),
        op('scale', 'v', 'c', { width: 100 }),
      ],
      outputs: [out('c'), out('a')],
    });
    expect(found).toHaveLength(1);
    expect(found[0]!.code).toBe('cycle');
    expect(found[0]!.message).toMatch(/a → b → a|b → a → b/);
  });

  it('reports a self-reference as a cycle', () => {
    const found = issues({
      inputs: [input('v')],
      operations: [op('scale', 'x', 'x', { width: 100 })],
      outputs: [out('x'), out('v', 'v2.mp4')],
    });
    expect(found.map((i) => i.code)).toEqual(['cycle']);
  });

  it('reports unknown references at their path', () => {
    const found = issues({
      inputs: [input('v')],
      operations: [op('scale', 'nope', 'a', { width: 100 })],
      outputs: [out('a'), out('ghost')],
    });
    expect(found).toEqual([
      {
        path: 'operations[0].input',
        code: 'unknown_reference',
        message: 'no input or operation output named "nope"',
      },
      {
        path: 'outputs[1].id',
        code: 'unknown_reference',
        message: 'no input or operation output named "ghost"',
      },
    ]);
  });

  it('reports duplicate ids and destinations', () => {
    const found = issues({
      inputs: [input('v'), input('v')],
      operations: [op('scale', 'v', 'v', { width: 100 })],
      outputs: [out('v', 'a.mp4'), out('v', 'a.mp4')],
    });
    expect(found.filter((i) => i.code === 'duplicate_id').map((i) => i.path)).toEqual([
      'inputs[1].id',
      'operations[0].output',
      'outputs[1].destination',
    ]);
  });

  it('reports unused nodes', () => {
    const found = issues({
      inputs: [input('v'), input('w')],
      operations: [op('scale', 'v', 'a', { width: 100 }), op('scale', 'v', 'b', { width: 100 })],
      outputs: [out('a')],
    });
    expect(found.map((i) => [i.path, i.code])).toEqual([
      ['inputs[1].id', 'unused_node'],
      ['operations[1].output', 'unused_node'],
    ]);
  });

  it('reports unknown operators, arity and params together', () => {
    const found = issues({
      inputs: [input('v')],
      operations: [
        op('sharpen', 'v', 'a'),
        op('scale', 'v', 'b', { width: 1e9, algorithm: 'magic' }),
        op('trim', ['v', 'v'], 'c', { start: 'NaN' }),
      ],
      outputs: [out('a'), out('b'), out('c')],
    });
    expect(found.map((i) => [i.path, i.code])).toEqual([
      ['operations[0].op', 'unknown_operator'],
      ['operations[1].params.width', 'out_of_range'],
      ['operations[1].params.algorithm', 'invalid_value'],
      ['operations[2].inputs', 'out_of_range'],
      ['operations[2].params.start', 'invalid_format'],
    ]);
  });
});

describe('schema problems', () => {
  it.each([
    [{}, 'inputs', 'required'],
    [{ inputs: [], outputs: [out('a')] }, 'inputs', 'out_of_range'],
    [{ inputs: [input('v')], outputs: [out('v')], extra: 1 }, 'extra', 'unknown_key'],
    [
      { inputs: [{ id: 'v', source: 'a.mp4', sorce: 'x' }], outputs: [out('v')] },
      'inputs[0].sorce',
      'unknown_key',
    ],
    [{ inputs: [{ id: '-i', source: 'a.mp4' }], outputs: [out('v')] }, 'inputs[0].id', 'invalid_format'],
    [{ inputs: [{ id: 'v', source: 42 }], outputs: [out('v')] }, 'inputs[0].source', 'invalid_type'],
    [
      {
        inputs: [input('v')],
        outputs: [{ id: 'v', destination: 'a.mp4', codec: { video: { codec: 'divx' } } }],
      },
      'outputs[0].codec.video.codec',
      'invalid_value',
    ],
    [
      {
        inputs: [input('v')],
        outputs: [{ id: 'v', destination: 'a.mp4', codec: { video: { codec: 'h264', crf: -1 } } }],
      },
      'outputs[0].codec.video.crf',
      'out_of_range',
    ],
    [
      {
        inputs: [input('v')],
        outputs: [{ id: 'v', destination: 'a.mp4', codec: { audio: { codec: 'aac', bitrate: 'lots' } } }],
      },
      'outputs[0].codec.audio.bitrate',
      'invalid_format',
    ],
    [
      {
        inputs: [input('v')],
        operations: [{ op: 'scale', output: 'a', params: { width: 2 } }],
        outputs: [out('a')],
      },
      'operations[0].input',
      'required',
    ],
  ])('%j → %s %s', (spec, path, code) => {
    expect(issues(spec)).toContainEqual(expect.objectContaining({ path, code }));
  });

  it('accepts FFmpeg encoder names as codec aliases and a codec shorthand', () => {
    const v = validateJobSpec({
      inputs: [input('v')],
      outputs: [
        { id: 'v', destination: 'a.mkv', codec: { video: { codec: 'libx265', crf: 28 }, audio: 'libopus' } },
      ],
    });
    expect(v.ok && v.value.spec.outputs[0]!.codec).toEqual({
      video: { codec: 'hevc', crf: 28 },
      audio: { codec: 'opus' },
    });
  });
});
