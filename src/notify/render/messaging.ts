import { annReadCb, reportViewData, threadReplyCb } from '../../bot/callbacks/notices.js';
import { COPY_HEADER_MAX, TELEGRAM_CAPTION_MAX, TELEGRAM_TEXT_MAX } from '../../domain/shared/text-limits.js';
import { escapeHtml, type Translate } from '../../i18n.js';
import { clip, MAX_TEXT, oneButton, type RenderedMessage, type SingleRenderer } from './common.js';

/**
 * Messages people write (src/domain/messaging/): teacher–family messages, announcements, notices
 * about reported conversations, and plain texts. Each goes alone.
 */
type Payload = Record<string, unknown>;

export const renderWritten: SingleRenderer = async (input, doc, base, nothing) => {
  const { db, t } = input;
  const payload = (doc.payload ?? {}) as Payload;
  if (typeof payload.threadId === 'string') {
    // Recalled by its sender while it waited: nothing to deliver.
    const recalled =
      typeof payload.threadMessageId === 'string'
        ? await db.models.ThreadMessage.exists({ _id: payload.threadMessageId, recalledAt: { $exists: true } })
        : null;
    if (recalled) return nothing();
    return renderThreadMessage(t, payload, base);
  }
  if (typeof payload.announcementId === 'string') return renderAnnouncement(t, payload, base);
  // A notice with an i18n key, its variables and labels (messaging reports: src/domain/messaging/).
  if (typeof payload.noticeKey === 'string') {
    const out: RenderedMessage = { ...base, text: escapeHtml(clip(renderNotice(t, payload), MAX_TEXT)) };
    // A report of a conversation: the admin opens it from the notice (read-only, audited).
    if (typeof payload.reportThreadId === 'string') {
      out.replyMarkup = oneButton(t('messaging.reportOpen'), reportViewData(payload.reportThreadId));
    }
    return out;
  }
  const title = typeof payload.title === 'string' && payload.title ? `<b>${escapeHtml(clip(payload.title, 200))}</b>\n` : '';
  // Clipped before escaping, so an entity is never cut in half.
  return { ...base, text: `${title}${escapeHtml(clip(String(payload.text ?? ''), MAX_TEXT - 300))}` };
};

/**
 * A bold title over the text; with a file the text is its caption. Telegram counts the text
 * after parsing the HTML: the title, a new line, the message (1024 for a caption, else 4096).
 * The title stays within COPY_HEADER_MAX, which the senders' limits leave free (send.ts,
 * announcements.ts): the text is never cut — the clip is only a guard.
 */
function titled(title: string, payload: Payload, file: string | undefined): string {
  const limit = (file ? TELEGRAM_CAPTION_MAX : TELEGRAM_TEXT_MAX) - title.length - 1;
  return `<b>${escapeHtml(title)}</b>\n${escapeHtml(clip(String(payload.text ?? ''), limit))}`;
}

/** A teacher–family message: the sender's header in the recipient's language, the text, the file, a Reply button. */
function renderThreadMessage(t: Translate, payload: Payload, base: RenderedMessage): RenderedMessage {
  const file = typeof payload.fileId === 'string' ? payload.fileId : undefined;
  const out: RenderedMessage = {
    ...base,
    // "Mother of …, 5B" / "Teacher of Mathematics …"
    text: titled(clip(noticeLabel(t, payload.header), COPY_HEADER_MAX - 1), payload, file),
    replyMarkup: oneButton(t('messaging.replyButton'), threadReplyCb.pack({ t: String(payload.threadId) })),
  };
  if (file && payload.fileKind === 'photo') out.photo = file;
  if (file && payload.fileKind === 'document') out.document = file;
  if (file && payload.fileKind === 'voice') out.voice = file;
  return out;
}

/** A header-like label ({ key, vars }) in the reader's language. */
function noticeLabel(t: Translate, label: unknown): string {
  const l = label as { key?: unknown; vars?: Record<string, unknown> } | undefined;
  if (typeof l?.key !== 'string') return '';
  const vars = l.vars ?? {};
  return t(l.key, {
    ...vars,
    subjects: Array.isArray(vars.subjects) ? vars.subjects.join(', ') : vars.subjects,
    relation: typeof vars.relation === 'string' ? t(vars.relation) : undefined,
  });
}

/** `noticeKey` with `noticeVars`; each of `noticeLabels` is translated first. */
function renderNotice(t: Translate, payload: Payload): string {
  const vars: Record<string, unknown> = { ...((payload.noticeVars as Record<string, unknown>) ?? {}) };
  for (const [name, label] of Object.entries((payload.noticeLabels as Record<string, unknown>) ?? {})) vars[name] = noticeLabel(t, label);
  return t(String(payload.noticeKey), vars);
}

/** An announcement: header, text (a photo's or document's caption), a Read button. */
function renderAnnouncement(t: Translate, payload: Payload, base: RenderedMessage): RenderedMessage {
  const h = (payload.header ?? {}) as { name?: unknown; className?: unknown; groupName?: unknown; grade?: unknown; wholeSchool?: unknown };
  const key = payload.reminder ? 'announce.headerReminder' : payload.urgent ? 'announce.headerUrgent' : 'announce.header';
  const audience = h.wholeSchool
    ? t('announce.labelSchool')
    : typeof h.grade === 'number'
      ? t('announce.labelGrade', { grade: h.grade })
      : typeof h.groupName === 'string'
        ? t('announce.labelGroup', { className: String(h.className ?? '—'), group: h.groupName })
        : String(h.className ?? '—');
  const file = typeof payload.fileId === 'string' ? payload.fileId : undefined;
  if (payload.fileOnly && file) {
    // One of several files of an announcement, before its text: a short caption, no Read button.
    const caption = clip(t('announce.fileHeader', { name: String(h.name ?? '—'), className: audience, n: Number(payload.fileNo) || 1, total: Number(payload.fileCount) || 1 }), 200);
    const out: RenderedMessage = { ...base, text: `<b>${escapeHtml(caption)}</b>` };
    if (payload.fileKind === 'photo') out.photo = file;
    else out.document = file;
    return out;
  }
  const filesAbove = typeof payload.fileCount === 'number' && payload.fileCount > 1 ? `\n${t('announce.filesAbove', { n: payload.fileCount })}` : '';
  const title = clip(t(key, { name: String(h.name ?? '—'), className: audience }), COPY_HEADER_MAX - 1 - filesAbove.length) + filesAbove;
  const out: RenderedMessage = {
    ...base,
    text: titled(title, payload, file),
    replyMarkup: oneButton(t('announce.readButton'), annReadCb.pack({ a: String(payload.announcementId) })),
  };
  if (file && payload.fileKind === 'photo') out.photo = file;
  if (file && payload.fileKind === 'document') out.document = file;
  return out;
}
