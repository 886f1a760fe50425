/**
 * TaskSpec + encoder choice → FFmpeg's argv. Pure, never a shell. Every path goes as `file:` +
 * an absolute path (a name starting with `-` is never an option), inputs may only use the
 * `file` protocol, and nothing the user typed becomes an option by itself: codecs are enums
 * mapped through the encoder registry, numbers are numbers, the filtergraph is escaped in one place.
 */
import { FORMAT_WHITELIST, pictureDemuxer } from '../spec/admission.js';
import { CONTAINERS, IMAGE_ENCODERS } from '../spec/codecs.js';
import type { TaskSpec } from '../spec/task-spec.schema.js';
import { rationalToNumber } from '../spec/types.js';
import type { EncoderChoice } from './encoders.js';
import { renderGraph } from './filtergraph.js';
import { renderTask } from './render.js';

export const PREAMBLE = ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', '-y'] as const;
export const INPUT_PROTOCOLS = 'file';

export class EncoderUnavailableError extends Error {
  constructor(readonly codec: string) {
    super(`no encoder available for ${codec}`);
    this.name = 'EncoderUnavailableError';
  }
}

export interface BuildOptions {
  /** Measurements from analysis tasks, by node id (loudnorm's second pass). */
  analysis?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Where each output is really written (a temporary name beside the destination), by task output position. */
  outputPaths?: readonly string[];
  threads?: number;
}

export function fileUrl(absolutePath: string): string {
  if (!absolutePath.startsWith('/')) throw new Error(`not an absolute path: ${absolutePath}`);
  return `file:${absolutePath}`;
}

export function buildArgs(task: TaskSpec, encoders: EncoderChoice, opts: BuildOptions = {}): string[] {
  const rendered = renderTask(task, opts.analysis);
  const args: string[] = [...PREAMBLE];
  if (opts.threads !== undefined) args.push('-threads', String(opts.threads));
  for (const input of task.inputs) {
    const demuxer = pictureDemuxer(input.path);
    args.push('-protocol_whitelist', INPUT_PROTOCOLS, '-format_whitelist', FORMAT_WHITELIST);
    if (demuxer) args.push('-f', demuxer);
    args.push('-i', fileUrl(input.path));
  }
  if (rendered.nodes.length > 0) args.push('-filter_complex', renderGraph(rendered.nodes));

  if (task.kind === 'measure') {
    args.push('-map', rendered.measureMap!, '-f', 'null', '-');
    return args;
  }

  task.outputs.forEach((out, k) => {
    const map = rendered.maps[k]!;
    const direct = task.inputs.some((i) => i.id === out.node);
    if (map.video) args.push('-map', map.video);
    if (map.audio) args.push('-map', map.audio);

    if (out.image && map.video) {
      const fmt = out.format as keyof typeof IMAGE_ENCODERS;
      args.push('-c:v', IMAGE_ENCODERS[fmt]);
      if (fmt === 'jpg') args.push('-q:v', '3');
      if (fmt === 'webp') args.push('-quality', '80');
      args.push('-frames:v', String(out.image.frames));
      if (out.image.frames === 1) args.push('-update', '1');
    }
    if (out.video && map.video) {
      if (out.video.codec === 'copy') args.push('-c:v', 'copy');
      else {
        const enc = encoders.video(out.video.codec as Exclude<typeof out.video.codec, 'copy' | 'none'>);
        if (!enc) throw new EncoderUnavailableError(out.video.codec);
        const fps = out.expect.video ? rationalToNumber(out.expect.video.fps) : 25;
        args.push('-c:v', enc.name, ...enc.args(out.video, fps), '-pix_fmt', out.video.pixel_format);
      }
    }
    if (out.audio && map.audio) {
      if (out.audio.codec === 'copy') args.push('-c:a', 'copy');
      else {
        const enc = encoders.audio(out.audio.codec as Exclude<typeof out.audio.codec, 'copy' | 'none'>);
        if (!enc) throw new EncoderUnavailableError(out.audio.codec);
        args.push('-c:a', enc.name, ...enc.args(out.audio));
        if (out.audio.sample_rate) args.push('-ar', String(out.audio.sample_rate));
        if (out.audio.channels) args.push('-ac', String(out.audio.channels));
      }
    }
    // Chapters no longer line up once operations have changed the timeline.
    if (!direct) args.push('-map_chapters', '-1');
    if (out.format === 'mp4' || out.format === 'mov' || out.format === 'm4a')
      args.push('-movflags', '+faststart');
    args.push('-f', CONTAINERS[out.format].muxer, fileUrl(opts.outputPaths?.[k] ?? out.path));
  });
  return args;
}
