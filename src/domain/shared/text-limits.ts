/**
 * Telegram's limits on what one message may say, counted as Telegram counts them: in UTF-16 code
 * units of the text after its entities are parsed (HTML tags do not count, `&amp;` counts as one).
 * A text from a user is checked against these before it is accepted — longer is refused with the
 * limit named, never cut at delivery (issue 11 item 6).
 */
export const TELEGRAM_TEXT_MAX = 4096;
export const TELEGRAM_CAPTION_MAX = 1024;
/** The most a header added to a copy (sender, class, "Urgent", "files above") may take, its new line included. */
export const COPY_HEADER_MAX = 200;

/** The length of a plain text (a message's `text` or `caption`, entities already apart) as Telegram counts it. */
export function telegramLength(text: string): number {
  return text.length; // JavaScript strings are UTF-16: one unit per BMP character, two per emoji beyond it
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

/** The length of an HTML-formatted text after Telegram parses it: tags dropped, entities as one character. */
export function htmlLength(html: string): number {
  const plain = html
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|apos|#39|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => ENTITY[e.toLowerCase()] ?? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1))));
  return telegramLength(plain);
}

/** What a user may write so that the copy, with its header, fits one message (or one caption). */
export const textBudget = (asCaption: boolean) => (asCaption ? TELEGRAM_CAPTION_MAX : TELEGRAM_TEXT_MAX) - COPY_HEADER_MAX;
