/**
 * `npm run mongo:build` (`tsx scripts/build-mongo-standin.ts [--force] [--offline]`): builds the
 * local MongoDB stand-in now (src/db/standin-build.ts; the app and the tests build it on first use
 * anyway). postinstall runs it after `npm install`.
 */
import { ensureStandinJar, isJarUpToDate } from '../src/db/standin-build.js';

async function main(argv: string[]): Promise<void> {
  const force = argv.includes('--force');
  const offline = argv.includes('--offline');
  const started = Date.now();
  const upToDate = !force && (await isJarUpToDate());
  const jar = await ensureStandinJar({ force, offline, log: (m) => console.error(m) });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(upToDate ? `${jar} is up to date` : `${jar} ready (${seconds} s)`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
