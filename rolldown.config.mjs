// The CLI bundle: our code plus the few small packages every command loads, in one file, so a
// command starts without resolving hundreds of modules. The server's packages stay outside:
// PGlite finds its WASM beside its own module, and `up` is not a command where 50 ms matter.
const BUNDLED = ['commander', 'cli-progress', 'zod', 'yaml'];

export default {
  input: 'dist/cli/index.js',
  platform: 'node',
  external: (id) =>
    /^[^./]/.test(id) && !id.startsWith('node:') && !BUNDLED.some((p) => id === p || id.startsWith(`${p}/`)),
  // `up` and `orchestrator` load their part (a chunk beside this one) only when run.
  output: {
    format: 'esm',
    dir: 'dist/bundle',
    entryFileNames: 'mediaforge.mjs',
    chunkFileNames: '[name]-[hash].mjs',
  },
  logLevel: 'warn',
};
