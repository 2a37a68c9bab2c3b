/**
 * npm run build:kernel: the hand-written WebAssembly scan kernel of catalog scoring,
 * in WebAssembly text, assembled with wabt into src/candidates/scan-kernel-wasm.ts
 * (base64, so the worker, the npm package and Node load it without a fetch) and
 * written out as src/candidates/wat/scan-{simd,scalar}.wat for reading.
 * test/scan-kernel.test.ts checks the committed files equal what this writes.
 *
 * One pass over the int8 item matrix scores every item against up to 4 int8
 * queries at once (more in groups of 4) and keeps the best k in a heap in the
 * module's memory: the score of item i is max_q weight_q * dot(item_i, query_q),
 * exact i32 math as the TypeScript twin (src/candidates/quantized-scoring.ts).
 *
 * SIMD build: `v128.load8x8_s` widens 8 int8 of an item to i16, `i32x4.dot_i16x8_s`
 * multiplies them with 8 i16 of a query (widened once per call) and adds pairs.
 * The relaxed-SIMD dot (`i32x4.relaxed_dot_i8x16_i7x16_add_s`) is exact only when one
 * side fits in 7 bits; queries span [-127, 127], so it is not used.
 * Scalar build: the same loops with i32 loads, for engines without SIMD.
 *
 * Memory layout (byte offsets chosen by src/candidates/kernel-scoring.ts):
 *   items    count rows of `chunks * 8` int8 (dims zero-padded to a multiple of 8)
 *   queries  per group of Q queries (Q = 1, 2 or 4), per chunk c, per query j: 8 values
 *            (SIMD: i16, 16 bytes; scalar: i32, 32 bytes)
 *   weights  per group: Q i32 (SIMD Q = 2: w0 w1 w0 w1)
 *   mask     one byte per item, non-zero = excluded
 *   heap     k entries of (score i32, item i32)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import wabtFactory from 'wabt';

export type KernelVariant = 'simd' | 'scalar';

const INT_MIN = '0x80000000';

/** The best-k heap, shared by both builds: a min-heap on "worse" (lower score, or equal score and higher item index). */
const HEAP = `
  ;; heap entries in use
  (global $n (mut i32) (i32.const 0))

  ;; entry a is worse than entry b: lower score, or the same score and a higher item index
  (func $worse (param $sa i32) (param $ia i32) (param $sb i32) (param $ib i32) (result i32)
    (i32.or
      (i32.lt_s (local.get $sa) (local.get $sb))
      (i32.and (i32.eq (local.get $sa) (local.get $sb)) (i32.gt_u (local.get $ia) (local.get $ib)))))

  ;; the score an item must reach (>=) to be offered: any while the heap is not full, else the root's (the worst kept)
  (func $threshold (param $heap i32) (param $k i32) (result i32)
    (if (result i32) (i32.lt_u (global.get $n) (local.get $k))
      (then (i32.const ${INT_MIN}))
      (else (i32.load (local.get $heap)))))

  ;; writes entry (s, i) at heap position j
  (func $place (param $heap i32) (param $j i32) (param $s i32) (param $i i32)
    (local $a i32)
    (local.set $a (i32.add (local.get $heap) (i32.shl (local.get $j) (i32.const 3))))
    (i32.store (local.get $a) (local.get $s))
    (i32.store offset=4 (local.get $a) (local.get $i)))

  ;; offers item i with score s to the heap; returns the new threshold
  (func $offer (param $heap i32) (param $k i32) (param $mask i32) (param $s i32) (param $i i32) (result i32)
    (local $j i32) (local $p i32) (local $l i32) (local $w i32) (local $a i32)
    ;; an excluded item never enters
    (if (i32.load8_u (i32.add (local.get $mask) (local.get $i)))
      (then (return (call $threshold (local.get $heap) (local.get $k)))))
    (if (i32.lt_u (global.get $n) (local.get $k))
      (then
        ;; not full: append, then move up while worse than the parent
        (local.set $j (global.get $n))
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (block $placed
          (loop $up
            (br_if $placed (i32.eqz (local.get $j)))
            (local.set $p (i32.shr_u (i32.sub (local.get $j) (i32.const 1)) (i32.const 1)))
            (local.set $a (i32.add (local.get $heap) (i32.shl (local.get $p) (i32.const 3))))
            (br_if $placed
              (i32.eqz (call $worse (local.get $s) (local.get $i) (i32.load (local.get $a)) (i32.load offset=4 (local.get $a)))))
            (i64.store (i32.add (local.get $heap) (i32.shl (local.get $j) (i32.const 3))) (i64.load (local.get $a)))
            (local.set $j (local.get $p))
            (br $up)))
        (call $place (local.get $heap) (local.get $j) (local.get $s) (local.get $i))
        (return (call $threshold (local.get $heap) (local.get $k)))))
    ;; full: the item replaces the root only when the root is worse than it
    (if (call $worse (local.get $s) (local.get $i) (i32.load (local.get $heap)) (i32.load offset=4 (local.get $heap)))
      (then (return (i32.load (local.get $heap)))))
    (local.set $j (i32.const 0))
    (block $placed
      (loop $down
        (local.set $l (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 1)))
        (br_if $placed (i32.ge_u (local.get $l) (global.get $n)))
        (local.set $w (local.get $l))
        ;; the worse of the two children
        (if (i32.lt_u (i32.add (local.get $l) (i32.const 1)) (global.get $n))
          (then
            (local.set $a (i32.add (local.get $heap) (i32.shl (local.get $l) (i32.const 3))))
            (if (call $worse
                  (i32.load offset=8 (local.get $a)) (i32.load offset=12 (local.get $a))
                  (i32.load (local.get $a)) (i32.load offset=4 (local.get $a)))
              (then (local.set $w (i32.add (local.get $l) (i32.const 1)))))))
        (local.set $a (i32.add (local.get $heap) (i32.shl (local.get $w) (i32.const 3))))
        ;; stop where that child is not worse than the item
        (br_if $placed
          (i32.eqz (call $worse (i32.load (local.get $a)) (i32.load offset=4 (local.get $a)) (local.get $s) (local.get $i))))
        (i64.store (i32.add (local.get $heap) (i32.shl (local.get $j) (i32.const 3))) (i64.load (local.get $a)))
        (local.set $j (local.get $w))
        (br $down)))
    (call $place (local.get $heap) (local.get $j) (local.get $s) (local.get $i))
    (i32.load (local.get $heap)))
`;

