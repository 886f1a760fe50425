/**
 * A stand-in for a worker: starts a long FFmpeg through the real runner and prints its pid, then
 * waits. The runner test kills this process with SIGKILL and checks that FFmpeg dies with it.
 * Node strips the types of the .ts sources; the hook maps their `./x.js` imports to `./x.ts`.
 *
 * usage: node orphan-child.mjs /path/to/ffmpeg
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw error;
    }
  },
});

const { runFfmpeg } = await import('../ffmpeg-runner.ts');

runFfmpeg({
  ffmpeg: process.argv[2] ?? 'ffmpeg',
  args: ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=5:duration=600', '-f', 'null', '-'],
  stallTimeoutMs: null,
  onSpawn: (pid) => process.stdout.write(`${pid}\n`),
});
