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
;; of the codes, with no second quantisation of the query. topK calls it
;; for every row only when k covers the gallery; otherwise only for the rows
;; int16Dots (below) cannot rule out.
;;
;; Summation order, which stage1Int8.ts's JS loop repeats bit for bit: value
;; j goes to accumulator (j mod 16) div 4, lane j mod 4, as
;; acc = acc + fround(q * code); then the four accumulators are added as
;; (acc0 + acc1) + (acc2 + acc3) and its lanes as (l0 + l1) + (l2 + l3).
;; The loop is do-while: its body runs once before the exit test.
;;
;; int16Dots is the first pass of Int8CosineIndex.topK: the same rows
;; against the query quantised to int16 (stage1Int8.ts picks its step so no
;; i32 sum can overflow), summed exactly in i32 with i32x4.dot_i16x8_s. It is
;; about twice as fast as int8Dots (no int -> float conversions, half the
;; multiplies), and its error against int8Dots's scores is bounded, so
;; topK rescoring the few rows near the k-th approximate score with int8Dots
;; still returns the exact top-k of the codes. int8AbsSums gives each row's
;; sum of |code| (the bound's per-row factor) when rows are loaded.
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

  ;; out[i] = sum over j < dim of query[j] * codes[i * dim + j]      (i32)
  ;;
  ;; `query` holds dim int16 values; the same preconditions as int8Dots. The
  ;; caller keeps |query[j]| <= floor((2^31 - 1) / (128 * dim)), so every
  ;; partial sum, in any order, is at most 128 * dim * that <= 2^31 - 1 in
  ;; magnitude: the i32 adds never wrap and out[i] is the exact integer.
  ;; Each 16 codes are widened i8 -> i16 in two halves, and each half's 8
  ;; products are added in pairs by i32x4.dot_i16x8_s into its own
  ;; accumulator. (Unrolling to 32 codes a step or two rows sharing the query
  ;; loads measured no faster in V8: the loop is bound by streaming the codes.)
  (func $int16Dots (export "int16Dots")
    (param $codes i32) (param $n i32) (param $dim i32) (param $query i32) (param $out i32)
    (local $i i32) (local $k i32) (local $rowAt i32) (local $q i32)
    (local $v v128) (local $acc0 v128) (local $acc1 v128)

    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $rowAt (i32.add (local.get $codes) (i32.mul (local.get $i) (local.get $dim))))
      (local.set $acc0 (v128.const i32x4 0 0 0 0))
      (local.set $acc1 (v128.const i32x4 0 0 0 0))

      (local.set $k (i32.const 0))
      (loop $dot
        (local.set $v (v128.load align=1 (i32.add (local.get $rowAt) (local.get $k))))
        (local.set $q (i32.add (local.get $query) (i32.shl (local.get $k) (i32.const 1))))
        (local.set $acc0 (i32x4.add (local.get $acc0)
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load offset=0 align=2 (local.get $q)))))
        (local.set $acc1 (i32x4.add (local.get $acc1)
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=16 align=2 (local.get $q)))))
        (br_if $dot (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $dim))))

      (local.set $acc0 (i32x4.add (local.get $acc0) (local.get $acc1)))
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (i32.add
          (i32.add (i32x4.extract_lane 0 (local.get $acc0)) (i32x4.extract_lane 1 (local.get $acc0)))
          (i32.add (i32x4.extract_lane 2 (local.get $acc0)) (i32x4.extract_lane 3 (local.get $acc0)))))

      (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))

  ;; out[i] = sum over j < dim of |codes[i * dim + j]|      (u32)
  ;;
  ;; Same layout and preconditions as int8Dots. i8x16.abs leaves -128 as the
  ;; byte 0x80, which the unsigned pairwise widenings read as 128, so stored
  ;; rows holding -128 still get their true sum. The u32 lanes cannot wrap:
  ;; the total is at most 128 * dim.
  (func $int8AbsSums (export "int8AbsSums")
    (param $codes i32) (param $n i32) (param $dim i32) (param $out i32)
    (local $i i32) (local $k i32) (local $rowAt i32) (local $acc v128)

    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $rowAt (i32.add (local.get $codes) (i32.mul (local.get $i) (local.get $dim))))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $k (i32.const 0))
      (loop $sum
        (local.set $acc (i32x4.add (local.get $acc)
          (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u
            (i8x16.abs (v128.load align=1 (i32.add (local.get $rowAt) (local.get $k))))))))
        (br_if $sum (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $dim))))
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (i32.add
          (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
          (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
      (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
)
