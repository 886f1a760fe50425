import { z } from 'zod';
import type { Operator } from './operator.js';

export const ExtractAudioParams = z.strictObject({});
export type ExtractAudioParams = z.infer<typeof ExtractAudioParams>;

export const extractAudio: Operator<ExtractAudioParams> = {
  name: 'extract_audio',
  summary: 'Keep the audio and drop the video.',
  params: ExtractAudioParams,
  inputs: { kind: 'audio', min: 1, max: 1 },
  check: (_p, [src]) => (src?.audio ? [] : ['extract_audio needs an input with audio']),
  output: (_p, [src]) => ({ duration: src!.duration, video: null, audio: src!.audio }),
  cost: () => ({ cpuPerSecond: 0, memoryMiB: 0 }),
  // No filter: the audio pad goes on as it is and the video pad is simply not taken.
  filter: (_p, io) => {
    const audio = io.inputs[0]?.audio;
    if (audio === undefined) throw new Error('extract_audio: the input has no audio pad');
    return { nodes: [], audio };
  },
  chunkSafe: true,
};
