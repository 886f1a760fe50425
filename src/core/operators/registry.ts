/**
 * The operator registry: every operator by name. Pure data; the planner, the argv builder and
 * the README's operator table all read it.
 */
import { concat } from './concat.operator.js';
import { crop } from './crop.operator.js';
import { deinterlace } from './deinterlace.operator.js';
import { extractAudio } from './extract-audio.operator.js';
import { fade } from './fade.operator.js';
import { fps } from './fps.operator.js';
import { loudnorm } from './loudnorm.operator.js';
import { mix } from './mix.operator.js';
import type { AnyOperator } from './operator.js';
import { overlay } from './overlay.operator.js';
import { pad } from './pad.operator.js';
import { rotate } from './rotate.operator.js';
import { scale } from './scale.operator.js';
import { speed } from './speed.operator.js';
import { sprite } from './sprite.operator.js';
import { thumbnail } from './thumbnail.operator.js';
import { trim } from './trim.operator.js';
import { volume } from './volume.operator.js';

const ALL: readonly AnyOperator[] = [
  trim,
  scale,
  crop,
  pad,
  fps,
  rotate,
  overlay,
  concat,
  loudnorm,
  volume,
  mix,
  fade,
  speed,
  deinterlace,
  thumbnail,
  sprite,
  extractAudio,
];

export const OPERATORS: ReadonlyMap<string, AnyOperator> = new Map(ALL.map((o) => [o.name, o]));

export function getOperator(name: string): AnyOperator | undefined {
  return OPERATORS.get(name);
}

export function operatorNames(): string[] {
  return [...OPERATORS.keys()];
}
