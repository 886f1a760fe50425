import { describe, expect, it } from 'vitest';
import { labeller } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { extractAudio } from './extract-audio.operator.js';

const SRC: StreamMeta = {
  duration: 12,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 } },
  audio: { sampleRate: 44100, channels: 2, codec: 'aac' },
};

describe('extract_audio', () => {
  it('takes no params', () => {
    expect(extractAudio.params.parse({})).toEqual({});
    const r = extractAudio.params.safeParse({ codec: 'aac' });
    expect(r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`)).toEqual([
      'codec:unknown_key',
    ]);
  });

  it('keeps the audio and drops the video', () => {
    expect(extractAudio.name).toBe('extract_audio');
    expect(extractAudio.output({}, [SRC])).toEqual({
      duration: 12,
      video: null,
      audio: { sampleRate: 44100, channels: 2, codec: 'aac' },
    });
    const r = extractAudio.filter(
      {},
      {
        inputs: [{ video: '0:v', audio: '0:a', meta: SRC }],
        meta: extractAudio.output({}, [SRC]),
        label: labeller(),
      },
    );
    expect(r).toEqual({ nodes: [], audio: '0:a' });
  });

  it('needs audio', () => {
    expect(extractAudio.check!({}, [{ ...SRC, audio: null }])).toEqual([
      'extract_audio needs an input with audio',
    ]);
    expect(extractAudio.check!({}, [SRC])).toEqual([]);
  });
});
