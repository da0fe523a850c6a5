import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';

type Id = Types.ObjectId;

export interface SchoolInfo {
  name: string;
  locale?: string | null;
  timezone: string;
  workKinds: Map<string, { ru: string; en: string }>;
}

/** Small caches for the worker (names change rarely; a stale name for a minute is harmless). */
export class RenderCache {
  private schools = new Map<string, { at: number; info: SchoolInfo | undefined }>();
  private subjects = new Map<string, { at: number; name: string }>();
  constructor(private readonly ttlMs = 60_000) {}

  async school(db: Db, id: Id): Promise<SchoolInfo | undefined> {
    const key = String(id);
    const hit = this.schools.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.info;
    const s = await db.models.School.findById(id, { name: 1, locale: 1, timezone: 1, settings: 1 }).lean();
    const info = s
      ? {
          name: s.name,
          locale: s.locale,
          timezone: s.timezone,
          workKinds: new Map(
            (s.settings?.workKinds ?? []).map((k) => [k.code, { ru: k.name?.ru ?? k.code, en: k.name?.en ?? k.code }]),
          ),
        }
      : undefined;
    this.schools.set(key, { at: Date.now(), info });
    return info;
  }

  async subjectNames(db: Db, ids: Id[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const missing: Id[] = [];
    for (const id of ids) {
      const hit = this.subjects.get(String(id));
      if (hit && Date.now() - hit.at < this.ttlMs) out.set(String(id), hit.name);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const found = await Promise.all([...new Set(missing.map(String))].map((id) => db.models.Subject.findById(id, { name: 1 }).lean()));
      for (const s of found) {
        if (!s) continue;
        out.set(String(s._id), s.name);
        this.subjects.set(String(s._id), { at: Date.now(), name: s.name });
      }
    }
    return out;
  }
}

/**
 * One lookup per id by its unique key rather than one `$in` query: a message is about a handful of
 * things, and an exact key is an index hit on every server (the stand-in uses no index for `$in`).
 */
export async function byIds<T>(ids: ReadonlyArray<Id | string>, find: (id: Id | string) => Promise<T | null>): Promise<T[]> {
  const unique = [...new Set(ids.map(String))];
  const found = await Promise.all(unique.map((id) => find(id)));
  return found.filter((x): x is Awaited<T> & T => x !== null && x !== undefined);
}
