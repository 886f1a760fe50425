import { describe, expect, it } from 'vitest';
import { buildArgs } from '../ffmpeg/args.js';
import { chooseEncoders, knownEncoderNames } from '../ffmpeg/encoders.js';
import { FORMAT_WHITELIST } from '../spec/admission.js';
import type { StreamMeta } from '../spec/media-info.js';
import { TaskSpec } from '../spec/task-spec.schema.js';
import { indexPackets, type VideoPacket } from './chunks.js';
import type { ChunkRequest } from './compile-chunks.js';
import { planJob } from './plan.js';
import { validateJobSpec } from './validate.js';

const CLIP: StreamMeta = {
  duration: 12,
  video: { width: 1280, height: 720, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p', codec: 'h264' },
  audio: { sampleRate: 48000, channels: 2, codec: 'aac' },
};
/** 12 s at 25 fps, a keyframe every 2 s. */
const PACKETS: VideoPacket[] = Array.from({ length: 300 }, (_, i) => ({ pts: i / 25, key: i % 50 === 0 }));
const encoders = chooseEncoders(new Set(knownEncoderNames()));

function plan(
  operations: unknown[],
  opts: {
    chunking?: Partial<ChunkRequest>;
    destination?: string;
    meta?: StreamMeta;
    placement?: Record<string, unknown>;
  } = {},
) {
  const v = validateJobSpec({
    ...(opts.placement ? { placement: opts.placement } : {}),
    inputs: [{ id: 'in', source: 'in.mp4' }],
    operations,
    outputs: [
      {
        id: operations.length > 0 ? 'out' : 'in',
        destination: opts.destination ?? 'out/film.mp4',
        codec: {
          video: { codec: 'h264', crf: 22, preset: 'fast' },
          audio: { codec: 'aac', bitrate: '128k' },
        },
      },
    ],
  });
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  const r = planJob(
    v.value,
    new Map([['in', opts.meta ?? CLIP]]),
    { inputs: new Map([['in', '/media/in.mp4']]), outputs: [`/media/${opts.destination ?? 'out/film.mp4'}`] },
    { chunkSeconds: 4, index: indexPackets(PACKETS), tag: 'cafe0123', ...opts.chunking },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.plan;
}

describe('a chunked plan', () => {
  it('is the audio and N chunks, independent (the audio first: the longest), then a join that waits for all', () => {
    const p = plan([{ op: 'scale', input: 'in', output: 'out', params: { width: 640 } }]);
    expect(p.tasks.map((t) => [t.id, t.kind, t.deps, t.expected_duration, t.requirements.codecs])).toEqual([
      ['t0-audio', 'audio', [], 12, ['aac']],
      ['t0-c0000', 'chunk', [], 4, ['h264']],
      ['t0-c0001', 'chunk', [], 4, ['h264']],
      ['t0-c0002', 'chunk', [], 4, ['h264']],
      ['t0', 'join', ['t0-c0000', 't0-c0001', 't0-c0002', 't0-audio'], 12, []],
    ]);
    expect(p.notes).toEqual([
      'chunked: 3 video chunks of about 4 s cut at source keyframes, the audio encoded once, then joined by stream copy',
    ]);
    // What goes to a worker is a valid TaskSpec, each of them.
    for (const t of p.tasks) expect(TaskSpec.safeParse(t).success).toBe(true);
    const scratch = '/media/out/.film.mp4.mediaforge-chunks-cafe0123';
    expect(p.tasks.at(-1)!.join).toEqual({
      scratch,
      chunks: [
        { file: 'chunk-0000.nut', frames: 100, duration: 4 },
        { file: 'chunk-0001.nut', frames: 100, duration: 4 },
        { file: 'chunk-0002.nut', frames: 100, duration: 4 },
      ],
      video_offset: 0,
    });
    expect(p.tasks.slice(0, 4).map((t) => t.outputs[0]!.path)).toEqual([
      `${scratch}/audio.mp4`,
      `${scratch}/chunk-0000.nut`,
      `${scratch}/chunk-0001.nut`,
      `${scratch}/chunk-0002.nut`,
    ]);
  });

  it("a chunk's argv: a seek just before its keyframe, its frame count, NUT, video only", () => {
    const p = plan([{ op: 'scale', input: 'in', output: 'out', params: { width: 640 } }]);
    expect(buildArgs(p.tasks[2]!, encoders, { outputPaths: ['/media/out/.x/chunk-0001.nut.part'] })).toEqual([
      ...['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', '-y'],
      ...['-protocol_whitelist', 'file', '-format_whitelist', FORMAT_WHITELIST],
      ...['-ss', '3.999000', '-t', '4.000000', '-i', 'file:/media/in.mp4'],
      ...[
        '-filter_complex',
        '[0:V:0]scale=w=640:h=360:flags=bicubic[scale_0];[scale_0]setsar=1[setsar_1]',
        '-map',
        '[setsar_1]',
      ],
      ...['-c:v', 'libx264', '-preset', 'fast', '-crf', '22', '-pix_fmt', 'yuv420p'],
      ...['-map_chapters', '-1', '-frames:v', '100', '-avoid_negative_ts', 'disabled'],
      ...['-f', 'nut', 'file:/media/out/.x/chunk-0001.nut.part'],
    ]);
    // The first chunk reads from the start, the last to the end.
    const first = buildArgs(p.tasks[1]!, encoders);
    expect(first).not.toContain('-ss');
    expect(first.slice(first.indexOf('-t'), first.indexOf('-t') + 2)).toEqual(['-t', '3.999000']);
    expect(buildArgs(p.tasks[3]!, encoders)).not.toContain('-t');
  });

  it("the join's argv: the list by the concat demuxer, NUT only, stream copy, the audio beside", () => {
    const p = plan([]);
    const scratch = '/media/out/.film.mp4.mediaforge-chunks-cafe0123';
    expect(buildArgs(p.tasks.at(-1)!, encoders, { outputPaths: ['/media/out/.film.mp4.part'] })).toEqual([
      ...['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', '-y'],
      ...['-protocol_whitelist', 'file', '-format_whitelist', 'concat,nut', '-f', 'concat', '-safe', '1'],
      ...['-i', `file:${scratch}/chunks.ffconcat`],
      ...[
        '-protocol_whitelist',
        'file',
        '-format_whitelist',
        FORMAT_WHITELIST,
        '-i',
        `file:${scratch}/audio.mp4`,
      ],
      ...['-map', '0:v:0', '-map', '1:a:0', '-c', 'copy', '-map_chapters', '-1', '-movflags', '+faststart'],
      ...['-f', 'mp4', 'file:/media/out/.film.mp4.part'],
    ]);
  });

  it('keeps a video that starts after the audio where it starts, on the frame grid (mkv)', () => {
    const late = PACKETS.map((p) => ({ ...p, pts: p.pts + 0.31 }));
    const p = plan([], { destination: 'out/film.mkv', chunking: { index: indexPackets(late) } });
    expect(p.tasks.at(-1)!.join!.video_offset).toBe(0.32);
    expect(buildArgs(p.tasks.at(-1)!, encoders)).toContain('-itsoffset');
  });

  it.each<[string, unknown[], Parameters<typeof plan>[1], RegExp]>([
    [
      'an operation that needs the whole timeline',
      [{ op: 'fade', input: 'in', output: 'out', params: { in: 1 } }],
      {},
      /^not chunked: fade is not chunk-safe/,
    ],
    [
      'too few keyframes',
      [],
      { chunking: { index: indexPackets(PACKETS.map((p, i) => ({ ...p, key: i === 0 }))) } },
      /too few keyframes/,
    ],
    [
      'unreadable keyframes',
      [],
      { chunking: { index: null, indexProblem: 'ffprobe failed' } },
      /^not chunked: ffprobe failed$/,
    ],
    [
      'a late video in mp4',
      [],
      { chunking: { index: indexPackets(PACKETS.map((p) => ({ ...p, pts: p.pts + 0.3 }))) } },
      /video starts 0\.300 s after the audio, and mp4 fills/,
    ],
    [
      'a variable frame rate',
      [],
      {
        chunking: {
          index: indexPackets(PACKETS.map((p, i) => ({ ...p, pts: i < 150 ? i / 25 : 6 + (i - 150) / 50 }))),
        },
      },
      /frame rate varies/,
    ],
  ])('is refused, with a note, for %s', (_name, operations, opts, note) => {
    const p = plan(operations, opts);
    expect(p.tasks.map((t) => t.kind)).not.toContain('chunk');
    expect(p.notes).toHaveLength(1);
    expect(p.notes[0]).toMatch(note);
  });

  it('the wire format refuses a task whose fields do not fit its kind', () => {
    const [audio, chunk, , , join] = plan([]).tasks;
    const bad = [
      { ...chunk!, range: undefined },
      { ...join!, join: undefined },
      { ...audio!, kind: 'chunk' },
      { ...join!, kind: 'transcode' },
      { ...chunk!, outputs: [{ ...chunk!.outputs[0]!, audio: audio!.outputs[0]!.audio }] },
    ];
    for (const t of bad) expect(TaskSpec.safeParse(t).success).toBe(false);
  });
});

describe('placement', () => {
  it("goes into every task's requirements: chunks, audio and join alike", () => {
    const p = plan([], { placement: { labels: ['site=paris'], hardware: 'preferred' } });
    expect(p.tasks.map((t) => t.kind)).toEqual(['audio', 'chunk', 'chunk', 'chunk', 'join']);
    for (const t of p.tasks)
      expect(t.requirements).toMatchObject({ labels: ['site=paris'], hardware: 'preferred' });
  });

  it('hardware required: the job runs whole, since chunks are encoded in software, and says so', () => {
    const p = plan([], { placement: { hardware: 'required' } });
    expect(p.tasks.map((t) => [t.kind, t.requirements])).toEqual([
      ['transcode', { codecs: ['aac', 'h264'], labels: [], hardware: 'required' }],
    ]);
    expect(p.notes).toEqual([
      'not chunked: hardware encoding is required, and chunks are encoded in software',
    ]);
  });
});
