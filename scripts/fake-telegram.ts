/**
 * Runs the fake Telegram Bot API over HTTP on 127.0.0.1 so the whole bot process can be run
 * against it (polling):
 *
 *   npm run fake-telegram -- --port 8081
 *   TELEGRAM_API_ROOT=http://127.0.0.1:8081 npm start
 *
 * Prints `FAKE_TELEGRAM_API_ROOT=http://127.0.0.1:PORT`, then every message the bot sends as a
 * person would see it. Control endpoints (for scripts and tests):
 *
 *   POST /_control/updates        body: a JSON Update (update_id optional) or an array of them;
 *                                 queued for getUpdates. Answers { ok: true, result: Update[] }.
 *   GET  /_control/chat/<chatId>  the chat as the user sees it (JSON array of messages).
 *   GET  /_control/calls          every Bot API call so far ({ method, params, at, response }).
 *
 * Options: --port N (default 8081), --token T (accept only this token), --bot-username NAME.
 * Stops on SIGTERM / SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { Update } from 'grammy/types';
import { type ChatMessage, FakeBotApi } from '../test/support/fake-bot-api.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8081' },
    token: { type: 'string' },
    'bot-username': { type: 'string' },
  },
  allowPositionals: false,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`invalid --port ${values.port}\n`);
  process.exit(2);
}

const fake = new FakeBotApi({
  token: values.token,
  botUsername: values['bot-username'],
  // update ids keep increasing across restarts of the fake, as they do in Telegram
  firstUpdateId: Math.floor(Date.now() / 1000) * 10,
});

const out = (line: string) => process.stdout.write(`${line}\n`);

function render(m: ChatMessage): string {
  const lines: string[] = [];
  if (m.kind !== 'text') {
    const f = m.file;
    const what = f ? `${f.filename} (${f.mimeType}, ${f.size} bytes)` : '';
    lines.push(`  [${m.kind}${what ? `: ${what}` : ''}]`);
  }
  if (m.content) for (const l of m.content.split('\n')) lines.push(`  ${l}`);
  for (const row of m.buttons) lines.push(`  ${row.map((b) => `[ ${b} ]`).join(' ')}`);
  return lines.join('\n');
}

fake.on((e) => {
  const time = new Date().toISOString().slice(11, 19);
  switch (e.type) {
    case 'message':
      out(`${time} bot → chat ${e.chatId} #${e.message.messageId}\n${render(e.message)}`);
      {
        const kb = fake.replyKeyboard(e.chatId);
        if (kb) {
          const rows = kb.keyboard.map((r) => r.map((b) => `( ${typeof b === 'string' ? b : b.text} )`).join(' '));
          out(`  keyboard: ${rows.join(' / ')}`);
        }
      }
      break;
    case 'edit':
      out(`${time} bot ✎ chat ${e.chatId} #${e.message.messageId} (edited)\n${render(e.message)}`);
      break;
    case 'delete':
      out(`${time} bot ✗ chat ${e.chatId} #${e.messageId} deleted`);
      break;
    case 'callback_answer':
      if (e.answer.text) out(`${time} bot ↩ ${e.answer.show_alert ? 'alert' : 'toast'}: ${e.answer.text}`);
      break;
    case 'chat_action':
      out(`${time} bot … chat ${e.chatId} ${e.action}`);
      break;
    case 'update': {
      const u = e.update;
      const from = u.message?.from ?? u.callback_query?.from;
      const who = from ? `${from.first_name} (${from.id})` : 'someone';
      const what =
        u.message?.text ??
        (u.message ? '[media]' : u.callback_query ? `[pressed: ${u.callback_query.data}]` : Object.keys(u)[1]);
      out(`${time} ${who} → bot: ${what}`);
      break;
    }
    case 'call':
      if (e.call.response && !e.call.response.ok) {
        out(`${time} !! ${e.call.method} failed: ${e.call.response.error_code} ${e.call.response.description}`);
      }
      break;
    default:
      break;
  }
});

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (url.pathname === '/_control/updates' && req.method === 'POST') {
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      sendJson(res, 400, { ok: false, description: 'body must be a JSON Update' });
      return;
    }
    const list = Array.isArray(body) ? body : [body];
    if (!list.every((u) => typeof u === 'object' && u !== null)) {
      sendJson(res, 400, { ok: false, description: 'body must be a JSON Update' });
      return;
    }
    const pushed = list.map((u) => fake.pushUpdate(u as Update));
    sendJson(res, 200, { ok: true, result: pushed });
    return;
  }
  const chat = /^\/_control\/chat\/(-?\d+)$/.exec(url.pathname);
  if (chat && req.method === 'GET') {
    sendJson(res, 200, fake.chat(Number(chat[1])));
    return;
  }
  if (url.pathname === '/_control/calls' && req.method === 'GET') {
    sendJson(res, 200, fake.calls);
    return;
  }
  sendJson(res, 404, { ok: false, description: 'unknown control endpoint' });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const work = url.pathname.startsWith('/_control/') ? control(req, res, url) : fake.handleHttp(req, res);
  work.catch((e: unknown) => {
    if (!res.headersSent) sendJson(res, 500, { ok: false, description: String(e) });
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address() as AddressInfo;
  out(`FAKE_TELEGRAM_API_ROOT=http://127.0.0.1:${address.port}`);
});

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  out(`${signal}: stopping the fake Telegram API`);
  void fake.close().then(() => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
