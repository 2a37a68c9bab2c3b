/**
 * A minimal, dependency-free ONNX (protobuf) writer and initializer reader.
 *
 * The model build tools use the writer to emit graphs deterministically
 * (same input -> byte-identical file); tests and integrity checks use the
 * reader to pull initializers back out. Field numbers follow onnx.proto.
 */

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

class ProtoWriter {
  /** Finished parts; small writes collect in `pending` first. */
  private parts: Uint8Array[] = [];
  private pending: number[] = [];

  private flush(): void {
    if (this.pending.length) {
      this.parts.push(Uint8Array.from(this.pending));
      this.pending = [];
    }
  }
  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pending.push(Number(v));
  }
  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }
  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pending.push(...b);
    return this;
  }
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    if (value.length < 1024) {
      for (let j = 0; j < value.length; j++) this.pending.push(value[j]);
    } else {
      this.flush();
      this.parts.push(value); // large tensors are referenced, not copied byte by byte
    }
    return this;
  }
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }
  finish(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export type AttributeValue = number | string | number[] | { floats: number[] } | { float: number };

export interface TensorInit {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Little-endian raw bytes. */
  raw: Uint8Array;
}

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, AttributeValue>;
}

interface ValueSpec {
  name: string;
  elemType: DataTypeCode;
  shape: (number | string)[];
}

/** Builds one ONNX graph; `toBytes` serializes a ModelProto. */
export class GraphBuilder {
  private nodes: NodeSpec[] = [];
  private inits: TensorInit[] = [];
  private inputs: ValueSpec[] = [];
  private outputs: ValueSpec[] = [];

  constructor(readonly name: string) {}

  input(name: string, elemType: DataTypeCode, shape: (number | string)[]): this {
    this.inputs.push({ name, elemType, shape });
    return this;
  }
  output(name: string, elemType: DataTypeCode, shape: (number | string)[]): this {
    this.outputs.push({ name, elemType, shape });
    return this;
  }
  initializer(t: TensorInit): this {
    this.inits.push(t);
    return this;
  }
  floatTensor(name: string, dims: number[], values: ArrayLike<number>): this {
    const f = Float32Array.from(values as ArrayLike<number>);
    return this.initializer({ name, dataType: DataType.FLOAT, dims, raw: new Uint8Array(f.buffer) });
  }
  int64Tensor(name: string, dims: number[], values: number[]): this {
    const b = new BigInt64Array(values.map((v) => BigInt(v)));
    return this.initializer({ name, dataType: DataType.INT64, dims, raw: new Uint8Array(b.buffer) });
  }
  int8Tensor(name: string, dims: number[], values: Int8Array): this {
    return this.initializer({ name, dataType: DataType.INT8, dims, raw: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
  }
  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttributeValue> = {}): this {
    this.nodes.push({ op, inputs, outputs, attrs, name: `${op}_${this.nodes.length}` });
    return this;
  }

  toBytes(meta: { producer: string; producerVersion: string; opset: number; doc?: string; metadata?: Record<string, string> }): Uint8Array {
    const w = new ProtoWriter();
    w.int(1, 8); // ir_version 8
    w.string(2, meta.producer);
    w.string(3, meta.producerVersion);
    w.int(5, 1); // model_version
    if (meta.doc) w.string(6, meta.doc);
    w.message(7, (g) => this.writeGraph(g));
    w.message(8, (o) => o.string(1, '').int(2, meta.opset));
    for (const [k, v] of Object.entries(meta.metadata ?? {})) w.message(14, (e) => e.string(1, k).string(2, v));
    return w.finish();
  }

  private writeGraph(g: ProtoWriter): void {
    for (const n of this.nodes) {
      g.message(1, (nw) => {
        for (const i of n.inputs) nw.string(1, i);
        for (const o of n.outputs) nw.string(2, o);
        nw.string(3, n.name);
        nw.string(4, n.op);
        for (const [k, v] of Object.entries(n.attrs)) nw.message(5, (a) => writeAttribute(a, k, v));
      });
    }
    g.string(2, this.name);
    for (const t of this.inits) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of this.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of this.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  }
}

function writeAttribute(a: ProtoWriter, name: string, v: AttributeValue): void {
  a.string(1, name);
  if (typeof v === 'number') {
    a.int(3, v).int(20, AttributeType.INT);
  } else if (typeof v === 'string') {
    a.string(4, v).int(20, AttributeType.STRING);
  } else if (Array.isArray(v)) {
    for (const x of v) a.int(8, x);
    a.int(20, AttributeType.INTS);
  } else if ('floats' in v) {
    for (const x of v.floats) a.float(7, x);
    a.int(20, AttributeType.FLOATS);
  } else {
    a.float(2, v.float).int(20, AttributeType.FLOAT);
  }
}

function writeTensor(t: ProtoWriter, init: TensorInit): void {
  for (const d of init.dims) t.int(1, d);
  t.int(2, init.dataType);
  t.string(8, init.name);
  t.bytes(9, init.raw);
}

function writeValueInfo(v: ProtoWriter, spec: ValueSpec): void {
  v.string(1, spec.name);
  v.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, spec.elemType);
      tensor.message(2, (shape) => {
        for (const d of spec.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

// ---------------------------------------------------------------- reader

class ProtoReader {
  pos = 0;
  constructor(private buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint in ONNX file');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  }
  field(): { field: number; wire: number } {
    const t = Number(this.varint());
    return { field: t >>> 3, wire: t & 7 };
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new Error('truncated field in ONNX file');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire} in ONNX file`);
  }
}

export interface ReadTensor {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array;
}

/** Reads the graph initializers (raw_data tensors) of an ONNX model. */
export function readInitializers(model: Uint8Array): Map<string, ReadTensor> {
  const out = new Map<string, ReadTensor>();
  const r = new ProtoReader(model);
  while (!r.done) {
    const { field, wire } = r.field();
    if (field === 7 && wire === 2) {
      const g = new ProtoReader(r.bytes());
      while (!g.done) {
        const f = g.field();
        if (f.field === 5 && f.wire === 2) {
          const t = readTensor(g.bytes());
          out.set(t.name, t);
        } else g.skip(f.wire);
      }
    } else r.skip(wire);
  }
  return out;
}

function readTensor(buf: Uint8Array): ReadTensor {
  const r = new ProtoReader(buf);
  const t: ReadTensor = { name: '', dataType: 0, dims: [], raw: new Uint8Array(0) };
  while (!r.done) {
    const { field, wire } = r.field();
    if (field === 1 && wire === 0) t.dims.push(Number(r.varint()));
    else if (field === 1 && wire === 2) {
      const p = new ProtoReader(r.bytes());
      while (!p.done) t.dims.push(Number(p.varint()));
    } else if (field === 2 && wire === 0) t.dataType = Number(r.varint());
    else if (field === 8 && wire === 2) t.name = new TextDecoder().decode(r.bytes());
    else if (field === 9 && wire === 2) t.raw = r.bytes().slice();
    else r.skip(wire);
  }
  return t;
}

/** Copies raw little-endian bytes into a Float32Array. */
export function rawToFloat32(raw: Uint8Array): Float32Array {
  const copy = raw.slice();
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}
