import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { IMPORT_ORDER, importFile } from '../../../src/domain/imports/index.js';
import { systemActor } from '../../../src/domain/school/actor.js';
import { createSchool } from '../../../src/domain/school/schools.js';
import { testMongoUri } from '../../support/db.js';

/**
 * Issue 11 (README): the templates in docs/import load into a new school in the documented order
 * (staff → subjects → classes → students → groups → load → timetable), the README's example
 * gives that order, and the template timetable is a full school week.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NOW = new Date('2026-11-23T09:00:00Z');
let conn: Connection;
let db: Db;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('templates'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('the import templates', () => {
  it('load one after another in the documented order, and the timetable covers Monday to Friday', async () => {
    expect([...IMPORT_ORDER]).toEqual(['staff', 'subjects', 'classes', 'students', 'groups', 'load', 'timetable']);
    const school = await createSchool(db, { name: 'Шаблонная школа', timezone: 'Europe/Moscow', now: NOW });
    const actor = systemActor(school._id, 'cli');
    for (const kind of IMPORT_ORDER) {
      const data = readFileSync(join(ROOT, 'docs', 'import', `${kind}.csv`));
      const report = await importFile(db, actor, { kind, data, filename: `${kind}.csv`, now: NOW });
      expect({ kind, ok: report.ok, errors: report.errors }).toEqual({ kind, ok: true, errors: [] });
    }
    const days = await db.models.TimetableSlot.distinct('weekday', { schoolId: school._id });
    expect([...days].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('the README shows the same order in its example', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const order = [...readme.matchAll(/npm run import -- (\w+) docs\/import\//g)].map((m) => m[1]);
    expect(order.filter((k, i) => order.indexOf(k) === i)).toEqual([...IMPORT_ORDER]);
  });

  it('the README and docs link only inside the repository (the regulations are in docs/regulations.md)', () => {
    for (const file of ['README.md', 'docs/import/README.md', 'docs/architecture.md']) {
      expect({ file, outside: readFileSync(join(ROOT, file), 'utf8').match(/\]\(\.\.\/[^)]*\)/g) ?? [] }).toEqual({ file, outside: [] });
    }
    expect(readFileSync(join(ROOT, 'docs', 'regulations.md'), 'utf8')).toContain('R32');
  });
});
