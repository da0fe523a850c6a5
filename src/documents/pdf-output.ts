import { createRequire } from 'node:module';
import type PDFDocument from 'pdfkit';

/**
 * What every PDF of the project shares: the DejaVu fonts registered as 'Regular' and 'Bold'
 * (pdfkit's built-in fonts have no Cyrillic), and the document's bytes collected into one Buffer.
 */
const require = createRequire(import.meta.url);
const FONT_REGULAR = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const FONT_BOLD = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

/** Registers the fonts; the promise resolves with the PDF once `doc.end()` has been called. */
export function pdfOutput(doc: InstanceType<typeof PDFDocument>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('Regular', FONT_REGULAR);
  doc.registerFont('Bold', FONT_BOLD);
  return done;
}
