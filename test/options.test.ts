/**
 * createRecommender() options are resolved once (src/options.ts): every option's
 * default, a valid other value, and a wrong value refused with 'invalid_options'
 * naming the option; unknown keys, odd objects and huge values included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptions, resolvePageOptions, showValue, withVariant, type ResolvedOptions } from '../src/options';
import { RecommenderError } from '../src/errors';
import { DEFAULT_EXPLORATION } from '../src/exploration/config';
import { DEFAULT_TASK_WEIGHTS } from '../src/ranking/heads';
import { DEFAULT_RANKING_CONFIG } from '../src/ranking/score';
import { createRecommender } from '../src/index';

const PAGE = 'https://shop.example/shop/page.html';
const resolve = (options: unknown): ResolvedOptions => resolveOptions(options, PAGE);

/** `options` is refused with invalid_options; the message names `option` and stays short. */
function refused(options: unknown, option: string, what?: RegExp): RecommenderError {
  let caught: unknown;
  try {
    resolve(options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof RecommenderError, `refused: ${showValue(options)}`);
  assert.equal(caught.code, 'invalid_options');
  assert.ok(caught.message.includes(option), `"${caught.message}" names ${option}`);
  if (what) assert.match(caught.message, what);
  assert.ok(caught.fix.length > 0, 'a fix says what to pass');
  assert.ok(caught.message.length < 500, `short message (${caught.message.length} characters)`);
  return caught;
}

test('defaults: nothing given (or undefined) resolves to the documented defaults', () => {
  for (const given of [undefined, {}]) {
    const { seed, ...r } = resolve(given);
    assert.deepEqual(r, {
      modelsUrl: 'https://shop.example/shop/models/',
      wasmUrl: 'https://shop.example/shop/ort/',
      pageUrl: PAGE,
      encoder: 'glove-sif-100d',
      huggingFaceModel: null,
      globalModel: null,
      rankingHeads: null,
      sequenceModel: null,
      backend: 'auto',
      scoring: 'auto',
      scoringForced: false,
      retrievalMinItems: 20_000,
      storeName: 'on-device-recs',
      taskWeights: { ...DEFAULT_TASK_WEIGHTS },
      diversity: 1 - DEFAULT_RANKING_CONFIG.mmrLambda,
      newItems: 0,
      excludeSeen: true,
      maxEvents: 10_000,
      maxEventAgeDays: 365,
      exploration: { ...DEFAULT_EXPLORATION },
      measurement: null,
    });
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31, `seed ${seed}`);
  }
  assert.equal(resolvePageOptions({}, PAGE).workerUrl, undefined, 'no workerUrl: the bundled worker');
});

