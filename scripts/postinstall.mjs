// After `npm install`: build the Mini App's front end (esbuild, into dist/webapp) and the local
// MongoDB stand-in (mongo-java-server from Maven Central), so `npm start` and `npm test` work with
// no manual step. Never fails the install: production installs (which use MONGODB_URI) may have
// no Java, Maven or dev dependencies.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const tsx = (script) => spawnSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' }).status === 0;

function buildWebapp() {
  if (process.env.SJB_SKIP_WEBAPP_BUILD === '1') return;
  if (!existsSync('scripts/build-webapp.ts') || !existsSync('node_modules/esbuild') || !existsSync('node_modules/tsx')) return;
  if (!tsx('scripts/build-webapp.ts')) {
    console.warn('[school-journal-bot] building the Mini App failed; `npm run build:webapp` retries it.');
  }
}

function buildStandin() {
  if (process.env.SJB_SKIP_STANDIN_BUILD === '1') return;
  if (!existsSync('scripts/mongo-server/pom.xml') || !existsSync('node_modules/tsx')) return;
  if (!has('java') || !has('mvn')) {
    console.warn(
      '[school-journal-bot] Java 17 and Maven not found: the local MongoDB stand-in was not built.\n' +
        '  Set MONGODB_URI to use a real MongoDB, or install them (apt-get install openjdk-17-jdk-headless maven) and run `npm run mongo:build`.',
    );
    return;
  }
  if (!tsx('scripts/build-mongo-standin.ts')) {
    console.warn('[school-journal-bot] building the MongoDB stand-in failed; `npm run mongo:build` retries it.');
  }
}

buildWebapp();
buildStandin();
