import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `npm run cli -- …` as an operator runs it: a separate process on `uri`, in the folder `cwd`, without the bot's settings. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function runCliProcess(uri: string, cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MONGODB_URI: uri, LANG: 'C' };
  for (const name of ['BOT_TOKEN', 'BOT_USERNAME', 'TELEGRAM_API_ROOT', 'DATA_DIR']) delete env[name];
  return new Promise((done, fail) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'src', 'cli', 'index.ts'), ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
