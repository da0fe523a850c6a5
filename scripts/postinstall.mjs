// After `npm install`: build the local MongoDB stand-in (mongo-java-server from Maven Central), so
// `npm start` and `npm test` work with no manual step. Never fails the install: production installs
// (which use MONGODB_URI) may have no Java, Maven or dev dependencies.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

if (process.env.SJB_SKIP_STANDIN_BUILD === '1') process.exit(0);
if (!existsSync('scripts/mongo-server/pom.xml') || !existsSync('node_modules/tsx')) process.exit(0);
if (!has('java') || !has('mvn')) {
  console.warn(
    '[school-journal-bot] Java 17 and Maven not found: the local MongoDB stand-in was not built.\n' +
      '  Set MONGODB_URI to use a real MongoDB, or install them (apt-get install openjdk-17-jdk-headless maven) and run `npm run mongo:build`.',
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-mongo-standin.ts'], { stdio: 'inherit' });
if (result.status !== 0) {
  console.warn('[school-journal-bot] building the MongoDB stand-in failed; `npm run mongo:build` retries it.');
}
