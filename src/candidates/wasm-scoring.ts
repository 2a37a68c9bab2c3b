/**
 * WASM path of catalog scoring: the same integer math as the WebGPU kernel and
 * the TypeScript twin, as an ONNX graph (MatMulInteger -> Mul -> ReduceMax ->
 * TopK) run by onnxruntime-web's WASM provider. The int8 item matrix is an
 * initializer of a graph built on the device when the catalog loads.
 * ONNX TopK puts the lower index first among equal values, like the other paths.
 */
import { DataType, GraphBuilder } from '../formats/onnx-proto';
import { runExclusive, type Ort, type Session } from '../runtime/onnx';
import type { QuantizedItems, QuantizedQueries } from './quantized-scoring';

const EXCLUDED = -(2 ** 30);

export class WasmScorer {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly count: number,
    private readonly paddedDims: number,
  ) {}

  static async create(ort: Ort, items: QuantizedItems): Promise<WasmScorer> {
    // queries [Q, D] x items^T [D, N]: the item matrix is the constant right-hand side, which
    // onnxruntime pre-packs once for its int8 GEMM (about 2x faster than items x queries^T)
    const P = items.paddedDims;
    const transposed = new Int8Array(P * items.count);
    for (let i = 0; i < items.count; i++) for (let d = 0; d < P; d++) transposed[d * items.count + i] = items.data[i * P + d];
    const g = new GraphBuilder('catalog_scoring');
    g.input('queries', DataType.INT8, ['queries', P]);
    g.input('weights', DataType.INT32, ['queries', 1]);
    g.input('penalty', DataType.INT32, [items.count]);
    g.input('k', DataType.INT64, [1]);
    g.output('top_scores', DataType.INT32, ['k']);
    g.output('top_items', DataType.INT64, ['k']);
    g.int8Tensor('items_t', [P, items.count], transposed);
    g.node('MatMulInteger', ['queries', 'items_t'], ['dots']);
    g.node('Mul', ['dots', 'weights'], ['weighted']);
    g.node('ReduceMax', ['weighted'], ['best'], { axes: [0], keepdims: 0 });
    g.node('Add', ['best', 'penalty'], ['scores']);
    g.node('TopK', ['scores', 'k'], ['top_scores', 'top_items'], { axis: -1, largest: 1, sorted: 1 });
    const model = g.toBytes({ producer: 'on-device-recs', producerVersion: '1', opset: 17 });
    const session = await runExclusive(() => ort.InferenceSession.create(model, { executionProviders: ['wasm'] }));
    return new WasmScorer(ort, session, items.count, items.paddedDims);
  }

  async topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): Promise<{ indices: number[]; scores: number[] }> {
    const P = this.paddedDims;
    const penalty = new Int32Array(this.count);
    let allowed = this.count;
    if (excluded) {
      for (let i = 0; i < this.count; i++) {
        if (!excluded[i]) continue;
        penalty[i] = EXCLUDED;
        allowed--;
      }
    }
    const kk = Math.min(k, allowed);
    const feeds = {
      queries: new this.ort.Tensor('int8', queries.data.slice(0, queries.count * P), [queries.count, P]),
      weights: new this.ort.Tensor('int32', Int32Array.from(queries.weights), [queries.count, 1]),
      penalty: new this.ort.Tensor('int32', penalty, [this.count]),
      k: new this.ort.Tensor('int64', BigInt64Array.from([BigInt(kk)]), [1]),
    };
    const out = await runExclusive(() => this.session.run(feeds));
    const scores = Array.from(out.top_scores.data as Int32Array);
    const indices = Array.from(out.top_items.data as BigInt64Array, Number);
    return { indices, scores };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
