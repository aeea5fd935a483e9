;; Stage-1 scoring over int8 gallery rows with WebAssembly SIMD:
;;
;;   out[i] = sum over j < dim of query[j] * codes[i * dim + j]      (f32)
;;
;; for i < n. `codes` (int8, one byte per value), `query` (f32) and `out`
;; (f32) are byte offsets into this module's own memory; `dim` must be a
;; positive multiple of 16 and n >= 1 (stage1Int8.ts checks both and uses
;; its JS loop otherwise). The caller multiplies each out[i] by the row's
;; scale afterwards.
;;
;; Why this shape: a million-face gallery at 1536 values a row is 1.5 GB of
;; codes per query, so the kernel streams the codes once and keeps the query
;; (a few KB, in cache) as floats. Each code is widened i8 -> i16 -> i32 and
;; converted to f32 exactly (|code| <= 127), so every score is the exact f32
;; dot product of the float query with the stored codes: the ranking is that
;; of the codes, with no second quantisation of the query. (An int16 query
;; with i32x4.dot_i16x8_s would do fewer instructions but rank by a quantised
;; query; the measured trade-off is in stage1Int8.ts.)
;;
;; Summation order, which stage1Int8.ts's JS loop repeats bit for bit: value
;; j goes to accumulator (j mod 16) div 4, lane j mod 4, as
;; acc = acc + fround(q * code); then the four accumulators are added as
;; (acc0 + acc1) + (acc2 + acc3) and its lanes as (l0 + l1) + (l2 + l3).
;; The loop is do-while: its body runs once before the exit test.
;;
;; Assembled by scripts/assembleWat.ts into int8DotKernel.generated.ts.

(module
  (memory (export "memory") 1)

  (func $int8Dots (export "int8Dots")
    (param $codes i32) (param $n i32) (param $dim i32) (param $query i32) (param $out i32)
    (local $i i32) (local $k i32) (local $rowAt i32) (local $q i32)
    ;; 16 codes widened to two i16x8 halves
    (local $v v128) (local $lo v128) (local $hi v128)
    ;; $accM: partial sums of values j with (j mod 16) div 4 = M, 4 lanes each
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)

    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $rowAt (i32.add (local.get $codes) (i32.mul (local.get $i) (local.get $dim))))
      (local.set $acc0 (v128.const i32x4 0 0 0 0))
      (local.set $acc1 (v128.const i32x4 0 0 0 0))
      (local.set $acc2 (v128.const i32x4 0 0 0 0))
      (local.set $acc3 (v128.const i32x4 0 0 0 0))

      (local.set $k (i32.const 0))
      (loop $dot
        (local.set $v (v128.load align=1 (i32.add (local.get $rowAt) (local.get $k))))
        (local.set $lo (i16x8.extend_low_i8x16_s (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_s (local.get $v)))
        (local.set $q (i32.add (local.get $query) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $acc0 (f32x4.add (local.get $acc0)
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $lo))) (v128.load offset=0 align=4 (local.get $q)))))
        (local.set $acc1 (f32x4.add (local.get $acc1)
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $lo))) (v128.load offset=16 align=4 (local.get $q)))))
        (local.set $acc2 (f32x4.add (local.get $acc2)
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $hi))) (v128.load offset=32 align=4 (local.get $q)))))
        (local.set $acc3 (f32x4.add (local.get $acc3)
          (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $hi))) (v128.load offset=48 align=4 (local.get $q)))))
        (br_if $dot (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $dim))))

      (local.set $acc0 (f32x4.add (f32x4.add (local.get $acc0) (local.get $acc1)) (f32x4.add (local.get $acc2) (local.get $acc3))))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))

      (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
)
