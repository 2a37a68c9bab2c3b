/** npm run build:fixtures: writes test/fixtures/models/tiny-bert (deterministic). */
import { resolve } from 'node:path';
import { buildTinyBertFixture } from './models/tiny-bert';

const dir = resolve(import.meta.dirname, '..', 'test', 'fixtures', 'models', 'tiny-bert');
buildTinyBertFixture(dir);
process.stderr.write(`wrote ${dir}\n`);
