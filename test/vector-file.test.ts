/**
 * Ahead-of-time catalog vectors (npm run embed:catalog): parity with on-device
 * embedding, use by the engine, refusal of tampered or foreign folders.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { openStore } from '../src/store';
import { contentHash, itemText } from '../src/catalog/validate';
import type { SentenceEncoder } from '../src/encoding/encoder';
import { loadVectorFile } from '../src/vectors/vector-file';
import type { CatalogItem, EngineEvent } from '../src/types';
import { embedCatalog } from '../tools/embed-catalog';
import { fileReader, loadNodeEncoder } from '../support/node-models';

const catalog = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
).slice(0, 400);
const dir = mkdtempSync(join(tmpdir(), 'odr-vectors-'));
const catalogPath = join(dir, 'catalog.json');
const out = join(dir, 'vectors');

let shared: SentenceEncoder;
let encoder: SentenceEncoder;
before(async () => {
  writeFileSync(catalogPath, JSON.stringify({ items: [...catalog, catalog[0], { id: 'bad' }] }));
  await embedCatalog(catalogPath, out, undefined, () => undefined);
  shared = await loadNodeEncoder();
  encoder = { info: shared.info, embed: (t, p) => shared.embed(t, p), dispose: async () => undefined };
});
after(async () => shared.dispose());

function engine(embedCalls: string[][] = []): Engine {
  const counting: SentenceEncoder = {
    info: encoder.info,
    embed: (t, p) => (embedCalls.push([...t]), encoder.embed(t, p)),
    dispose: async () => undefined,
  };
  return new Engine(engineOptions({}), {
    store: () => openStore({ indexedDB: new IDBFactory() }),
    encoder: async () => counting,
    vectorReader: (folder) => fileReader(folder),
  });
}

describe('ahead-of-time catalog vectors', () => {
  test('parity: every vector equals on-device embedding up to int8 rounding (cosine > 0.999)', async () => {
    const vectors = await loadVectorFile(fileReader(out), out, { modelHash: encoder.info.modelHash, dims: encoder.info.dimensions });
    assert.equal(vectors.size, catalog.length, 'one row per distinct text (the duplicate item shares it)');
    const onDevice = await encoder.embed(catalog.map(itemText));
    let worst = 1;
    catalog.forEach((it, i) => {
      const v = vectors.get(contentHash(it));
      assert.ok(v, `row for ${it.id}`);
      let dot = 0;
      for (let d = 0; d < v.length; d++) dot += v[d] * onDevice[i][d];
      worst = Math.min(worst, dot);
    });
    assert.ok(worst > 0.999, `worst cosine ${worst}`);
  });

  test('the engine uses the folder instead of embedding; changed items are embedded on the device', async () => {
    const calls: string[][] = [];
    const e = engine(calls);
    const changed = catalog.map((it, i) => (i === 3 ? { ...it, title: `${it.title} (restored)` } : it));
    const report = await e.setCatalog(changed, { vectors: `${out}/` });
    assert.equal(report.fromFile, catalog.length - 1);
    assert.equal(report.embedded, 1);
    assert.equal(calls.flat().length, 1, 'only the changed item reaches the encoder');
    const onDevice = engine();
    await onDevice.setCatalog(changed);
    const a = await e.similar(catalog[10].id, 5);
    const b = await onDevice.similar(catalog[10].id, 5);
    assert.equal(a[0].itemId, b[0].itemId, 'same nearest item as with on-device vectors');
  });

  test('a tampered or foreign folder is refused with a clear error and the catalog is embedded on the device', async () => {
    const bad = join(dir, 'tampered');
    await embedCatalog(catalogPath, bad, undefined, () => undefined);
    const bytes = readFileSync(join(bad, 'vectors.bin'));
    bytes[100] ^= 0x7f;
    writeFileSync(join(bad, 'vectors.bin'), bytes);
    const events: EngineEvent[] = [];
    const e = engine();
    e.on((ev) => events.push(ev));
    const report = await e.setCatalog(catalog, { vectors: bad });
    assert.equal(report.fromFile, 0);
    assert.equal(report.embedded, catalog.length);
    assert.ok(events.some((ev) => ev.type === 'error' && /integrity check/.test(ev.message) && /embedding on the device/.test(ev.message)));
    await assert.rejects(loadVectorFile(fileReader(out), out, { modelHash: 'another-model', dims: encoder.info.dimensions }), /built with encoder/);
    await assert.rejects(loadVectorFile(fileReader(out), out, { modelHash: encoder.info.modelHash, dims: 64 }), /npm run embed:catalog/);
  });
});
