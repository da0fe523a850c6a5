/**
 * The Mini App's words: every key its source asks for (t('…')) is in the `webapp` section of both
 * locales/ru.json and locales/en.json (the build bundles only that section), and both sections have
 * the same keys. A missing key would show as the raw key on a phone.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const APP = path.resolve('src/web/app');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function keysOf(tree: unknown, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null) return [prefix];
  return Object.entries(tree).flatMap(([k, v]) => keysOf(v, prefix ? `${k === '' ? prefix : `${prefix}.${k}`}` : k));
}

const section = (lang: string) => (JSON.parse(readFileSync(`locales/${lang}.json`, 'utf8')) as { webapp?: unknown }).webapp;
/** `files_one`, `files_few` … → `files` (i18next's plural forms of one key). */
const base = (key: string) => key.replace(/_(zero|one|two|few|many|other)$/, '');

describe('the Mini App locale section', () => {
  const used = new Set<string>();
  for (const file of sources(APP)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z][\w.]*)'/g)) used.add(m[1]!);
  }
  // Built keys: family.code.0..2 (the absence codes' legend).
  for (const i of [0, 1, 2]) used.add(`family.code.${i}`);

  it.each(['ru', 'en'])('%s has every key the front end uses', (lang) => {
    const have = new Set(keysOf(section(lang)).map(base));
    const missing = [...used].filter((k) => !have.has(k));
    expect(missing).toEqual([]);
  });

  it('ru and en have the same keys (plural forms aside)', () => {
    const ru = new Set(keysOf(section('ru')).map(base));
    const en = new Set(keysOf(section('en')).map(base));
    expect([...ru].filter((k) => !en.has(k))).toEqual([]);
    expect([...en].filter((k) => !ru.has(k))).toEqual([]);
  });
});
