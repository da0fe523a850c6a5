import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { quietUntil } from '../../domain/notices/quiet-hours.js';
import { defer, dueOf, dueSchools } from '../outbox-worker.js';
import { JOINABLE } from '../render.js';
import { type Batch, CACHE_MS, chatKey, type DeliveryEvent } from './types.js';

/** School id → chat key → the chat's due messages. */
export type DueBuffer = Map<string, Map<string, Batch>>;

/**
 * Reads the due messages of every school with some, a bounded number per school, grouped by chat.
 * A school in its quiet hours keeps its non-urgent messages: they are deferred to the morning.
 */
export class DueReader {
  private readonly quietCache = new Map<string, { at: number; tz: string; quiet?: { from?: string | null; to?: string | null } | null }>();

  constructor(
    private readonly db: Db,
    private readonly perSchool: number,
    private readonly guard: () => void,
    private readonly emit: (e: DeliveryEvent) => void,
  ) {}

  async read(bots: string[], now: Date): Promise<DueBuffer> {
    this.guard();
    const schools = await dueSchools(this.db, bots, now);
    const next: DueBuffer = new Map();
    for (const schoolId of schools) {
      this.guard();
      const due = await dueOf(this.db, bots, schoolId, now, this.perSchool);
      const quiet = await this.schoolQuiet(schoolId);
      const until = quietUntil(now, quiet.tz, quiet.quiet);
      const hold: Types.ObjectId[] = [];
      const chats = new Map<string, Batch>();
      for (const c of due) {
        if (until && c.priority !== 'urgent') {
          hold.push(c._id);
          continue;
        }
        const botKey = c.botKey ?? 'default';
        const key = chatKey(botKey, c.chatId);
        const batch = chats.get(key) ?? { botKey, chatId: c.chatId, schoolId, candidates: [] };
        batch.candidates.push(c);
        chats.set(key, batch);
      }
      if (hold.length > 0 && until) {
        this.guard();
        await defer(this.db, hold, until);
        this.emit({ type: 'deferred', count: hold.length });
      }
      if (chats.size > 0) next.set(String(schoolId), chats);
    }
    return next;
  }

  private async schoolQuiet(schoolId: Types.ObjectId) {
    const key = String(schoolId);
    const hit = this.quietCache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const s = await this.db.models.School.findById(schoolId, { timezone: 1, 'settings.quietHours': 1 }).lean();
    const entry = { at: Date.now(), tz: s?.timezone ?? 'UTC', quiet: s?.settings?.quietHours };
    this.quietCache.set(key, entry);
    return entry;
  }
}

/**
 * What goes into one message with `first`: a possible repeat goes again as the message it repeats
 * (the same token, nothing new joined to it); joinable notices of a chat go together; anything
 * else goes alone.
 */
export function takeTogether(first: Batch['candidates'][number], candidates: Batch['candidates'], max: number): Batch['candidates'] {
  if (first.repeat) return candidates.filter((c) => c.repeat && c.sendToken === first.sendToken).slice(0, max);
  if (!JOINABLE.has(first.kind)) return [first];
  return candidates.filter((c) => !c.repeat && JOINABLE.has(c.kind)).slice(0, max);
}
