import { describe, expect, it } from 'vitest';
import { versionProblems } from './requirements.js';
import { validateJobSpec } from './validate.js';

const mix = (normalize: boolean) => {
  const v = validateJobSpec({
    inputs: [
      { id: 'a', source: 'a.mp3' },
      { id: 'b', source: 'b.mp3' },
    ],
    operations: [{ op: 'mix', inputs: ['a', 'b'], output: 'm', params: { normalize } }],
    outputs: [{ id: 'm', destination: 'm.mp3' }],
  });
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return v.value;
};

describe('versionProblems', () => {
  it('names the operation and the version a feature needs', () => {
    expect(versionProblems(mix(false), { major: 4, minor: 1 })).toEqual([
      'operations[0]: mix with normalize: false (amix normalize) needs FFmpeg ≥ 4.4, this one is 4.1',
    ]);
  });
  it('lets a recent or unknown FFmpeg, and the default params, through', () => {
    expect(versionProblems(mix(false), { major: 5, minor: 1 })).toEqual([]);
    expect(versionProblems(mix(false), { major: 4, minor: 4 })).toEqual([]);
    expect(versionProblems(mix(false), null)).toEqual([]);
    expect(versionProblems(mix(true), { major: 4, minor: 1 })).toEqual([]);
  });
});
