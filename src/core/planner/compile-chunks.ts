/**
 * A chunked output as tasks: N chunk encodes of the video (each a range of the source cut at its
 * keyframes, written to a scratch folder beside the destination), one audio encode, and a join
 * that concatenates the chunks by stream copy, muxes the audio and writes the destination. The
 * chunks and the audio depend on nothing, so the cluster runs them on several workers at once.
 * A job that cannot be split is planned whole, and the reason is said in a note.
 */
import { getOperator } from '../operators/registry.js';
import type { StreamMeta } from '../spec/media-info.js';
import type { JoinPieces, TaskInput, TaskOutput, TaskSpec } from '../spec/task-spec.schema.js';
import { type ChunkSpan, chunkSpans, type KeyframeIndex, steadyRate } from './chunks.js';
import { needs, type PlannedOutput, upstream } from './compile.js';
import { operationInputs } from './graph.js';
import type { Placement } from './plan.js';
import type { ValidSpec } from './validate.js';

export interface ChunkRequest {
  chunkSeconds: number;
  /** The timeline of the input the output reads; null when it could not be read (`indexProblem` says why). */
  index: KeyframeIndex | null;
  indexProblem?: string;
  /** Names the scratch folder; drawn by the caller once per plan (the core draws no randomness). */
  tag: string;
  /** The orchestrator chose to chunk, the spec did not ask: the note says so. */
  auto?: boolean;
}

export type ChunkPlanning = { tasks: TaskSpec[]; note: string } | { tasks: null; note: string };

/** The one input the job's one output reads, or null when the job is not that simple. */
export function chunkSource(valid: ValidSpec): string | null {
  const [out, ...more] = valid.spec.outputs;
  if (!out || more.length > 0) return null;
  const inputs = upstream(valid, out.id).filter((id) => valid.graph.nodes.get(id)!.kind === 'input');
  return inputs.length === 1 ? inputs[0]! : null;
}

/**
 * Why this job cannot be split, known from the spec alone (no media): one output, from one input,
 * through chunk-safe operations only. Null when it may be.
 */
export function chunkBlocker(valid: ValidSpec): string | null {
  const { spec, graph } = valid;
  if (spec.outputs.length !== 1)
    return `chunking splits one output file, and this job writes ${spec.outputs.length}`;
  const unsafe = upstream(valid, spec.outputs[0]!.id)
    .map((id) => graph.nodes.get(id)!)
    .filter((n) => n.kind === 'operation' && !getOperator(spec.operations[n.index]!.op)!.chunkSafe)
    .map((n) => spec.operations[n.index]!.op);
  const names = [...new Set(unsafe)];
  if (names.length > 0)
    return names.length > 1
      ? `${names.join(', ')} are not chunk-safe (they need the whole timeline)`
      : `${names[0]} is not chunk-safe (it needs the whole timeline)`;
  if (chunkSource(valid) === null) return 'the output reads several inputs';
  return null;
}

/** Why this job cannot be split, or null when it can. */
function refusal(
  valid: ValidSpec,
  meta: ReadonlyMap<string, StreamMeta>,
  out: PlannedOutput | undefined,
): string | null {
  const blocker = chunkBlocker(valid);
  if (blocker || !out) return blocker ?? 'the output could not be planned';
  if (out.image) return 'pictures are not chunked';
  if (!out.video) return 'the output has no video to split';
  if (out.video.codec === 'copy') return 'a stream copy has no encode to split';
  // Chunks all come from the software encoder (a join copies them as they are).
  if (valid.spec.placement?.hardware === 'required')
    return 'hardware encoding is required, and chunks are encoded in software';
  const source = chunkSource(valid)!;
  const src = meta.get(source)!;
  if (!src.video || src.still) return 'the input has no moving video';
  // Chunks are cut in source frames and joined in output frames: the two must be the same frames.
  const v = out.expect.video!;
  const sameRate = v.fps.num * src.video.fps.den === src.video.fps.num * v.fps.den;
  const frame = src.video.fps.den / src.video.fps.num;
  const sameLength =
    src.duration === null ||
    out.expect.duration === null ||
    Math.abs(src.duration - out.expect.duration) <= frame;
  if (!sameRate || !sameLength)
    return 'the operations change the frame rate or the timing (fps, speed, field deinterlacing)';
  return null;
}

