/**
 * Builds the Mini App's front end (src/web/app/) into dist/webapp/: app-<hash>.js (preact + htm, uPlot,
 * @telegram-apps/bridge, our screens; minified ESM), app-<hash>.css and index.html naming them. Only the `webapp` section of
 * locales/{ru,en}.json is bundled. Prints the sizes (raw and gzipped) and fails over the budget (issue 15:
 * JavaScript under 150 KB gzipped). `--metafile` writes dist/webapp/meta.json for a size breakdown.
 *
 *   node --import tsx scripts/build-webapp.ts [--metafile]
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src/web/app');
export const WEBAPP_DIST = path.join(ROOT, 'dist/webapp');
const JS_BUDGET_GZIP = 150 * 1024;

function webappLocales() {
  const out: Record<string, unknown> = {};
  for (const lang of ['ru', 'en']) {
    const all = JSON.parse(readFileSync(path.join(ROOT, `locales/${lang}.json`), 'utf8')) as Record<string, unknown>;
    if (!all.webapp) throw new Error(`locales/${lang}.json has no "webapp" section`);
    out[lang] = all.webapp;
  }
  return out;
}

export async function buildWebapp(opts: { outdir?: string; metafile?: boolean; quiet?: boolean } = {}) {
  const target = opts.outdir ?? WEBAPP_DIST;
  // Built beside and moved into place: a server reading the old build never sees half of the new one.
  const outdir = `${target}.tmp-${process.pid}`;
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(SRC, 'main.ts') },
    outdir,
    // Content-hashed names: the web server caches them for good, index.html (never cached) names them.
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020', 'safari15'],
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    tsconfig: path.join(SRC, 'tsconfig.json'),
    define: { __WEBAPP_LOCALES__: JSON.stringify(webappLocales()) },
    logLevel: 'warning',
  });
  const built = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  const js = built.find((f) => f.endsWith('.js'))!;
  const css = built.find((f) => f.endsWith('.css'))!;
  const html = readFileSync(path.join(SRC, 'index.html'), 'utf8').replace('/app/app.js', `/app/${js}`).replace('/app/app.css', `/app/${css}`);
  writeFileSync(path.join(outdir, 'index.html'), html);
  if (opts.metafile) writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  rmSync(target, { recursive: true, force: true });
  try {
    renameSync(outdir, target);
  } catch (err) {
    // Another process's build of the same sources landed between the two lines (test workers): keep it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    rmSync(outdir, { recursive: true, force: true });
  }
  const sizes = [js, css, 'index.html'].map((name) => {
    const bytes = readFileSync(path.join(target, name));
    return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  if (!opts.quiet) {
    for (const s of sizes) console.log(`dist/webapp/${s.name}: ${(s.raw / 1024).toFixed(1)} KB, ${(s.gzip / 1024).toFixed(1)} KB gzipped`);
  }
  const jsSize = sizes[0]!;
  if (jsSize.gzip > JS_BUDGET_GZIP) throw new Error(`${js} is ${jsSize.gzip} bytes gzipped, over the ${JS_BUDGET_GZIP}-byte budget`);
  return { sizes, metafile: result.metafile };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWebapp({ metafile: process.argv.includes('--metafile') }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
