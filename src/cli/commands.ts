/** The local pipeline commands: run, plan, probe. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  AppError,
  buildArgs,
  chooseEncoders,
  type MediaInfo,
  mainAudio,
  mainVideo,
  rationalToNumber,
} from '../core/index.js';
import { executeJob, prepareJob } from '../pipeline/index.js';
import { type CommonOptions, openContext } from './context.js';
import { EXIT_OK, humanBytes, type Io, progressReporter, reportError } from './output.js';

export async function readSpecFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new AppError(
      'invalid_request',
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError('invalid_request', `${file} is not valid JSON: ${(e as Error).message}`);
  }
}

export function describeMedia(info: MediaInfo): string {
  const v = mainVideo(info);
  const a = mainAudio(info);
  const parts = [info.format.duration === null ? null : `${info.format.duration.toFixed(2)} s`];
  if (v)
    parts.push(
      `${v.codec} ${v.width}x${v.height}${v.fps ? ` ${rationalToNumber(v.fps).toFixed(2)} fps` : ''}`,
    );
  if (a) parts.push(`${a.codec} ${a.sampleRate ?? '?'} Hz ${a.channels ?? '?'} ch`);
  return parts.filter(Boolean).join(', ');
}

export async function runCommand(
  file: string,
  opts: CommonOptions & { json?: boolean },
  io: Io,
): Promise<number> {
  const json = !!opts.json;
  const progress = progressReporter(io, json);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  // `on`, not `once`: a second Ctrl-C while FFmpeg stops (at most kill_grace_seconds) must not
  // kill us before the temporary files are removed.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const ctx = await openContext(opts);
    const doc = await readSpecFile(file);
    const job = await prepareJob(doc, {
      roots: ctx.roots,
      tools: ctx.tools,
      limits: ctx.limits,
      ffmpegVersion: ctx.ffmpegVersion,
      signal: abort.signal,
    });
    const result = await executeJob(job, {
      roots: ctx.roots,
      tools: ctx.tools,
      signal: abort.signal,
      onProgress: progress.update,
      ...(ctx.config.threads ? { threads: ctx.config.threads } : {}),
    });
    progress.stop();
    if (json) {
      io.out(
        JSON.stringify({
          type: 'result',
          status: 'completed',
          ffmpeg_ms: result.ffmpegMs,
          outputs: result.outputs.map((o) => ({
            index: o.index,
            id: o.id,
            files: o.files,
            size: o.size,
            duration: o.info.format.duration,
          })),
        }),
      );
    } else {
      for (const o of result.outputs)
        io.out(
          `✓ outputs[${o.index}] ${o.id} → ${o.files.join(', ')} (${humanBytes(o.size)}; ${describeMedia(o.info)})`,
        );
    }
    return EXIT_OK;
  } catch (e) {
    progress.stop();
    return reportError(e, io, json);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function planCommand(
  file: string,
  opts: CommonOptions & { json?: boolean },
  io: Io,
): Promise<number> {
  try {
    const ctx = await openContext(opts);
    const job = await prepareJob(await readSpecFile(file), {
      roots: ctx.roots,
      tools: ctx.tools,
      limits: ctx.limits,
      ffmpegVersion: ctx.ffmpegVersion,
    });
    const encoders = chooseEncoders(await ctx.tools.encoders());
    const tasks = job.plan.tasks.map((t) => ({
      ...t,
      argv: [
        ctx.binaries.ffmpeg.path,
        ...buildArgs(t, encoders, {
          analysis: Object.fromEntries(
            Object.keys(t.analysis_from).map((n) => [n, { measured: 'from the analysis task' }]),
          ),
        }),
      ],
    }));
    if (opts.json) {
      io.out(
        JSON.stringify(
          {
            stages: job.plan.stages,
            nodes: job.plan.nodes,
            outputs: job.plan.outputs,
            estimate: job.plan.estimate,
            tasks,
          },
          null,
          2,
        ),
      );
      return EXIT_OK;
    }
    io.out('Stages:');
    for (const [k, s] of job.plan.stages.entries()) io.out(`  ${k}: ${s.join(', ')}`);
    const e = job.plan.estimate;
    io.out(
      `Estimate: ${e.media_seconds} s of media, ${e.cpu_seconds} CPU-s, ${e.memory_mib} MiB, ~${humanBytes(e.output_bytes)} out`,
    );
    io.out('Tasks:');
    for (const t of tasks) {
      io.out(
        `  ${t.id} (${t.kind}${t.deps.length ? `, after ${t.deps.join(', ')}` : ''}): ${t.outputs.map((o) => `outputs[${o.index}]`).join(', ') || 'analysis'}`,
      );
      io.out(`    ${t.argv.map(quoteForDisplay).join(' ')}`);
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, io, !!opts.json);
  }
}

/** For people to read and paste; never run through a shell by us. */
function quoteForDisplay(a: string): string {
  return /^[A-Za-z0-9_./:=+,@%-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export async function probeCommand(
  file: string,
  opts: CommonOptions & { json?: boolean },
  io: Io,
): Promise<number> {
  try {
    const ctx = await openContext(opts);
    const info = await ctx.tools.probe(resolve(file));
    if (opts.json) io.out(JSON.stringify(info, null, 2));
    else {
      io.out(`${file}: ${info.format.name}, ${describeMedia(info)}, ${humanBytes(info.format.size)}`);
      for (const s of info.streams)
        io.out(
          `  #${s.index} ${s.type} ${s.codec}${s.width ? ` ${s.width}x${s.height}` : ''}${s.language ? ` [${s.language}]` : ''}`,
        );
    }
    return EXIT_OK;
  } catch (e) {
    return reportError(e, io, !!opts.json);
  }
}
