/**
 * ONNX graph of the multi-task ranking heads: a shared ReLU layer over the
 * features and one logistic output per task, int8 weights (Cast + Mul by a per-tensor scale).
 */
import { DataType, GraphBuilder } from '../../src/formats/onnx-proto';

export interface HeadWeights {
  inputs: number;
  hidden: number;
  /** [inputs, hidden] row-major, already folded with feature standardisation. */
  w1: Float32Array;
  b1: Float32Array;
  /** [hidden, 2]: column 0 click, column 1 conversion. */
  w2: Float32Array;
  b2: Float32Array;
}

export function quantizeTensor(w: Float32Array): { q: Int8Array; scale: number } {
  let max = 0;
  for (const x of w) max = Math.max(max, Math.abs(x));
  const scale = max > 0 ? max / 127 : 1;
  return { q: Int8Array.from(w, (x) => Math.max(-127, Math.min(127, Math.round(x / scale)))), scale };
}

export function dequantize(t: { q: Int8Array; scale: number }): Float32Array {
  return Float32Array.from(t.q, (x) => x * t.scale);
}

export function buildHeadsGraph(w: HeadWeights, meta: Record<string, string>): Uint8Array {
  const g = new GraphBuilder('ranking_heads');
  g.input('features', DataType.FLOAT, ['candidates', w.inputs]);
  g.output('click', DataType.FLOAT, ['candidates']);
  g.output('conversion', DataType.FLOAT, ['candidates']);
  const q1 = quantizeTensor(w.w1);
  const q2 = quantizeTensor(w.w2);
  g.int8Tensor('w1_int8', [w.inputs, w.hidden], q1.q);
  g.floatTensor('w1_scale', [], [q1.scale]);
  g.int8Tensor('w2_int8', [w.hidden, 2], q2.q);
  g.floatTensor('w2_scale', [], [q2.scale]);
  g.floatTensor('b1', [w.hidden], w.b1);
  g.floatTensor('b2', [2], w.b2);
  g.int64Tensor('task_click', [], [0]);
  g.int64Tensor('task_conversion', [], [1]);
  // Cast + Mul rather than DequantizeLinear: onnxruntime-web's WebGPU DequantizeLinear gave wrong
  // results for int8 weights here (the e2e parity test caught it); Cast from int8 runs on the CPU,
  // once per call over 160 weights.
  g.node('Cast', ['w1_int8'], ['w1_steps'], { to: DataType.FLOAT });
  g.node('Mul', ['w1_steps', 'w1_scale'], ['w1']);
  g.node('Cast', ['w2_int8'], ['w2_steps'], { to: DataType.FLOAT });
  g.node('Mul', ['w2_steps', 'w2_scale'], ['w2']);
  g.node('MatMul', ['features', 'w1'], ['h_linear']);
  g.node('Add', ['h_linear', 'b1'], ['h_bias']);
  g.node('Relu', ['h_bias'], ['hidden']);
  g.node('MatMul', ['hidden', 'w2'], ['logits_linear']);
  g.node('Add', ['logits_linear', 'b2'], ['logits']);
  g.node('Sigmoid', ['logits'], ['probabilities']);
  g.node('Gather', ['probabilities', 'task_click'], ['click'], { axis: 1 });
  g.node('Gather', ['probabilities', 'task_conversion'], ['conversion'], { axis: 1 });
  return g.toBytes({
    producer: 'on-device-recs build-heads',
    producerVersion: '1',
    opset: 17,
    doc: 'Multi-task ranking heads: p(click = next interaction), p(conversion = like).',
    metadata: meta,
  });
}

/** Plain TypeScript forward pass of the same (dequantized) network, for tests. */
export function forwardReference(w: HeadWeights, features: Float32Array, rows: number): { click: Float32Array; conversion: Float32Array } {
  const w1 = dequantize(quantizeTensor(w.w1));
  const w2 = dequantize(quantizeTensor(w.w2));
  const click = new Float32Array(rows);
  const conversion = new Float32Array(rows);
  const h = new Float32Array(w.hidden);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < w.hidden; j++) {
      let s = w.b1[j];
      for (let i = 0; i < w.inputs; i++) s += features[r * w.inputs + i] * w1[i * w.hidden + j];
      h[j] = Math.max(0, s);
    }
    for (let t = 0; t < 2; t++) {
      let s = w.b2[t];
      for (let j = 0; j < w.hidden; j++) s += h[j] * w2[j * 2 + t];
      (t === 0 ? click : conversion)[r] = 1 / (1 + Math.exp(-s));
    }
  }
  return { click, conversion };
}
