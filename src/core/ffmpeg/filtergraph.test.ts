import { describe, expect, it } from 'vitest';
import { renderNode } from './filtergraph.js';

describe('renderNode pad labels', () => {
  it('brackets input and output labels', () => {
    expect(renderNode({ name: 'amix', in: ['0:a:0', 'x_1'], out: ['amix_2'] })).toBe(
      '[0:a:0][x_1]amix[amix_2]',
    );
  });

  // A missing pad must not render as the label "undefined": FFmpeg would fail far from the cause.
  it.each([[undefined], [null], [3], ['a]b'], ['']])('refuses %j as a label', (l) => {
    expect(() => renderNode({ name: 'anull', in: [l as unknown as string], out: ['o'] })).toThrow(
      /bad pad label/,
    );
  });
});
