import type { Connection } from 'mongoose';
import { DomainError } from '../shared/errors.js';
import { DUMP_COLLECTIONS, type YearDump } from './archive.js';

/**
 * `year restore` (R30): loads a year's dump into a new, empty database, for reading (the app or
 * the CLI pointed at it shows the year as it was). Refuses a database that already has a school,
 * so a restore never mixes into live data.
 */
export async function restoreYear(conn: Connection, dump: YearDump): Promise<Record<string, number>> {
  if (dump.format !== 'sjb-year-archive' || dump.version !== 1) throw new DomainError('yearEnd.restore.badFormat');
  if ((await conn.collection('schools').countDocuments({}, { limit: 1 })) > 0) throw new DomainError('yearEnd.restore.notEmpty');
  const counts: Record<string, number> = {};
  for (const name of DUMP_COLLECTIONS) {
    const docs = (dump.collections[name] ?? []) as Array<Record<string, unknown>>;
    counts[name] = docs.length;
    for (let i = 0; i < docs.length; i += 1000) await conn.collection(name).insertMany(docs.slice(i, i + 1000), { ordered: false });
  }
  return counts;
}
