/** `mediaforge doctor`: which FFmpeg, from where, which version, and which encoders really work. */
import { knownEncoderNames } from '../core/index.js';
import { deathSignalSupport, listEncoders, testEncode } from '../media/index.js';
import { type CommonOptions, openContext } from './context.js';
import { EXIT_FAILED, EXIT_OK, type Io, reportError } from './output.js';

export async function doctorCommand(opts: CommonOptions & { json?: boolean }, io: Io): Promise<number> {
  try {
    const ctx = await openContext(opts);
    const { ffmpeg, ffprobe } = ctx.binaries;
    const listed = await listEncoders(ffmpeg.path);
    const candidates = knownEncoderNames().filter((n) => listed.has(n));
    const results: Array<{ encoder: string; ok: boolean; ms: number; error?: string }> = [];
    for (const encoder of candidates) {
      const r = await testEncode(ffmpeg.path, encoder);
      results.push({ encoder, ok: r.ok, ms: Math.round(r.ms), ...(r.error ? { error: r.error } : {}) });
    }
    const pdeath = deathSignalSupport();
    if (opts.json) {
      io.out(
        JSON.stringify(
          {
            ffmpeg,
            ffprobe,
            warnings: ctx.binaries.warnings,
            media_root: ctx.roots.default,
            parent_death_signal: pdeath,
            encoders: results,
          },
          null,
          2,
        ),
      );
    } else {
      io.out(`ffmpeg   ${ffmpeg.version.text}  ${ffmpeg.path}  (from ${ffmpeg.source})`);
      io.out(`ffprobe  ${ffprobe.version.text}  ${ffprobe.path}  (from ${ffprobe.source})`);
      for (const w of ctx.binaries.warnings) io.out(`warning: ${w}`);
      io.out(`media root: ${ctx.roots.default}`);
      io.out(
        `FFmpeg dies with its parent: ${pdeath ? `yes (${pdeath})` : 'no (setpriv not found: orphans possible if mediaforge is killed)'}`,
      );
      io.out('encoders (one-frame test encode):');
      for (const r of results)
        io.out(`  ${r.ok ? '✓' : '✗'} ${r.encoder.padEnd(12)} ${r.ok ? `${r.ms} ms` : r.error}`);
    }
    return results.some((r) => r.ok) ? EXIT_OK : EXIT_FAILED;
  } catch (e) {
    return reportError(e, io, !!opts.json);
  }
}