const indent = (text: string, by: number): string => text.replace(/^/gm, ' '.repeat(by));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** i8x16.shuffle lane bytes picking i32 lanes (0-3: first operand, 4-7: second). */
const lanes = (...l: number[]): string => l.flatMap((x) => range(4).map((b) => x * 4 + b)).join(' ');

/** The per-item score of one group of q queries into local $v (SIMD) from accumulators $a0.. */
function simdGroup(q: 1 | 2 | 4): { body: string; reduce: string } {
  const acc = range(q)
    .map(
      (j) =>
        `        (local.set $a${j} (i32x4.add (local.get $a${j}) (i32x4.dot_i16x8_s (local.get $x) (v128.load offset=${16 * j} (local.get $qp)))))`,
    )
    .join('\n');
  const body = `        (local.set $x (v128.load8x8_s (local.get $p)))
${acc}
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (local.set $qp (i32.add (local.get $qp) (i32.const ${16 * q})))`;
  let reduce: string;
  if (q === 1) {
    // lane sum of a0, times the weight
    reduce = `      (local.set $v (i32x4.add (local.get $a0) (i8x16.shuffle ${lanes(2, 3, 0, 1)} (local.get $a0) (local.get $a0))))
      (local.set $v (i32x4.add (local.get $v) (i8x16.shuffle ${lanes(1, 0, 3, 2)} (local.get $v) (local.get $v))))
      (local.set $s (i32.mul (i32x4.extract_lane 0 (local.get $v)) (i32.load (local.get $wp))))`;
  } else {
    // transpose-add: $v = (sum a0, sum a1, sum a2, sum a3) (q = 2: sum a0, sum a1, sum a0, sum a1)
    const a2 = q === 4 ? '$a2' : '$a0';
    const a3 = q === 4 ? '$a3' : '$a1';
    reduce = `      (local.set $x (i32x4.add
        (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get $a0) (local.get $a1))
        (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get $a0) (local.get $a1))))
      (local.set $v (i32x4.add
        (i8x16.shuffle ${lanes(0, 1, 4, 5)} (local.get ${a2}) (local.get ${a3}))
        (i8x16.shuffle ${lanes(2, 3, 6, 7)} (local.get ${a2}) (local.get ${a3}))))
      (local.set $v (i32x4.add
        (i8x16.shuffle ${lanes(0, 2, 4, 6)} (local.get $x) (local.get $v))
        (i8x16.shuffle ${lanes(1, 3, 5, 7)} (local.get $x) (local.get $v))))
      (local.set $v (i32x4.mul (local.get $v) (v128.load (local.get $wp))))
      (local.set $v (i32x4.max_s (local.get $v) (i8x16.shuffle ${lanes(2, 3, 0, 1)} (local.get $v) (local.get $v))))
      (local.set $v (i32x4.max_s (local.get $v) (i8x16.shuffle ${lanes(1, 0, 3, 2)} (local.get $v) (local.get $v))))
      (local.set $s (i32x4.extract_lane 0 (local.get $v)))`;
  }
  return { body, reduce };
}

