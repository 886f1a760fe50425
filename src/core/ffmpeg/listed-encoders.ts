/**
 * What an FFmpeg lists, as the capabilities the scheduler reads: the registry's software encoders
 * it has, unmeasured (fps 0). Listed hardware is left out: only a test encode proves it works.
 */
import type { ProbedEncoder } from '../spec/worker-wire.schema.js';
import { AUDIO_ENCODERS, VIDEO_ENCODERS } from './encoders.js';

export function listedEncoders(names: ReadonlySet<string>): ProbedEncoder[] {
  return [...VIDEO_ENCODERS.filter((e) => e.hardware === null), ...AUDIO_ENCODERS]
    .filter((e) => names.has(e.name))
    .map((e) => ({ name: e.name, codec: e.codec, hardware: null, fps: 0 }));
}
