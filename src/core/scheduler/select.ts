/**
 * Worker selection: which workers may take a task, best first, and when none may, one sentence for
 * the job's status saying why. Pure: the caller reads the registry and passes the time.
 */
import { AUDIO_CODECS, canonicalCodec, IMAGE_FORMATS } from '../spec/codecs.js';

export interface WorkerView {
  id: string;
  name: string;
  /** Seconds since its last heartbeat, by the database clock. */
  silentSeconds: number;
  /** What its last heartbeat said. */
  status: 'idle' | 'busy' | 'error' | 'maintenance';
  draining: boolean;
  maxConcurrent: number;
  /** Tasks it holds now (dispatched or running). */
  active: number;
  /** Encoders that passed its probe, with measured fps on the probe clip. */
  encoders: ReadonlyArray<{ name: string; codec: string; hardware: string | null; fps: number }>;
  /** Free-form labels; `key=value` ones too, e.g. `site=paris`, `gpu`. */
  labels: readonly string[];
  /** 1-minute load average divided by cores (0..n), null when unknown. */
  load: number | null;
  /** Until when the circuit breaker keeps it aside (ms epoch), or null. */
  asideUntil: number | null;
}

export interface TaskNeeds {
  /**
   * Abstract codecs the task encodes. Video ones (and names we do not know) need an encoder for the
   * codec; audio and image ones are assumed everywhere, unless the worker lists encoders of that
   * kind: then its probe covered them and the list is believed.
   */
  codecs: readonly string[];
  /** Labels every candidate must have. */
  labels?: readonly string[];
  hardware?: 'required' | 'preferred' | 'any';
  /** The site of the source storage: a worker with label `site=<that>` scores higher. */
  site?: string | null;
  /** Workers this task must not go to (it failed there for worker-side reasons). */
  avoid?: readonly string[];
}

export interface SelectOptions {
  now: number;
  onlineWithinSeconds: number;
}

export interface Selection {
  candidates: Array<{ id: string; score: number }>;
  waiting: string | null;
}

type Kind = 'video' | 'audio' | 'image';

const AUDIO = new Set<string>(AUDIO_CODECS.filter((c) => c !== 'copy' && c !== 'none'));
const IMAGE = new Set<string>(IMAGE_FORMATS);
/** Image encoders are named after FFmpeg's encoder (mjpeg, libwebp) as often as after the format. */
const IMAGE_ALIASES: Readonly<Record<string, string>> = { mjpeg: 'jpg', jpeg: 'jpg', libwebp: 'webp' };

const codecName = (c: string) => {
  const canonical = canonicalCodec(c);
  return IMAGE_ALIASES[canonical] ?? canonical;
};
/** A codec we do not know is treated as video: asking for its encoder is safer than assuming it. */
const kindOf = (codec: string): Kind => (AUDIO.has(codec) ? 'audio' : IMAGE.has(codec) ? 'image' : 'video');
const article = (codec: string) => (/^([aeio]|h|m[^aeiou])/.test(codec) ? 'an' : 'a');

/** One requirement a worker either meets or not, with the words that name it in `waiting`. */
interface Requirement {
  phrase: string;
  meets(w: WorkerView): boolean;
}

/** Hardware concerns video encoding only: a task that encodes no video has nothing to require it of. */
function requirements(needs: TaskNeeds, codecs: readonly string[]): Requirement[] {
  const hardware = needs.hardware === 'required';
  const out: Requirement[] = codecs.map((codec) => {
    const kind = kindOf(codec);
    if (kind === 'video' && hardware) {
      return {
        phrase: `with hardware encoding for ${codec}`,
        meets: (w) => w.encoders.some((e) => codecName(e.codec) === codec && e.hardware !== null),
      };
    }
    return {
      phrase: `with ${article(codec)} ${codec} encoder`,
      meets: (w) =>
        w.encoders.some((e) => codecName(e.codec) === codec) ||
        (kind !== 'video' && !w.encoders.some((e) => kindOf(codecName(e.codec)) === kind)),
    };
  });
  for (const label of new Set(needs.labels ?? [])) {
    out.push({ phrase: `labelled ${label}`, meets: (w) => w.labels.includes(label) });
  }
  return out;
}

