/**
 * The edge of the local commands: settings parsed once (flags > env > YAML > defaults), the
 * binaries found, and the process layer wired into the pipeline's MediaTools.
 */
import { resolve } from 'node:path';
import { loadConfig, type RunConfig } from '../config/index.js';
import { type Binaries, effectiveVersion, resolveBinaries } from '../media/index.js';
import { localTools, type MediaTools } from '../pipeline/index.js';
import { type MediaRoots, mediaRoots } from '../storage/index.js';

export interface CommonOptions {
  config?: string;
  mediaRoot?: string;
}

export interface LocalContext {
  config: Readonly<RunConfig>;
  roots: MediaRoots;
  binaries: Binaries;
  tools: MediaTools;
  limits: { maxPixels: number; maxSeconds: number };
  ffmpegVersion: { major: number; minor: number } | null;
}

export async function openContext(
  opts: CommonOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LocalContext> {
  const config = loadConfig('run', {
    env,
    ...(opts.config ? { file: opts.config } : {}),
    overrides: { media_root: opts.mediaRoot },
  });
  const roots = mediaRoots(resolve(config.media_root ?? process.cwd()), config.extra_media_roots);
  const binaries = await resolveBinaries({
    ...(config.ffmpeg ? { ffmpeg: config.ffmpeg } : {}),
    ...(config.ffprobe ? { ffprobe: config.ffprobe } : {}),
    env,
  });
  return {
    config,
    roots,
    binaries,
    tools: localTools(config, binaries),
    limits: { maxPixels: config.max_pixels, maxSeconds: config.max_input_seconds },
    ffmpegVersion: effectiveVersion(binaries.ffmpeg),
  };
}
