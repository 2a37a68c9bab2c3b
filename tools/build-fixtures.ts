/** npm run build:fixtures: writes test/fixtures/models/tiny-bert (deterministic; the files are kept in the repo). */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildTinyBertFixture } from './models/tiny-bert';

const dir = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'models', 'tiny-bert');
await rm(dir, { recursive: true, force: true });
await buildTinyBertFixture(dir);
process.stderr.write(`wrote ${dir}\n`);