/** Why a capable worker cannot take the task now; the order is the order of the checks. */
type Block = 'offline' | 'error' | 'maintenance' | 'aside' | 'avoided' | 'draining' | 'full';

function blockOf(w: WorkerView, avoid: ReadonlySet<string>, opts: SelectOptions): Block | null {
  if (!(w.silentSeconds <= opts.onlineWithinSeconds)) return 'offline';
  if (w.status === 'error' || w.status === 'maintenance') return w.status;
  if (w.asideUntil !== null && opts.now < w.asideUntil) return 'aside';
  if (avoid.has(w.id)) return 'avoided';
  if (w.draining) return 'draining';
  // Written as a negation so that a NaN maxConcurrent counts as no capacity.
  if (!(w.active < w.maxConcurrent)) return 'full';
  return null;
}

/** The fastest measured fps among the encoders the task may use for this codec; 0 when unknown. */
function codecFps(w: WorkerView, codec: string, hardwareOnly: boolean): number {
  let best = 0;
  for (const e of w.encoders) {
    if (codecName(e.codec) !== codec || (hardwareOnly && e.hardware === null)) continue;
    if (Number.isFinite(e.fps) && e.fps > best) best = e.fps;
  }
  return best;
}

/**
 * A task encoding several video codecs spends the sum of their times, so the worker's speed for it
 * is the harmonic combination 1 / Σ(1/fps). 0 when any codec's speed is unknown.
 */
function taskFps(w: WorkerView, videoCodecs: readonly string[], hardwareOnly: boolean): number {
  let seconds = 0;
  for (const codec of videoCodecs) {
    const fps = codecFps(w, codec, hardwareOnly);
    if (fps <= 0) return 0;
    seconds += 1 / fps;
  }
  return seconds > 0 ? 1 / seconds : 0;
}

/**
 * score = 1.00 × free        (max − active) / max, in (0, 1]
 *       + 1.00 × speed       task fps / best task fps among the candidates, in [0, 1]; 1 for all
 *                            when no candidate has a measured speed or the task encodes no video;
 *                            0 for a worker without a measurement when others have one
 *       − 0.50 × load        min(load per core, 2) / 2, in [0, 1]; 0.5 when unknown (a middle
 *                            guess, so that not reporting is neither a reward nor a punishment)
 *       + 0.75 × site        1 when the worker carries `site=<the source's site>`
 *       + 1.00 × hardware    1 when hardware is preferred and it has it for every video codec
 * Every term is finite whatever the inputs, so the order is total; ties go to the smaller id.
 */
const WEIGHTS = { free: 1, speed: 1, load: 0.5, site: 0.75, hardware: 1 } as const;

function score(w: WorkerView, needs: TaskNeeds, fps: number, bestFps: number, video: readonly string[]) {
  const free = (w.maxConcurrent - w.active) / w.maxConcurrent;
  const speed = bestFps > 0 ? fps / bestFps : 1;
  const load = w.load !== null && Number.isFinite(w.load) ? Math.min(Math.max(w.load, 0), 2) / 2 : 0.5;
  const site = needs.site && w.labels.includes(`site=${needs.site}`) ? 1 : 0;
  const hardware =
    needs.hardware === 'preferred' &&
    video.length > 0 &&
    video.every((c) => w.encoders.some((e) => codecName(e.codec) === c && e.hardware !== null))
      ? 1
      : 0;
  const total =
    WEIGHTS.free * free +
    WEIGHTS.speed * speed -
    WEIGHTS.load * load +
    WEIGHTS.site * site +
    WEIGHTS.hardware * hardware;
  // Rounded so that float noise never decides an order the tie-break by id should decide.
  return Math.round(total * 1e6) / 1e6;
}

