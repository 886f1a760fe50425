/**
 * media/: the processes. Everything that runs ffmpeg or ffprobe goes through here; nothing else
 * in the code base calls child_process.
 */
export type { EncoderEntry, EncoderKind } from '../core/ffmpeg/encoder-list.js';
export type { Progress } from '../core/ffmpeg/progress.js';
export {
  type Binaries,
  type Binary,
  type BinaryName,
  type BinarySource,
  type BinaryVersion,
  effectiveVersion,
  parseVersion,
  type ResolveOptions,
  resolveBinaries,
  resolveBinary,
} from './binaries.js';
export { binaryIdentity } from './binary-cache.js';
export {
  cachedEncoderList,
  type EncoderTestResult,
  type ListOptions,
  listEncoders,
  listHwaccels,
  type TestEncodeOptions,
  testEncode,
} from './encoders.js';
export {
  FfmpegRun,
  FfmpegRunError,
  type FfmpegRunOptions,
  type FfmpegRunOutcome,
  type FfmpegRunResult,
  RUN_DEFAULTS,
  runFfmpeg,
  withRunnerArgs,
} from './ffmpeg-runner.js';
export { DEFAULT_PROBE_TIMEOUT_MS, type ProbeOptions, probe } from './ffprobe.js';
export {
  type HardwareMode,
  type HardwareProbe,
  type HardwareProbeOptions,
  PROBE_SOURCE,
  type ProbedEncoder,
  probeHardware,
} from './hw-probe.js';
export {
  type PacketOptions,
  parsePacketCsv,
  readVideoPackets,
  type VideoPackets,
} from './keyframes.js';
export { inspectMp4, isComplete, parseMoov } from './mp4-inspect.js';
export { deathSignalSupport, type RunResult, runProcess, stderrSummary } from './process.js';
