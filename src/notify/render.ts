import type { OutboxDoc } from '../db/models/notify.js';
import { htmlLength, TELEGRAM_CAPTION_MAX, TELEGRAM_TEXT_MAX } from '../domain/shared/text-limits.js';
import type { NoticeKind } from '../domain/shared/vocabulary.js';
import type { RenderedMessage, RenderInput } from './render/common.js';
import { renderAccountRebind } from './render/account.js';
import { renderFamilyBlocked, renderReport } from './render/family.js';
import { renderJoined } from './render/journal.js';
import { renderWritten } from './render/messaging.js';
import { renderStaffReminder } from './render/staff.js';
import { renderSummary } from './render/summaries.js';

export { RenderCache } from './render/cache.js';
/** Also on the bot's screens (the diary, arrivals): one wording of a period everywhere. */
export { periodName, type RenderedMessage } from './render/common.js';

/**
 * The one place that decides what a notification says: turns claimed outbox documents for one
 * chat into one Telegram message, in the recipient's language, with its buttons (their formats:
 * src/bot/callbacks/). The text comes from the journal as it is now and from what the recipient
 * was told before (NoticeState):
 *
 *   the thing exists, never told          → "new mark 5"
 *   exists, told the same                 → nothing (a correction back to the told value)
 *   exists, told something else           → "changed 3 → 4"
 *   gone (deleted, cleared), never told   → nothing (deleted inside the grace window)
 *   gone, told                            → "deleted"
 *
 * User text (names, homework, messages) is escaped for HTML; i18next escapes {{vars}} itself.
 */

/** Kinds joined into one message per chat; the others go alone. */
export const JOINABLE: ReadonlySet<NoticeKind> = new Set(['mark', 'absence', 'homework', 'periodMark']);

export async function renderMessage(input: RenderInput): Promise<RenderedMessage> {
  const first = input.docs[0];
  if (!first) return { text: '', disableNotification: false, items: [], skipped: [], overflow: [] };
  const out = JOINABLE.has(first.kind as NoticeKind) ? await renderJoined(input) : await renderSingle(input, first);
  return markRepeat(input, out);
}

/**
 * A message whose earlier attempt may have reached the chat (a crash while sending, a 5xx or a
 * network error) goes again with a first line saying so, in the recipient's language: a repeat
 * is never silent. A caption keeps Telegram's 1024 characters: without room, the line goes without it.
 */
function markRepeat(input: RenderInput, out: RenderedMessage): RenderedMessage {
  const repeats = new Set(input.docs.filter((d) => d.repeat).map((d) => String(d._id)));
  if (out.items.length === 0 || !out.items.some((i) => repeats.has(String(i.id)))) return out;
  const text = `<i>${input.t('notify.possibleRepeat')}</i>\n\n${out.text}`;
  const caption = Boolean(out.photo || out.document || out.voice);
  if (htmlLength(text) > (caption ? TELEGRAM_CAPTION_MAX : TELEGRAM_TEXT_MAX)) return out;
  return { ...out, text };
}

async function renderSingle(input: RenderInput, doc: OutboxDoc): Promise<RenderedMessage> {
  const base: RenderedMessage = {
    text: '',
    disableNotification: doc.priority === 'low',
    items: [{ id: doc._id }],
    skipped: [],
    overflow: input.docs.slice(1).map((d) => d._id),
  };
  const nothing = (): RenderedMessage => ({ ...base, items: [], skipped: [doc._id] });
  switch (doc.kind) {
    case 'message':
      return renderWritten(input, doc, base, nothing);
    case 'digest':
    case 'joinSummary':
      return renderSummary(input, doc, base, nothing);
    case 'familyBlocked':
      return renderFamilyBlocked(input, doc, base, nothing);
    case 'accountRebind':
      return renderAccountRebind(input, doc, base, nothing);
    case 'absenceReport':
    case 'absenceReportDecision':
      return renderReport(input, doc, base, nothing);
    case 'attendanceReminder':
    case 'periodMarksReminder':
    case 'endOfDay':
      return renderStaffReminder(input.t, doc, base);
    default:
      return nothing();
  }
}