/** `.<name>.mediaforge-chunks-<tag>` beside the destination, the name cut to fit 255 bytes. */
export function scratchFolder(destination: string, tag: string): string {
  const slash = destination.lastIndexOf('/');
  const dir = destination.slice(0, slash);
  const tail = `.mediaforge-chunks-${tag}`;
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  let name = destination.slice(slash + 1);
  while (bytes(`.${name}${tail}`) > 255) name = name.slice(0, -1);
  return `${dir}/.${name}${tail}`;
}

const AUDIO_PIECE_EXT: Readonly<Record<string, string>> = {
  mp4: 'mp4',
  mov: 'mov',
  mkv: 'mkv',
  webm: 'webm',
};

export function planChunks(
  valid: ValidSpec,
  meta: ReadonlyMap<string, StreamMeta>,
  outputs: readonly PlannedOutput[],
  placement: Placement,
  req: ChunkRequest,
): ChunkPlanning {
  const out = outputs[0];
  const why = refusal(valid, meta, out);
  if (why) return { tasks: null, note: `not chunked: ${why}` };
  if (!req.index)
    return {
      tasks: null,
      note: `not chunked: ${req.indexProblem ?? "the input's keyframes could not be read"}`,
    };
  const fps = meta.get(chunkSource(valid)!)!.video!.fps;
  if (!steadyRate(req.index, fps))
    return { tasks: null, note: "not chunked: the input's frame rate varies (chunks need a constant rate)" };
  // FFmpeg writes MP4 and MOV at a constant rate from the file's start: a video that starts later
  // than the audio is led by copies of its first frame, which no chunk has.
  const late = Math.round((req.index.first * fps.num) / fps.den);
  if (late >= 1 && out!.audio && (out!.format === 'mp4' || out!.format === 'mov'))
    return {
      tasks: null,
      note: `not chunked: the video starts ${req.index.first.toFixed(3)} s after the audio, and ${out!.format} fills that time with copies of its first frame`,
    };
  const spans = chunkSpans(req.index, req.chunkSeconds);
  if (spans.length < 2)
    return {
      tasks: null,
      note: `not chunked: the input is too short or has too few keyframes for chunks of ${req.chunkSeconds} s`,
    };
  const tasks = compileChunked(valid, meta, out!, spans, placement.inputs.get(chunkSource(valid)!)!, req);
  const why2 = req.auto
    ? ' (chosen by the orchestrator: several workers are idle and the input is long)'
    : '';
  return {
    tasks,
    note: `chunked${why2}: ${spans.length} video chunks of about ${req.chunkSeconds} s cut at source keyframes${out!.audio ? ', the audio encoded once,' : ''} then joined by stream copy`,
  };
}

