import PDFDocument from 'pdfkit';
import { pdfOutput } from './pdf-output.js';
import { inviteQrPng } from './invite-qr.js';

/**
 * A printable A4 sheet of invites for a parents' meeting (R2): one cut-out block per child and
 * parent with the QR code, the link and short instructions. Texts come localized from the caller
 * (the school's language); fonts are DejaVu, since pdfkit's built-in fonts have no Cyrillic.
 */

export interface InviteSheetBlock {
  childName: string;
  parentName: string;
  link: string;
}

export interface InviteSheetInput {
  /** "5Б — приглашения для родителей" */
  title: string;
  /** e.g. "Школа №1 · действительно до 07.12.2026" */
  subtitle?: string;
  childLabel: string;
  parentLabel: string;
  /** Short steps: scan the code or open the link, press Start, accept. */
  instructions: string;
  blocks: InviteSheetBlock[];
}

const PAGE = { margin: 36, qr: 132, gap: 14 } as const;
const BLOCKS_PER_PAGE = 4;

export async function inviteSheetPdf(input: InviteSheetInput): Promise<Buffer> {
  const qrs = await Promise.all(input.blocks.map((b) => inviteQrPng(b.link, 400)));
  const doc = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    info: { Title: input.title, Creator: 'School Journal Bot' },
  });
  const done = pdfOutput(doc);

  const width = doc.page.width - PAGE.margin * 2;
  const header = () => {
    doc.font('Bold').fontSize(14).text(input.title, PAGE.margin, PAGE.margin, { width });
    if (input.subtitle) doc.font('Regular').fontSize(9).fillColor('#444').text(input.subtitle, { width }).fillColor('black');
    return doc.y + 8;
  };
  let top = header();
  const blockHeight = (doc.page.height - PAGE.margin - top) / BLOCKS_PER_PAGE;

  input.blocks.forEach((block, i) => {
    if (i > 0 && i % BLOCKS_PER_PAGE === 0) {
      doc.addPage();
      top = header();
    }
    const y = top + (i % BLOCKS_PER_PAGE) * blockHeight;
    // A dashed cut line above every block: the teacher hands each family its own slip.
    doc
      .save()
      .moveTo(PAGE.margin, y)
      .lineTo(PAGE.margin + width, y)
      .dash(4, { space: 3 })
      .strokeColor('#999')
      .stroke()
      .restore();
    const qr = qrs[i];
    if (qr) doc.image(qr, PAGE.margin, y + PAGE.gap / 2, { width: PAGE.qr, height: PAGE.qr });
    const x = PAGE.margin + PAGE.qr + PAGE.gap;
    const textWidth = width - PAGE.qr - PAGE.gap;
    doc.font('Regular').fontSize(9).fillColor('#444').text(input.childLabel, x, y + PAGE.gap, { width: textWidth });
    doc.font('Bold').fontSize(13).fillColor('black').text(block.childName, { width: textWidth });
    doc.font('Regular').fontSize(9).fillColor('#444').text(input.parentLabel, { width: textWidth });
    doc.font('Bold').fontSize(11).fillColor('black').text(block.parentName, { width: textWidth });
    doc.moveDown(0.3);
    doc.font('Regular').fontSize(8.5).text(input.instructions, { width: textWidth });
    doc.moveDown(0.2);
    doc.font('Regular').fontSize(8).fillColor('#1a4f9c').text(block.link, { width: textWidth, link: block.link });
    doc.fillColor('black');
  });
  doc.end();
  return done;
}
