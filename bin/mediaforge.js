#!/usr/bin/env node
// The published entry point: the CLI is compiled TypeScript in dist/.
import { main } from '../dist/cli/index.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`error: internal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