function compileChunked(
  valid: ValidSpec,
  meta: ReadonlyMap<string, StreamMeta>,
  out: PlannedOutput,
  spans: readonly ChunkSpan[],
  sourcePath: string,
  req: ChunkRequest,
): TaskSpec[] {
  const { spec, graph } = valid;
  const ids = upstream(valid, out.node);
  const source = chunkSource(valid)!;
  const opIndex = new Map(spec.operations.map((op, i) => [op.output, i]));
  const nodes = ids
    .filter((id) => graph.nodes.get(id)!.kind === 'operation')
    .map((id) => {
      const op = spec.operations[opIndex.get(id)!]!;
      return { id, op: op.op, params: op.params, inputs: operationInputs(op), meta: meta.get(id)! };
    });
  const input: TaskInput = { id: source, path: sourcePath, meta: meta.get(source)! };
  const scratch = scratchFolder(out.path, req.tag);
  const base = 't0';
  const piece = (o: Partial<TaskOutput> & Pick<TaskOutput, 'path' | 'expect'>): TaskOutput => ({
    index: out.index,
    node: out.node,
    format: out.format,
    video: null,
    audio: null,
    image: null,
    ...o,
  });
  const seconds = (a: number, b: number) => Math.round((b - a) * 1e6) / 1e6;
  // The encoder puts every frame on the grid of the output's frame rate (its time base): an
  // unchunked encode puts a frame at time t on round(t × fps) / fps, and so must the join.
  const { num, den } = out.expect.video!.fps;
  const grid = (t: number) => (Math.round((t * num) / den) * den) / num;
  const chunkFile = (i: number) => `chunk-${String(i).padStart(4, '0')}.nut`;
  const chunks: TaskSpec[] = spans.map((s) => ({
    id: `${base}-c${String(s.index).padStart(4, '0')}`,
    kind: 'chunk',
    inputs: [input],
    nodes,
    outputs: [
      piece({
        path: `${scratch}/${chunkFile(s.index)}`,
        video: out.video,
        expect: {
          duration: seconds(s.start, s.end),
          video: out.expect.video,
          audio: null,
          frames: s.endFrame - s.firstFrame,
        },
      }),
    ],
    analysis_from: {},
    deps: [],
    expected_duration: seconds(s.start, s.end),
    requirements: needs(valid, [out.video!.codec]),
    range: {
      index: s.index,
      start: s.start,
      end: s.end,
      first_frame: s.firstFrame,
      frames: s.endFrame - s.firstFrame,
      seek: s.seek,
      read: s.stop === null ? null : seconds(s.seek ?? 0, s.stop),
    },
  }));
  const audioFile = `audio.${AUDIO_PIECE_EXT[out.format] ?? 'mkv'}`;
  const audio: TaskSpec | null = out.audio
    ? {
        id: `${base}-audio`,
        kind: 'audio',
        inputs: [input],
        nodes,
        outputs: [
          piece({
            path: `${scratch}/${audioFile}`,
            audio: out.audio,
            expect: { duration: out.expect.duration, video: null, audio: out.expect.audio },
          }),
        ],
        analysis_from: {},
        deps: [],
        expected_duration: out.expect.duration,
        requirements: needs(valid, [out.audio.codec]),
      }
    : null;
  const join: TaskSpec = {
    id: base,
    kind: 'join',
    inputs: [
      {
        id: 'chunks',
        path: `${scratch}/chunks.ffconcat`,
        meta: { duration: out.expect.duration, video: out.expect.video, audio: null },
      },
      ...(audio
        ? [
            {
              id: 'audio',
              path: `${scratch}/${audioFile}`,
              meta: { duration: out.expect.duration, video: null, audio: out.expect.audio },
            },
          ]
        : []),
    ],
    nodes: [],
    outputs: [piece({ path: out.path, video: out.video, audio: out.audio, expect: out.expect })],
    analysis_from: {},
    deps: [...chunks.map((c) => c.id), ...(audio ? [audio.id] : [])],
    expected_duration: out.expect.duration,
    requirements: needs(valid, []),
    join: {
      scratch,
      chunks: spans.map((s, i) => ({
        file: chunkFile(s.index),
        frames: s.endFrame - s.firstFrame,
        duration: seconds(grid(s.start), grid(spans[i + 1]?.start ?? s.end)),
      })),
      // Beside audio, the video keeps its place; alone, it starts at 0 (as FFmpeg writes it unchunked).
      video_offset: out.audio ? grid(Math.max(0, spans[0]!.start)) : 0,
    },
  };
  // The audio first: one task the length of the whole output, it would otherwise start after the
  // last chunk and leave the other workers idle while it runs.
  return [...(audio ? [audio] : []), ...chunks, join];
}

/**
 * The concat demuxer's list for a join: the chunks by relative name (read with `-safe 1`), each
 * lasting until the next one starts. Every chunk's own timestamps start at its first frame, so
 * these durations alone place it.
 */
export function concatList(pieces: JoinPieces): string {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const lines = ['ffconcat version 1.0'];
  pieces.chunks.forEach((c, i) => {
    lines.push(`file ${quote(c.file)}`);
    if (i < pieces.chunks.length - 1) lines.push(`duration ${c.duration.toFixed(6)}`);
  });
  return `${lines.join('\n')}\n`;
}
