import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CallbackData } from '../../src/bot/callbacks/index.js';
import { LANGUAGES } from '../../src/bot/callbacks/school.js';
import { LOCALES } from '../../src/config.js';

/**
 * src/bot/callbacks/ is the one home of every button format (docs/architecture.md): one file per
 * context, a leaf that src/notify and src/jobs may import. A button already sent to a user is
 * pressed later, so a prefix is never reused by another format nor dropped.
 */
const ROOT = join(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const CALLBACKS = join(SRC, 'bot/callbacks');
/** What a callbacks file may import: the zod parser, the packer, the domain's vocabulary. */
const ALLOWED_IMPORTS = new Set(['zod', './index.js', '../../domain/shared/vocabulary.js']);

const rel = (path: string) => relative(ROOT, path).split('\\').join('/');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const callbackFiles = () => sourceFiles(CALLBACKS);

function importsOf(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/\b(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g),
    ...source.matchAll(/\brequire\s*\(\s*['"`]([^'"`]+)['"`]/g),
  ];
  return specifiers.map((m) => m[1] ?? '');
}

const isCallback = (v: unknown): v is CallbackData<never> =>
  typeof v === 'object' && v !== null && typeof (v as CallbackData<never>).prefix === 'string' && typeof (v as CallbackData<never>).pack === 'function';

async function allCallbacks(): Promise<{ name: string; cb: CallbackData<never> }[]> {
  const found: { name: string; cb: CallbackData<never> }[] = [];
  for (const file of callbackFiles()) {
    const mod: Record<string, unknown> = await import(pathToFileURL(file).href);
    for (const [key, value] of Object.entries(mod)) {
      if (isCallback(value)) found.push({ name: `${rel(file)} ${key}`, cb: value });
    }
  }
  return found;
}

/**
 * Prefixes of buttons that were sent to users; each must still be defined, or those buttons go
 * dead. New formats need not be listed here; a prefix leaves this list only with its buttons.
 */
const SHIPPED = {
  journal:
    'jd jcd jpk ls jcl ao at aa as mr ms mv me mc mk md mn mb bk gp tp ta tt pl pu hw hn hf lx hl hc hs ab ar ap jx jy grl grq grx tml tms tmp tmj tmv',
  notices: 'ack abrd msgr msga anr',
  diary: 'child dia dfile npc np npd ackd acks abs1 abs2 abs3 abs4 abs0',
  school: 'lang consent menu prof imp invm invc invs invst invsl invp inva invo invr invy',
  messaging: 'msgc msgt msgo msgx msgk msgm msgp msgwc msgws msgwp msgwa anc ansc ang anw anp angr ant anpd ans anx anst anrm',
};

describe('src/bot/callbacks: every button format in one place', () => {
  it('defines callbacks only under src/bot/callbacks/', () => {
    const outside = sourceFiles(SRC)
      .filter((f) => !f.startsWith(CALLBACKS))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (/\bdefineCallback\s*\(/.test(line) ? [`${rel(f)}:${i + 1}`] : [])),
      );
    expect(outside, 'move these button formats into src/bot/callbacks/<context>.ts').toEqual([]);
  });

  it('gives every callback its own prefix, and no filter catches another format', async () => {
    const all = await allCallbacks();
    expect(all.length).toBeGreaterThan(100);
    const byPrefix = new Map<string, string[]>();
    for (const { name, cb } of all) byPrefix.set(cb.prefix, [...(byPrefix.get(cb.prefix) ?? []), name]);
    const shared = [...byPrefix].filter(([, names]) => names.length > 1).map(([p, names]) => `${p}: ${names.join(', ')}`);
    expect(shared, 'two button formats share a prefix').toEqual([]);
    const caught = all.flatMap((a) =>
      all.filter((b) => a !== b && a.cb.filter.test(`${b.cb.prefix}:x`)).map((b) => `${a.name} catches ${b.name}`),
    );
    expect(caught).toEqual([]);
  });

  it('still defines every prefix already sent to users, in its context file', async () => {
    const all = await allCallbacks();
    const missing = Object.entries(SHIPPED).flatMap(([context, prefixes]) => {
      const file = `src/bot/callbacks/${context}.ts`;
      const here = new Set(all.filter((c) => c.name.startsWith(`${file} `)).map((c) => c.cb.prefix));
      return prefixes.split(' ').filter((p) => !here.has(p)).map((p) => `${file}: ${p}`);
    });
    expect(missing).toEqual([]);
  });

  it('keeps the callbacks files a leaf: zod, ./index.js and the domain vocabulary only', () => {
    const files = callbackFiles();
    expect(files.map(rel).sort()).toEqual(
      expect.arrayContaining(['diary', 'index', 'journal', 'messaging', 'notices', 'school'].map((c) => `src/bot/callbacks/${c}.ts`)),
    );
    const bad = files.flatMap((f) =>
      importsOf(readFileSync(f, 'utf8'))
        .filter((s) => !ALLOWED_IMPORTS.has(s))
        .map((s) => `${rel(f)} imports ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('detects the imports it must refuse', () => {
    const probe = [
      "import { Composer } from 'grammy';",
      "import type { BotContext } from '../context.js';",
      "export { x } from '../features/diary/diary.js';",
      "import '../../domain/journal/marks.js';",
      "const m = await import('../../config.js');",
    ].join('\n');
    expect(importsOf(probe)).toEqual(['grammy', '../context.js', '../features/diary/diary.js', '../../domain/journal/marks.js', '../../config.js']);
  });

  it('offers /language in exactly the configured locales', () => {
    expect([...LANGUAGES].sort()).toEqual([...LOCALES].sort());
  });
});
