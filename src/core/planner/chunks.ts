/**
 * Where a video may be cut into chunks: at its keyframes, the only frames a decoder can start
 * from. From the video packets ffprobe lists (decode order, presentation times) to an index of
 * the keyframes, then to chunk ranges of about `chunk_seconds`, in seconds and in frame numbers.
 */

/** One video packet as ffprobe lists it: its presentation time (s) and whether it is a keyframe. */
export interface VideoPacket {
  pts: number;
  key: boolean;
}

export interface Keyframe {
  /** Its number in presentation order (0 is the first frame). */
  frame: number;
  /** Its presentation time, in seconds from the input's start. */
  time: number;
  /**
   * Where to seek to start on it: just before it (1 ms, or half the gap to the frame before when
   * that is shorter), so the frame before is left out whatever the rounding of printed times, and
   * the frames after sit where the encoder's frame grid puts them in an unchunked encode too.
   */
  cut: number;
}

/** A video's timeline, all times in seconds from the input's start (FFmpeg's `-ss 0`). */
export interface KeyframeIndex {
  frames: number;
  /** Presentation time of the first frame. */
  first: number;
  /** Where the last frame ends (its time plus the gap before it). */
  end: number;
  /** The keyframes after the first frame, in time order: the places a chunk may start. */
  keyframes: Keyframe[];
  /** The shortest and the longest time between two frames: equal at a constant frame rate. */
  gaps: { min: number; max: number };
}

export interface ChunkSpan {
  index: number;
  /** [start, end) in seconds: from this chunk's keyframe to the next chunk's (or the end). */
  start: number;
  end: number;
  /** [firstFrame, endFrame) in presentation order. */
  firstFrame: number;
  endFrame: number;
  /** Where FFmpeg seeks (null for the first chunk, read from the beginning). */
  seek: number | null;
  /** Where FFmpeg stops reading (null for the last chunk, read to the end). */
  stop: number | null;
}

/** More chunks than this make more tasks than they save: longer chunks are made instead. */
export const MAX_CHUNKS = 500;

/** How far before a keyframe its chunk's seek goes, at most. */
const CUT_BEFORE = 0.001;

/** Seconds with the microsecond grain of FFmpeg's own times, so sums stay exact enough to compare. */
const us = (s: number) => Math.round(s * 1e6) / 1e6;

/**
 * The index of a video from its packets (any order: B-frames come out of order) and the input's
 * start time (ffprobe's format start_time). Null when there is no frame.
 */
export function indexPackets(packets: readonly VideoPacket[], startTime = 0): KeyframeIndex | null {
  if (packets.length === 0) return null;
  const times = packets.map((p) => p.pts).sort((a, b) => a - b);
  const position = new Map<number, number>();
  times.forEach((t, i) => {
    if (!position.has(t)) position.set(t, i);
  });
  const rel = (t: number) => us(t - startTime);
  const keyframes: Keyframe[] = [];
  for (const p of packets) {
    const frame = position.get(p.pts)!;
    if (!p.key || frame === 0) continue;
    const before = Math.min(CUT_BEFORE, (p.pts - times[frame - 1]!) / 2);
    keyframes.push({ frame, time: rel(p.pts), cut: rel(p.pts - before) });
  }
  keyframes.sort((a, b) => a.frame - b.frame);
  const last = times[times.length - 1]!;
  const gap = times.length > 1 ? last - times[times.length - 2]! : 0;
  let [min, max] = [gap, gap];
  for (let i = 1; i < times.length; i++) {
    const g = times[i]! - times[i - 1]!;
    if (g < min) min = g;
    if (g > max) max = g;
  }
  return {
    frames: times.length,
    first: rel(times[0]!),
    end: rel(last + gap),
    keyframes: keyframes.filter((k, i) => i === 0 || k.frame !== keyframes[i - 1]!.frame),
    gaps: { min: us(min), max: us(max) },
  };
}

/**
 * Chunks of about `chunkSeconds`: each next one starts at the keyframe nearest to where the
 * target length ends (not nearer than half the target; the end of the video counts as a place to
 * stop), and a last piece shorter than half the target joins the one before. One span means
 * the video cannot be split (one keyframe, or too short).
 */
export function chunkSpans(index: KeyframeIndex, chunkSeconds: number): ChunkSpan[] {
  const target = Math.max(chunkSeconds, (index.end - index.first) / MAX_CHUNKS);
  const starts: Array<Keyframe | null> = [null];
  let from = index.first;
  let k = 0;
  const kfs = index.keyframes;
  while (k < kfs.length) {
    // Never a chunk shorter than half the target: keyframes too near are passed over.
    while (k < kfs.length && kfs[k]!.time < from + target / 2) k++;
    if (k === kfs.length) break;
    const want = from + target;
    // Advance to the last keyframe at or before `want`, then take it or the next, whichever is nearer.
    let best = k;
    while (best + 1 < kfs.length && kfs[best + 1]!.time <= want) best++;
    if (kfs[best]!.time < want && best + 1 < kfs.length) {
      const after = kfs[best + 1]!;
      if (after.time - want < want - kfs[best]!.time) best++;
    }
    const chosen = kfs[best]!;
    // The end is a place to stop too: when it is as near, what is left is one chunk.
    if (Math.abs(index.end - want) <= Math.abs(chosen.time - want)) break;
    starts.push(chosen);
    from = chosen.time;
    k = best + 1;
  }
  // A short last piece joins the one before it.
  while (starts.length > 1 && index.end - starts[starts.length - 1]!.time < target / 2) starts.pop();

  return starts.map((s, i) => {
    const next = starts[i + 1] ?? null;
    return {
      index: i,
      start: s ? s.time : index.first,
      end: next ? next.time : index.end,
      firstFrame: s ? s.frame : 0,
      endFrame: next ? next.frame : index.frames,
      seek: s ? s.cut : null,
      stop: next ? next.cut : null,
    };
  });
}

/**
 * Whether every frame of the video is one frame period after the one before (within 10 %, and
 * 1 ms for containers that round times to the millisecond). A variable rate is not chunked: the
 * encoder rounds times to its frame grid, and a chunk would keep or lose other frames than an
 * unchunked encode does.
 */
export function steadyRate(index: KeyframeIndex, fps: { num: number; den: number }): boolean {
  const period = fps.den / fps.num;
  const slack = 0.1 * period + 0.001;
  return index.frames < 2 || (index.gaps.min >= period - slack && index.gaps.max <= period + slack);
}

/** Below this, splitting costs more (an extra decode of a GOP per chunk, a join) than it gains. */
export const AUTO_CHUNK_MIN_SECONDS = 120;

/**
 * The orchestrator's own choice, for a job that did not ask: chunk when at least two workers are
 * idle and the input is long enough to give each of them a chunk and more.
 */
export function shouldChunk(o: {
  durationSeconds: number | null;
  idleWorkers: number;
  chunkSeconds: number;
}): boolean {
  if (o.durationSeconds === null || o.idleWorkers < 2) return false;
  return o.durationSeconds >= Math.max(AUTO_CHUNK_MIN_SECONDS, 2 * o.chunkSeconds);
}
