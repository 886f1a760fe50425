#!/usr/bin/env node
// The published entry point. The CLI is compiled TypeScript, bundled into one file at build time:
// loading one module instead of a few hundred saves ~0.1 s of every run, and a short job's cost
// is mostly start-up. dist/cli/index.js is the same code unbundled (used when the bundle is absent).
import { existsSync } from 'node:fs';
import module from 'node:module';

// V8 keeps compiled bytecode on disk between runs.
module.enableCompileCache?.();

const bundle = new URL('../dist/bundle/mediaforge.mjs', import.meta.url);
const { main } = await import(existsSync(bundle) ? bundle.href : '../dist/cli/index.js');
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`error: internal_error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
