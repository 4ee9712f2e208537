// Runs the page's tests with node's test runner: the TypeScript test files are bundled by esbuild
// into OUT_DIR first (node runs JavaScript only).
// Usage: node test/run.mjs unit|browser OUT_DIR [FILE_PREFIX]  (FILE_PREFIX: only test/SUITE/PREFIX*)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [suite, out, only] = process.argv.slice(2);
if (!['unit', 'browser'].includes(suite) || !out) {
  console.error('usage: node test/run.mjs unit|browser OUT_DIR');
  process.exit(2);
}
const dir = join('test', suite);
const entries = readdirSync(dir).filter((f) => f.endsWith('.test.ts') && (!only || f.startsWith(only))).map((f) => join(dir, f));
const outdir = join(out, suite);
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: entries,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.mjs' },
  jsx: 'automatic',
  jsxImportSource: 'preact',
  packages: suite === 'browser' ? 'external' : undefined,
  logLevel: 'warning',
});
// The browser tests import playwright-core and axe at run time: let node find them from OUT_DIR.
const modules = join(out, 'node_modules');
if (!existsSync(modules)) {
  mkdirSync(out, { recursive: true });
  symlinkSync(resolve('node_modules'), modules, 'dir');
}
const files = readdirSync(outdir).filter((f) => f.endsWith('.test.mjs')).map((f) => join(outdir, f));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
