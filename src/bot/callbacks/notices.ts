import { cbField, defineCallback } from './index.js';

/**
 * The buttons under delivered notifications: made by src/notify/render (at send time, in the
 * recipient's language) and parsed by the bot's features, which pass what they unpack to a domain
 * use case that checks the presser's rights again. A leaf: nothing here knows grammY or the domain.
 */

/** "Acknowledged" under marks and absences: the token of the Telegram message (src/bot/features/diary/acks.ts). */
export const ackCb = defineCallback('ack', { t: cbField.objectId() });
/** The class teacher's decision on a parent's absence report: b, u = confirm with that code, x = reject. */
export const reportDecisionCb = defineCallback('abrd', { r: cbField.objectId(), d: cbField.enumOf(['b', 'u', 'x'] as const) });
/** Reply under a delivered teacher–family message. */
export const threadReplyCb = defineCallback('msgr', { t: cbField.objectId() });
/** The admin opens a reported conversation, page p (read-only, audited). */
export const reportViewCb = defineCallback('msga', { t: cbField.objectId(), p: cbField.int(0, 10_000) });
/** "Read" under a delivered announcement. */
export const annReadCb = defineCallback('anr', { a: cbField.objectId() });

/** "Open the conversation" under a report to the admin: its first page. */
export const reportViewData = (threadId: string) => reportViewCb.pack({ t: threadId, p: 0 });
