import type { Types } from 'mongoose';
import type { Db } from './index.js';
import type { SchoolDoc } from './models/school.js';

/**
 * The school document (time zone, settings, bot) is read by nearly every journal action and
 * every notification, and changes a few times a year. It is kept here for a few seconds per
 * process: a write through the School model in this process clears the cache at once (model
 * hooks in models/school.ts), a write in another process is seen within TTL_MS. Reads of the
 * same school that start together share one query.
 */
const TTL_MS = 5_000;

type LeanSchool = SchoolDoc;

const caches = new WeakMap<object, Map<string, { at: number; doc: Promise<LeanSchool | null> }>>();
/** Bumped by every write: a cache made under an older generation is dropped (a read in flight during a write included). */
let generation = 0;
const generations = new WeakMap<object, number>();

export function clearSchoolCache(): void {
  generation++;
}

export function cachedSchool(db: Db, schoolId: Types.ObjectId | string): Promise<LeanSchool | null> {
  const key = db.conn;
  let cache = caches.get(key);
  if (!cache || generations.get(key) !== generation) {
    cache = new Map();
    caches.set(key, cache);
    generations.set(key, generation);
  }
  const id = String(schoolId);
  const hit = cache.get(id);
  const now = Date.now();
  if (hit && now - hit.at < TTL_MS) return hit.doc;
  const doc = db.models.School.findById(schoolId).lean<LeanSchool>().exec() as Promise<LeanSchool | null>;
  const entry = { at: now, doc };
  cache.set(id, entry);
  // A failed read is not cached.
  doc.catch(() => {
    if (cache?.get(id) === entry) cache.delete(id);
  });
  return doc;
}