export function selectWorkers(
  needs: TaskNeeds,
  workers: readonly WorkerView[],
  opts: SelectOptions,
): Selection {
  const codecs = [...new Set(needs.codecs.map(codecName))].filter((c) => c !== 'copy' && c !== 'none');
  const video = codecs.filter((c) => kindOf(c) === 'video');
  if (!workers.some((w) => w.silentSeconds <= opts.onlineWithinSeconds)) {
    return { candidates: [], waiting: 'no worker is online' };
  }

  // Capability is judged over every known worker, online or not, so that the sentence can tell
  // "nobody has an hevc encoder" from "the one that has it is offline".
  let capable: readonly WorkerView[] = workers;
  const binding: string[] = [];
  for (const r of requirements(needs, codecs)) {
    const next = capable.filter((w) => r.meets(w));
    if (next.length < capable.length) binding.push(r.phrase);
    capable = next;
    if (capable.length === 0)
      return { candidates: [], waiting: `waiting for a worker ${binding.join(' and ')}` };
  }

  const avoid = new Set(needs.avoid ?? []);
  const blocked = new Map<Block, WorkerView[]>();
  const open: WorkerView[] = [];
  for (const w of capable) {
    const block = blockOf(w, avoid, opts);
    if (block === null) open.push(w);
    else blocked.set(block, [...(blocked.get(block) ?? []), w]);
  }
  if (open.length === 0) return { candidates: [], waiting: waitingFor(blocked, capable.length, opts.now) };

  const hardwareOnly = needs.hardware === 'required';
  const fps = new Map(open.map((w) => [w.id, taskFps(w, video, hardwareOnly)]));
  const bestFps = Math.max(0, ...fps.values());
  const candidates = open
    .map((w) => ({ id: w.id, score: score(w, needs, fps.get(w.id) ?? 0, bestFps, video) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { candidates, waiting: null };
}

/** Sorted, so that the sentence does not depend on the order the registry returned the workers in. */
function names(ws: readonly WorkerView[]): string {
  const shown = ws
    .map((w) => w.name)
    .sort()
    .slice(0, 3);
  return ws.length > 3 ? `${shown.join(', ')} and ${ws.length - 3} more` : shown.join(', ');
}

function inWords(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`;
}

/** Reasons in the order a waiting user would want them: what clears itself soonest first. */
const ORDER: readonly Block[] = ['full', 'draining', 'aside', 'avoided', 'error', 'maintenance', 'offline'];

function waitingFor(
  blocked: ReadonlyMap<Block, readonly WorkerView[]>,
  capable: number,
  now: number,
): string {
  const present = ORDER.filter((b) => blocked.has(b));
  // Only read when some worker is aside: then the soonest return is what the user waits for.
  const back = () =>
    inWords(Math.min(...(blocked.get('aside') ?? []).map((w) => (w.asideUntil ?? now) - now)));
  if (present.length === 1) {
    const block = present[0]!;
    const ws = blocked.get(block)!;
    const only = capable === 1 ? `the only capable worker (${ws[0]!.name})` : null;
    switch (block) {
      case 'full':
        return only ? `${only} is busy` : `all ${capable} capable workers are busy`;
      case 'draining':
        return only ? `${only} is draining` : `all ${capable} capable workers are draining`;
      case 'aside':
        return `${only ?? 'capable workers'} ${only ? 'is' : 'are'} set aside after repeated failures (back in ${back()})`;
      case 'avoided':
        return only
          ? `the task already failed on ${only}`
          : `the task already failed on every capable worker: ${names(ws)}`;
      case 'error':
      case 'maintenance':
      case 'offline': {
        const state = block === 'offline' ? 'offline' : `in ${block}`;
        return only ? `${only} is ${state}` : `capable workers are ${state}: ${names(ws)}`;
      }
    }
  }
  const parts = present.map((block) => {
    const ws = blocked.get(block)!;
    const n = ws.length;
    switch (block) {
      case 'full':
        return `${n} busy`;
      case 'draining':
        return `${n} draining`;
      case 'aside':
        return `${n} set aside after failures (back in ${back()})`;
      case 'avoided':
        return `${n} where the task already failed`;
      default:
        return `${n} ${block === 'offline' ? 'offline' : `in ${block}`} (${names(ws)})`;
    }
  });
  return `no capable worker is free: ${parts.join(', ')}`;
}

/**
 * Workers that could start a task now and hold none: how many the planner may count on when it
 * considers splitting a long input into chunks.
 */
export function idleWorkers(workers: readonly WorkerView[], opts: SelectOptions): number {
  const none = new Set<string>();
  return workers.filter((w) => w.active === 0 && blockOf(w, none, opts) === null).length;
}
