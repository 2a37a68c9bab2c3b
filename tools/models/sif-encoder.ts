/**
 * Builds the default sentence encoder (GloVe 6B 100-d, SIF pooling, int8 rows)
 * as an ONNX graph. Pure function of its inputs: same inputs, same bytes.
 */
import { DataType, GraphBuilder } from '../../src/formats/onnx-proto';

export interface SifEncoderParts {
  vocabSize: number; // including padding row 0
  dims: number;
  q: Int8Array; // [vocabSize, dims]
  rowScale: Float32Array; // [vocabSize] = quantization scale * SIF weight (0 for padding)
  common: Float32Array; // [dims], unit length
}

/**
 * Graph: input_ids int64 [batch, tokens] -> embeddings float32 [batch, dims].
 *   tok = Cast(Gather(table_q, ids)) * Unsqueeze(Gather(row_scale, ids), 2)
 *   s   = ReduceSum(tok, axis 1)
 *   c   = s - (s . u) u
 *   out = c / sqrt(sum(c^2) + 1e-12)
 */
export function buildSifEncoderGraph(p: SifEncoderParts, meta: Record<string, string>): Uint8Array {
  const g = new GraphBuilder('sif_sentence_encoder');
  g.input('input_ids', DataType.INT64, ['batch', 'tokens']);
  g.output('embeddings', DataType.FLOAT, ['batch', p.dims]);
  g.int8Tensor('word_vectors_int8', [p.vocabSize, p.dims], p.q);
  g.floatTensor('row_scale', [p.vocabSize], p.rowScale);
  g.floatTensor('common_component', [p.dims, 1], p.common);
  g.floatTensor('common_component_t', [1, p.dims], p.common);
  g.int64Tensor('axis_1', [1], [1]);
  g.int64Tensor('axis_2', [1], [2]);
  g.floatTensor('epsilon', [], [1e-12]);

  g.node('Gather', ['word_vectors_int8', 'input_ids'], ['token_vectors_int8'], { axis: 0 });
  g.node('Cast', ['token_vectors_int8'], ['token_vectors'], { to: DataType.FLOAT });
  g.node('Gather', ['row_scale', 'input_ids'], ['token_weights'], { axis: 0 });
  g.node('Unsqueeze', ['token_weights', 'axis_2'], ['token_weights_3d']);
  g.node('Mul', ['token_vectors', 'token_weights_3d'], ['weighted']);
  g.node('ReduceSum', ['weighted', 'axis_1'], ['summed'], { keepdims: 0 });
  g.node('MatMul', ['summed', 'common_component'], ['projection']);
  g.node('MatMul', ['projection', 'common_component_t'], ['common_part']);
  g.node('Sub', ['summed', 'common_part'], ['centred']);
  g.node('Mul', ['centred', 'centred'], ['squared']);
  g.node('ReduceSum', ['squared', 'axis_1'], ['sum_squares'], { keepdims: 1 });
  g.node('Add', ['sum_squares', 'epsilon'], ['sum_squares_eps']);
  g.node('Sqrt', ['sum_squares_eps'], ['norm']);
  g.node('Div', ['centred', 'norm'], ['embeddings']);
  return g.toBytes({
    producer: 'on-device-recs build-models',
    producerVersion: '1',
    opset: 17,
    doc: 'SIF sentence encoder over GloVe 6B 100-d word vectors, int8 per-row quantized.',
    metadata: meta,
  });
}