function scalarGroup(q: 1 | 2 | 4): { body: string; reduce: string } {
  const lines: string[] = [];
  for (let e = 0; e < 8; e++) {
    lines.push(`        (local.set $x (i32.load8_s offset=${e} (local.get $p)))`);
    for (let j = 0; j < q; j++)
      lines.push(
        `        (local.set $a${j} (i32.add (local.get $a${j}) (i32.mul (local.get $x) (i32.load offset=${(j * 8 + e) * 4} (local.get $qp)))))`,
      );
  }
  const body = `${lines.join('\n')}
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (local.set $qp (i32.add (local.get $qp) (i32.const ${32 * q})))`;
  const reduce = [
    `      (local.set $s (i32.mul (local.get $a0) (i32.load (local.get $wp))))`,
    ...range(q)
      .slice(1)
      .map(
        (j) => `      (local.set $t (i32.mul (local.get $a${j}) (i32.load offset=${4 * j} (local.get $wp))))
      (if (i32.gt_s (local.get $t) (local.get $s)) (then (local.set $s (local.get $t))))`,
      ),
  ].join('\n');
  return { body, reduce };
}

/**
 * scan{q}(items, count, chunks, queries, groups, weights, mask, heap, k) -> heap entries:
 * every item scored against `groups` groups of q queries (the best over all of them),
 * the best k kept in the heap.
 */
function scanFunction(variant: KernelVariant, q: 1 | 2 | 4): string {
  const { body, reduce } = variant === 'simd' ? simdGroup(q) : scalarGroup(q);
  const vec = variant === 'simd' ? 'v128' : 'i32';
  const zero = variant === 'simd' ? '(v128.const i32x4 0 0 0 0)' : '(i32.const 0)';
  const accs = range(q)
    .map((j) => `(local $a${j} ${vec})`)
    .join(' ');
  const clear = range(q)
    .map((j) => `        (local.set $a${j} ${zero})`)
    .join('\n');
  return `
  (func (export "scan${q}") (param $items i32) (param $count i32) (param $chunks i32) (param $queries i32) (param $groups i32)
    (param $weights i32) (param $mask i32) (param $heap i32) (param $k i32) (result i32)
    (local $i i32) (local $row i32) (local $p i32) (local $qp i32) (local $wp i32) (local $c i32) (local $g i32)
    (local $s i32) (local $t i32) (local $best i32) (local $thr i32) (local $x ${vec}) ${variant === 'simd' ? '(local $v v128) ' : ''}${accs}
    (global.set $n (i32.const 0))
    (if (i32.or (i32.eqz (local.get $count)) (i32.eqz (local.get $k))) (then (return (i32.const 0))))
    (local.set $thr (i32.const ${INT_MIN}))
    (local.set $row (local.get $items))
    (loop $item
      (local.set $qp (local.get $queries))
      (local.set $wp (local.get $weights))
      (local.set $g (local.get $groups))
      (local.set $best (i32.const ${INT_MIN}))
      (loop $group
${clear}
        (local.set $p (local.get $row))
        (local.set $c (local.get $chunks))
        (loop $dim
${indent(body, 2)}
          (br_if $dim (local.tee $c (i32.sub (local.get $c) (i32.const 1)))))
${indent(reduce, 2)}
        (if (i32.gt_s (local.get $s) (local.get $best)) (then (local.set $best (local.get $s))))
        (local.set $wp (i32.add (local.get $wp) (i32.const ${variant === 'simd' && q === 2 ? 16 : 4 * q})))
        (br_if $group (local.tee $g (i32.sub (local.get $g) (i32.const 1)))))
      (if (i32.ge_s (local.get $best) (local.get $thr))
        (then (local.set $thr (call $offer (local.get $heap) (local.get $k) (local.get $mask) (local.get $best) (local.get $i)))))
      (local.set $row (i32.add (local.get $row) (i32.shl (local.get $chunks) (i32.const 3))))
      (br_if $item (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $count))))
    (global.get $n))
`;
}

