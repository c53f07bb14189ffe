// Bundle the Studio anywidget (editor + viewer + inspector) into one ESM file plus its CSS.
// The Python `Studio` widget points `_esm` / `_css` at these files; React, @xyflow/react and
// three are bundled in (the kernel sends the module, no CDN is ever contacted).
import * as esbuild from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, '..', 'brepflow_lab', 'widgets', 'static');
mkdirSync(outdir, { recursive: true });
const watch = process.argv.includes('--watch');

const options = {
  entryPoints: { studio: resolve(here, 'src', 'widget', 'index.tsx') },
  outdir,
  bundle: true,
  format: 'esm',
  target: ['es2020'],
  minify: !watch,
  sourcemap: false,
  legalComments: 'none',
  jsx: 'automatic',
  tsconfig: resolve(here, 'tsconfig.widget.json'),
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
  loader: { '.svg': 'text' },
  logLevel: 'info'
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
