#!/usr/bin/env node
// The published entry point: the CLI is compiled TypeScript in dist/.
import module from 'node:module';

// V8 keeps compiled bytecode on disk between runs: start-up is most of what a short job costs.
module.enableCompileCache?.();

const { main } = await import('../dist/cli/index.js');
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`error: internal_error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