test('the resolved options are plain data: structured cloning keeps them as they are', () => {
  const r = resolve({
    huggingFaceModel: { model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8' },
    exploration: { prior: { explore: 0.01 } },
    maxEventAgeDays: Infinity,
  });
  assert.deepEqual(structuredClone(r), r);
});

test('options that are not an object are refused', () => {
  for (const bad of [null, 'models/', 42, true, [], [{ seed: 1 }], new Map(), new Date(), () => ({})]) refused(bad, 'options must be an object');
});

test('a null-prototype options object is read like any other; a null-prototype value is shown without throwing', () => {
  const o = Object.assign(Object.create(null) as Record<string, unknown>, {
    diversity: 0.3,
    exploration: Object.assign(Object.create(null) as object, { rate: 0.5 }),
  });
  const r = resolve(o);
  assert.equal(r.diversity, 0.3);
  assert.equal(r.exploration.rate, 0.5);
  refused({ storeName: Object.create(null) }, 'storeName', /got \{\}/);
  refused({ seed: Object.assign(Object.create(null) as object, { a: 1 }) }, 'seed', /got \{ a: 1 \}/);
  // a wrong value that cannot even be inspected (a throwing getter) still gives an invalid_options error
  refused(
    {
      storeName: {
        get name(): string {
          throw new Error('boom');
        },
      },
    },
    'storeName',
    /cannot be shown/,
  );
  refused({ storeName: Symbol('x'.repeat(10_000)) }, 'storeName');
});

test('a 1 MB string is not echoed: the message stays short', () => {
  const huge = 'x'.repeat(2 ** 20);
  for (const [options, option] of [
    [{ storeName: huge }, 'storeName'],
    [{ seed: huge }, 'seed'],
    [{ backend: huge }, 'backend'],
    [{ exploration: { prior: huge } }, 'exploration.prior'],
    [{ [huge]: 1 }, 'unknown option'],
    [{ exploration: { prior: { [huge]: 0.1 } } }, 'exploration.prior'],
  ] as const) {
    const e = refused(options, option);
    assert.ok(!e.message.includes('x'.repeat(100)), 'no long run of the value');
    assert.ok(e.message.length < 500);
  }
  assert.match(refused({ storeName: huge }, 'storeName').message, /1048576 characters/);
});

test('unknown keys are refused with the list of known ones (a misspelt option is not ignored)', () => {
  const e = refused({ modelUrl: '/models/' }, 'modelUrl');
  for (const known of ['baseUrl', 'workerUrl', 'modelsUrl', 'wasmUrl', 'storeName', 'exploration', 'maxEventAgeDays'])
    assert.ok(e.fix.includes(known), `fix lists ${known}`);
  const many = refused({ a: 1, b: 2, c: 3, d: 4, e: 5 }, 'unknown options a, b, c');
  assert.match(many.message, /and 2 more/);
  refused({ exploration: { draws: 10 } }, 'exploration.draws');
  refused({ taskWeights: { clicks: 1 } }, 'taskWeights.clicks');
  refused({ huggingFaceModel: { model: 'm', revision: 'main' } }, 'huggingFaceModel.revision');
  // inherited properties are not options (nor unknown keys)
  assert.equal(resolve(Object.create({ seed: 'not a number', bogus: 1 }) as object).storeName, 'on-device-recs');
});

test('every key the repository passes (embed.js, demo, lab, examples, e2e, tests) is accepted', () => {
  const passed: unknown[] = [
    {
      baseUrl: 'https://shop.example/recs/',
      modelsUrl: '/m/',
      wasmUrl: '/o/',
      encoder: 'glove-sif-100d',
      globalModel: 'g',
      rankingHeads: 'ranking-heads',
      storeName: 's',
      exploration: { policy: 'off' },
    },
    { baseUrl: '/recs/', exploration: { rate: 0.3 } },
    { backend: 'js', globalModel: 'global-movielens', rankingHeads: 'ranking-heads' },
    { scoring: 'webgpu', storeName: 'bench-webgpu-1', globalModel: 'global-movielens', rankingHeads: 'ranking-heads', backend: 'wasm' },
    { baseUrl: '/recs/', taskWeights: { conversion: 0.5 }, exploration: { rate: 0.1 } },
    { scoring: 'wasm', retrievalMinItems: 1000, globalModel: 'global-movielens' },
    { globalModel: 'global-movielens', seed: 5, exploration: { rate: 0.5, prior: 'uniform' } },
    { seed: 5, maxEvents: 10_000, excludeSeen: false },
    { seed: 6, maxEventAgeDays: 30 },
    { exploration: { policy: 'contextual', rate: 0.3, decay: 0.9, priorStrength: 200 } },
    { exploration: undefined, encoder: undefined }, // embed.js may set a key to undefined: the default
    { huggingFaceModel: { model: 'Xenova/all-MiniLM-L6-v2', localModelPath: '/models/', allowRemoteModels: false, dtype: 'q8' } },
  ];
  for (const o of passed) assert.doesNotThrow(() => resolve(o), showValue(o));
});

test('baseUrl: none by default; a folder gives the worker, models and wasm URLs; must be a URL string', () => {
  assert.equal(resolvePageOptions({}, PAGE).workerUrl, undefined);
  const { resolved, workerUrl } = resolvePageOptions({ baseUrl: '/recs' }, PAGE);
  assert.equal(resolved.modelsUrl, 'https://shop.example/recs/models/');
  assert.equal(resolved.wasmUrl, 'https://shop.example/recs/ort/');
  assert.equal(workerUrl, 'https://shop.example/recs/engine.worker.js');
  assert.equal(resolve({ baseUrl: 'lib/' }).modelsUrl, 'https://shop.example/shop/lib/models/');
  refused({ baseUrl: 42 }, 'baseUrl');
  refused({ baseUrl: '' }, 'baseUrl');
  refused({ baseUrl: 'http://[::1' }, 'baseUrl', /not a valid URL/);
});

test('workerUrl: absolute, resolved against the page; not sent to the worker; must be a URL string', () => {
  const { resolved, workerUrl } = resolvePageOptions({ workerUrl: 'js/engine.worker.js', baseUrl: '/recs/' }, PAGE);
  assert.equal(workerUrl, 'https://shop.example/shop/js/engine.worker.js', 'workerUrl wins over baseUrl');
  assert.ok(!('workerUrl' in resolved) && !('baseUrl' in resolved));
  refused({ workerUrl: new URL('https://shop.example/w.js') }, 'workerUrl');
  refused({ workerUrl: 'https://[' }, 'workerUrl');
});

test('modelsUrl: <page>/models/ by default; absolute folder ending with /; must be a URL string', () => {
  assert.equal(resolve({}).modelsUrl, 'https://shop.example/shop/models/');
  assert.equal(resolve({ modelsUrl: '/assets/models' }).modelsUrl, 'https://shop.example/assets/models/');
  assert.equal(resolve({ modelsUrl: 'https://cdn.shop.example/m/', baseUrl: '/recs/' }).modelsUrl, 'https://cdn.shop.example/m/');
  refused({ modelsUrl: ['/models/'] }, 'modelsUrl');
  refused({ modelsUrl: '' }, 'modelsUrl');
});

test('wasmUrl: <page>/ort/ by default; absolute folder ending with /; must be a URL string', () => {
  assert.equal(resolve({}).wasmUrl, 'https://shop.example/shop/ort/');
  assert.equal(resolve({ wasmUrl: '/vendor/ort' }).wasmUrl, 'https://shop.example/vendor/ort/');
  refused({ wasmUrl: null }, 'wasmUrl');
});

test('encoder: glove-sif-100d by default; any folder name; must be a non-empty string', () => {
  assert.equal(resolve({}).encoder, 'glove-sif-100d');
  assert.equal(resolve({ encoder: 'minilm' }).encoder, 'minilm');
  refused({ encoder: '' }, 'encoder');
  refused({ encoder: 3 }, 'encoder');
});

test('huggingFaceModel: none by default; localModelPath defaults to modelsUrl; model, dtype and the rest are checked', () => {
  assert.equal(resolve({}).huggingFaceModel, null);
  assert.deepEqual(resolve({ huggingFaceModel: { model: 'Xenova/all-MiniLM-L6-v2' }, modelsUrl: '/m/' }).huggingFaceModel, {
    model: 'Xenova/all-MiniLM-L6-v2',
    localModelPath: 'https://shop.example/m/',
    allowRemoteModels: false,
  });
  assert.deepEqual(resolve({ huggingFaceModel: { model: 'x/y', localModelPath: '/hf/', allowRemoteModels: true, dtype: 'fp16' } }).huggingFaceModel, {
    model: 'x/y',
    localModelPath: '/hf/',
    allowRemoteModels: true,
    dtype: 'fp16',
  });
  refused({ huggingFaceModel: 'Xenova/all-MiniLM-L6-v2' }, 'huggingFaceModel');
  refused({ huggingFaceModel: {} }, 'huggingFaceModel.model');
  refused({ huggingFaceModel: { model: '' } }, 'huggingFaceModel.model');
  refused({ huggingFaceModel: { model: 'x', dtype: 'fp64' } }, 'huggingFaceModel.dtype');
  refused({ huggingFaceModel: { model: 'x', allowRemoteModels: 'yes' } }, 'huggingFaceModel.allowRemoteModels');
  refused({ huggingFaceModel: { model: 'x', localModelPath: 7 } }, 'huggingFaceModel.localModelPath');
});

test('globalModel: none by default; a folder name; must be a non-empty string', () => {
  assert.equal(resolve({}).globalModel, null);
  assert.equal(resolve({ globalModel: 'global-movielens' }).globalModel, 'global-movielens');
  refused({ globalModel: '' }, 'globalModel');
  refused({ globalModel: true }, 'globalModel');
});

test('rankingHeads: none by default; a folder name; must be a non-empty string', () => {
  assert.equal(resolve({}).rankingHeads, null);
  assert.equal(resolve({ rankingHeads: 'ranking-heads' }).rankingHeads, 'ranking-heads');
  refused({ rankingHeads: {} }, 'rankingHeads');
});

test("backend: 'auto' by default; a forced one is also the scoring path; 'js' runs the models on WASM", () => {
  assert.equal(resolve({}).backend, 'auto');
  assert.deepEqual(pick(resolve({ backend: 'webgpu' })), { backend: 'webgpu', scoring: 'webgpu', scoringForced: false });
  assert.deepEqual(pick(resolve({ backend: 'wasm' })), { backend: 'wasm', scoring: 'wasm', scoringForced: false });
  assert.deepEqual(pick(resolve({ backend: 'js' })), { backend: 'wasm', scoring: 'js', scoringForced: false });
  assert.deepEqual(pick(resolve({ backend: 'auto' })), { backend: 'auto', scoring: 'auto', scoringForced: false });
  refused({ backend: 'gpu' }, 'backend');
  refused({ backend: 1 }, 'backend');
});

const pick = (r: ResolvedOptions): Pick<ResolvedOptions, 'backend' | 'scoring' | 'scoringForced'> => ({
  backend: r.backend,
  scoring: r.scoring,
  scoringForced: r.scoringForced,
});

test("scoring: 'auto' by default; a path given is forced whatever the backend; 'auto' is not forced", () => {
  assert.deepEqual(pick(resolve({ scoring: 'wasm' })), { backend: 'auto', scoring: 'wasm', scoringForced: true });
  assert.deepEqual(pick(resolve({ scoring: 'js', backend: 'webgpu' })), { backend: 'webgpu', scoring: 'js', scoringForced: true });
  assert.deepEqual(pick(resolve({ scoring: 'auto', backend: 'webgpu' })), { backend: 'webgpu', scoring: 'auto', scoringForced: false });
  refused({ scoring: 'cuda' }, 'scoring');
});

test('retrievalMinItems: 20,000 by default; an integer of at least 1', () => {
  assert.equal(resolve({}).retrievalMinItems, 20_000);
  assert.equal(resolve({ retrievalMinItems: 1000 }).retrievalMinItems, 1000);
  assert.equal(resolve({ retrievalMinItems: 1 }).retrievalMinItems, 1);
  for (const bad of [0, -5, 1.5, Infinity, NaN, '1000']) refused({ retrievalMinItems: bad }, 'retrievalMinItems');
});

test('storeName: on-device-recs by default; a non-empty name of at most 128 characters', () => {
  assert.equal(resolve({}).storeName, 'on-device-recs');
  assert.equal(resolve({ storeName: 'lab-1' }).storeName, 'lab-1');
  assert.equal(resolve({ storeName: 'n'.repeat(128) }).storeName.length, 128);
  refused({ storeName: '' }, 'storeName');
  refused({ storeName: 'n'.repeat(129) }, 'storeName', /at most 128/);
  refused({ storeName: 5 }, 'storeName');
});

test('taskWeights: { click: 1, conversion: 0.3 } by default; each given weight replaces its default; non-negative, not both 0', () => {
  assert.deepEqual(resolve({}).taskWeights, { click: 1, conversion: 0.3 });
  assert.deepEqual(resolve({ taskWeights: { conversion: 0.5 } }).taskWeights, { click: 1, conversion: 0.5 });
  assert.deepEqual(resolve({ taskWeights: { click: 0, conversion: 2 } }).taskWeights, { click: 0, conversion: 2 });
  refused({ taskWeights: { click: -1 } }, 'taskWeights.click');
  refused({ taskWeights: { conversion: NaN } }, 'taskWeights.conversion');
  refused({ taskWeights: { conversion: Infinity } }, 'taskWeights.conversion');
  refused({ taskWeights: { click: '1' } }, 'taskWeights.click');
  refused({ taskWeights: { click: 0, conversion: 0 } }, 'taskWeights', /not be 0 for both/);
  refused({ taskWeights: 5 }, 'taskWeights');
});

test('diversity: 1 - the ranking MMR lambda (0.15) by default; from 0 to 1', () => {
  assert.equal(resolve({}).diversity, 1 - DEFAULT_RANKING_CONFIG.mmrLambda);
  assert.equal(resolve({ diversity: 0 }).diversity, 0);
  assert.equal(resolve({ diversity: 1 }).diversity, 1);
  for (const bad of [1.1, -0.1, NaN, '0.2', null]) refused({ diversity: bad }, 'diversity');
});

test("newItems: the ranking's coldSequence weight (0) by default; from 0 to 10", () => {
  assert.equal(resolve({}).newItems, DEFAULT_RANKING_CONFIG.weights.coldSequence);
  assert.equal(resolve({ newItems: 0.5 }).newItems, 0.5);
  assert.equal(resolve({ newItems: 10 }).newItems, 10);
  for (const bad of [-0.1, 10.5, NaN, Infinity, '0.5', null]) refused({ newItems: bad }, 'newItems');
});

test('excludeSeen: true by default; true or false', () => {
  assert.equal(resolve({}).excludeSeen, true);
  assert.equal(resolve({ excludeSeen: false }).excludeSeen, false);
  refused({ excludeSeen: 'no' }, 'excludeSeen');
  refused({ excludeSeen: 0 }, 'excludeSeen');
});

test('maxEvents: 10,000 by default; an integer of at least 1', () => {
  assert.equal(resolve({}).maxEvents, 10_000);
  assert.equal(resolve({ maxEvents: 50 }).maxEvents, 50);
  for (const bad of [0, -1, 2.5, Infinity, '50']) refused({ maxEvents: bad }, 'maxEvents');
});

test('maxEventAgeDays: 365 by default; any number of days above 0 (Infinity: no age limit)', () => {
  assert.equal(resolve({}).maxEventAgeDays, 365);
  assert.equal(resolve({ maxEventAgeDays: 30 }).maxEventAgeDays, 30);
  assert.equal(resolve({ maxEventAgeDays: 0.5 }).maxEventAgeDays, 0.5);
  assert.equal(resolve({ maxEventAgeDays: Infinity }).maxEventAgeDays, Infinity);
  for (const bad of [0, -1, NaN, '30']) refused({ maxEventAgeDays: bad }, 'maxEventAgeDays');
});

test('seed: a random 31-bit integer by default, drawn once per resolution; any finite integer', () => {
  const seeds = new Set(Array.from({ length: 20 }, () => resolve({}).seed));
  assert.ok(seeds.size > 1, 'random');
  assert.equal(resolve({ seed: 5 }).seed, 5);
  assert.equal(resolve({ seed: -3 }).seed, -3);
  assert.equal(resolve({ seed: 0 }).seed, 0);
  for (const bad of [1.5, NaN, Infinity, '5', 5n]) refused({ seed: bad }, 'seed');
});

test('exploration: DEFAULT_EXPLORATION by default; each field replaces its default; rate, decay, policy, prior and priorStrength are checked', () => {
  assert.deepEqual(resolve({}).exploration, DEFAULT_EXPLORATION);
  assert.deepEqual(resolve({ exploration: { rate: 0.5, prior: 'uniform' } }).exploration, { ...DEFAULT_EXPLORATION, rate: 0.5, prior: 'uniform' });
  assert.deepEqual(resolve({ exploration: { policy: 'contextual', decay: 1, priorStrength: 50 } }).exploration, {
    ...DEFAULT_EXPLORATION,
    policy: 'contextual',
    decay: 1,
    priorStrength: 50,
  });
  assert.equal(resolve({ exploration: { policy: 'off' } }).exploration.policy, 'off');
  assert.equal(resolve({ exploration: { rate: 0 } }).exploration.rate, 0);
  assert.deepEqual(resolve({ exploration: { prior: { explore: 0.01, ranked: 0 } } }).exploration.prior, { explore: 0.01, ranked: 0 });
  refused({ exploration: 'off' }, 'exploration');
  refused({ exploration: { rate: 1.5 } }, 'exploration.rate');
  refused({ exploration: { rate: '0.2' } }, 'exploration.rate');
  refused({ exploration: { decay: 0 } }, 'exploration.decay');
  refused({ exploration: { decay: 1.1 } }, 'exploration.decay');
  refused({ exploration: { policy: 'greedy' } }, 'exploration.policy');
  refused({ exploration: { prior: 'flat' } }, 'exploration.prior');
  refused({ exploration: { prior: [0.1] } }, 'exploration.prior');
  refused({ exploration: { prior: { explore: 2 } } }, 'exploration.prior.explore');
  refused({ exploration: { prior: { explor: 0.1 } } }, 'exploration.prior.explor', /not a source/);
  for (const bad of [0, -1, Infinity, NaN, '200']) refused({ exploration: { priorStrength: bad } }, 'exploration.priorStrength');
});

// ------------------------------------------------------------------ measurement (opt-in), one test per field

const M = { endpoint: '/measure' };
const measured = (m: Record<string, unknown>, other: Record<string, unknown> = {}) => resolve({ ...other, measurement: { ...M, ...m } }).measurement!;

test('measurement: off (null) by default; an object with an endpoint turns it on with the documented defaults; unknown keys refused', () => {
  assert.equal(resolve({}).measurement, null);
  assert.equal(resolve({ measurement: undefined }).measurement, null);
  assert.deepEqual(measured({}), {
    endpoint: 'https://shop.example/measure',
    placement: 'default',
    epsilon: 4,
    dailyEpsilon: 8,
    visitGapMs: 30 * 60_000,
    maxDelayMs: 10 * 60_000,
    dryRun: false,
    variants: [],
    variant: 0,
  });
  refused({ measurement: true }, 'measurement');
  refused({ measurement: { ...M, epsilonn: 2 } }, 'measurement.epsilonn');
});

test('measurement.endpoint: required; absolute against the page; same origin; http(s); no query, fragment or credentials', () => {
  assert.equal(measured({ endpoint: 'collect' }).endpoint, 'https://shop.example/shop/collect');
  refused({ measurement: {} }, 'measurement.endpoint');
  refused({ measurement: { endpoint: '' } }, 'measurement.endpoint');
  refused({ measurement: { endpoint: 'https://tracker.example/m' } }, 'measurement.endpoint', /another origin/);
  refused({ measurement: { endpoint: '/m?uid=42' } }, 'measurement.endpoint', /query/);
  refused({ measurement: { endpoint: '/m#x' } }, 'measurement.endpoint');
  refused({ measurement: { endpoint: 'https://u:p@shop.example/m' } }, 'measurement.endpoint');
  refused({ measurement: { endpoint: 'data:text/plain,x' } }, 'measurement.endpoint');
});

test('measurement.allowCrossOrigin: false by default; true allows an endpoint on another origin; must be a boolean', () => {
  assert.equal(measured({ endpoint: 'https://stats.example/m', allowCrossOrigin: true }).endpoint, 'https://stats.example/m');
  refused({ measurement: { ...M, allowCrossOrigin: 'yes' } }, 'measurement.allowCrossOrigin');
});

test("measurement.placement: 'default' by default; a short lower-case name, not an identifier or a payload", () => {
  assert.equal(measured({ placement: 'home-top_2' }).placement, 'home-top_2');
  for (const bad of ['', 'Home', 'a'.repeat(33), 'sku 42', '-x', 42]) refused({ measurement: { ...M, placement: bad } }, 'measurement.placement');
});

test('measurement.epsilon: 4 by default; from 0.1 to 10', () => {
  assert.equal(measured({ epsilon: 1 }).epsilon, 1);
  assert.equal(measured({ epsilon: 10 }).epsilon, 10);
  for (const bad of [0, 0.05, 11, NaN, Infinity, '4']) refused({ measurement: { ...M, epsilon: bad } }, 'measurement.epsilon');
});

test("measurement.dailyEpsilon: 8 by default (at least the report's epsilon); from the report's epsilon to 100", () => {
  assert.equal(measured({ dailyEpsilon: 4 }).dailyEpsilon, 4);
  assert.equal(measured({ epsilon: 10 }).dailyEpsilon, 10, 'the default is never below one report');
  refused({ measurement: { ...M, epsilon: 4, dailyEpsilon: 3 } }, 'measurement.dailyEpsilon');
  for (const bad of [101, Infinity, NaN, '8']) refused({ measurement: { ...M, dailyEpsilon: bad } }, 'measurement.dailyEpsilon');
});

test('measurement.variants: none by default; 2 to 8 named variants resolved like the options they replace; errors name the variant', () => {
  const base = { diversity: 0.2, exploration: { rate: 0.3, decay: 0.9 }, globalModel: 'g' };
  const m = measured(
    { variants: [{ name: 'control' }, { name: 'b', exploration: { rate: 0.5 }, diversity: 0.6, globalModel: null, taskWeights: { conversion: 1 } }] },
    base,
  );
  assert.deepEqual(
    m.variants.map((v) => v.name),
    ['control', 'b'],
  );
  assert.equal(m.variants[0].overrides.exploration.rate, 0.3);
  assert.equal(m.variants[0].overrides.globalModel, 'g');
  assert.equal(m.variants[1].overrides.exploration.rate, 0.5);
  assert.equal(m.variants[1].overrides.exploration.decay, 0.9, 'nested fields merge over the base');
  assert.equal(m.variants[1].overrides.diversity, 0.6);
  assert.equal(m.variants[1].overrides.globalModel, null, 'model off');
  assert.deepEqual(m.variants[1].overrides.taskWeights, { click: 1, conversion: 1 });
  // the behaviour model and its new-items weight: off, on, or the base's
  const n = measured(
    { variants: [{ name: 'control' }, { name: 'new', newItems: 2, sequenceModel: null }, { name: 'other', sequenceModel: 's2' }] },
    { sequenceModel: 's', newItems: 0.5 },
  );
  assert.deepEqual(
    n.variants.map((v) => [v.overrides.newItems, v.overrides.sequenceModel]),
    [
      [0.5, 's'],
      [2, null],
      [0.5, 's2'],
    ],
  );
  const applied = withVariant(resolve({ ...base, measurement: { ...M, variants: [{ name: 'a' }, { name: 'b', diversity: 0.6 }] } }), 1);
  assert.equal(applied.diversity, 0.6);
  assert.equal(applied.measurement?.variant, 1);
  refused({ measurement: { ...M, variants: [{ name: 'only' }] } }, 'measurement.variants');
  refused({ measurement: { ...M, variants: Array.from({ length: 9 }, (_, i) => ({ name: `v${i}` })) } }, 'measurement.variants');
  refused({ measurement: { ...M, variants: [{ name: 'a' }, { name: 'a' }] } }, 'measurement.variants', /distinct/);
  refused({ measurement: { ...M, variants: [{ name: 'a' }, { name: 'b c' }] } }, 'measurement.variants[1].name');
  refused({ measurement: { ...M, variants: [{ name: 'a' }, { name: 'b', diversity: 2 }] } }, 'measurement.variants[1].diversity');
  refused({ measurement: { ...M, variants: [{ name: 'a' }, { name: 'b', newItems: -1 }] } }, 'measurement.variants[1].newItems');
  refused({ measurement: { ...M, variants: [{ name: 'a' }, { name: 'b', exploration: { rate: 3 } }] } }, 'measurement.variants[1].exploration.rate');
  refused({ measurement: { ...M, variants: [{ name: 'a' }, { name: 'b', seed: 1 }] } }, 'measurement.variants[1].seed');
});

test('measurement.visitGapMs: 30 minutes by default; an integer of ms from 1 to a day', () => {
  assert.equal(measured({ visitGapMs: 500 }).visitGapMs, 500);
  for (const bad of [0, 1.5, 24 * 3600_000 + 1, '500']) refused({ measurement: { ...M, visitGapMs: bad } }, 'measurement.visitGapMs');
});

test('measurement.maxDelayMs: 10 minutes by default; an integer of ms from 0 to a day', () => {
  assert.equal(measured({ maxDelayMs: 0 }).maxDelayMs, 0);
  for (const bad of [-1, 0.5, 24 * 3600_000 + 1, '0']) refused({ measurement: { ...M, maxDelayMs: bad } }, 'measurement.maxDelayMs');
});

test('measurement.dryRun: false by default; true or false', () => {
  assert.equal(measured({ dryRun: true }).dryRun, true);
  refused({ measurement: { ...M, dryRun: 1 } }, 'measurement.dryRun');
});

test('createRecommender() checks the options synchronously, before it needs a worker', () => {
  assert.throws(
    () => createRecommender({ diversity: 2 }),
    (e: unknown) => e instanceof RecommenderError && e.code === 'invalid_options' && e.message.includes('diversity'),
  );
  // valid options get as far as the worker: Node has none
  assert.throws(
    () => createRecommender({ diversity: 0.2 }),
    (e: unknown) => e instanceof RecommenderError && e.code === 'backend_unavailable',
  );
});