/** The kernel's WebAssembly text. */
export function scanKernelWat(variant: KernelVariant): string {
  return `;; Generated by tools/build-kernel.ts (npm run build:kernel): edit that file, not this one.
;; Catalog scan kernel, ${variant} build: exact int8 scores of every item against up to 4 queries
;; per group, fused with the best-k selection (ties: the lower item index first).
(module
  (memory (export "memory") 1)
${HEAP}${([1, 2, 4] as const).map((q) => scanFunction(variant, q)).join('')})
`;
}

/** The tiny module whose validation tells whether this engine has WebAssembly SIMD (the instruction the kernel relies on). */
export const SIMD_PROBE_WAT = `(module (func (result v128) (i32x4.dot_i16x8_s (v128.load8x8_s (i32.const 0)) (v128.const i64x2 0 0))) (memory 1))`;

export async function assembleScanKernel(): Promise<{ simd: Uint8Array; scalar: Uint8Array; probe: Uint8Array }> {
  const wabt = await wabtFactory();
  const assemble = (name: string, text: string, simd: boolean): Uint8Array => {
    const module = wabt.parseWat(name, text, { simd });
    try {
      module.validate();
      return Uint8Array.from(module.toBinary({}).buffer);
    } finally {
      module.destroy();
    }
  };
  return {
    simd: assemble('scan-simd.wat', scanKernelWat('simd'), true),
    scalar: assemble('scan-scalar.wat', scanKernelWat('scalar'), false),
    probe: assemble('simd-probe.wat', SIMD_PROBE_WAT, true),
  };
}

/** The generated TypeScript module holding the three binaries. */
export function scanKernelModule(bytes: { simd: Uint8Array; scalar: Uint8Array; probe: Uint8Array }): string {
  const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
  return `// Generated by tools/build-kernel.ts (npm run build:kernel) from its WebAssembly text: do not edit.
/** The catalog scan kernel with WebAssembly SIMD (base64 of the .wasm, ${bytes.simd.length} bytes). */
export const SCAN_KERNEL_SIMD =
  '${b64(bytes.simd)}';
/** The same kernel without SIMD (${bytes.scalar.length} bytes). */
export const SCAN_KERNEL_SCALAR =
  '${b64(bytes.scalar)}';
/** A tiny module using \`i32x4.dot_i16x8_s\`: it validates exactly where the SIMD kernel can run. */
export const SIMD_PROBE = '${b64(bytes.probe)}';
`;
}

export const KERNEL_TS = resolve(import.meta.dirname, '..', 'src', 'candidates', 'scan-kernel-wasm.ts');
export const KERNEL_WAT_DIR = resolve(import.meta.dirname, '..', 'src', 'candidates', 'wat');

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const bytes = await assembleScanKernel();
  mkdirSync(KERNEL_WAT_DIR, { recursive: true });
  for (const v of ['simd', 'scalar'] as const) writeFileSync(resolve(KERNEL_WAT_DIR, `scan-${v}.wat`), scanKernelWat(v));
  writeFileSync(KERNEL_TS, scanKernelModule(bytes));
  process.stderr.write(`wrote ${KERNEL_TS} (simd ${bytes.simd.length} B, scalar ${bytes.scalar.length} B) and ${KERNEL_WAT_DIR}\n`);
}
