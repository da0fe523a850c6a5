import QRCode from 'qrcode';

/**
 * The invite link as a QR code (PNG), for a parent to scan from the teacher's phone or from paper.
 * Error correction M survives a crumpled sheet; the quiet zone is what scanners need.
 */
export async function inviteQrPng(link: string, width = 512): Promise<Buffer> {
  return QRCode.toBuffer(link, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width });
}
