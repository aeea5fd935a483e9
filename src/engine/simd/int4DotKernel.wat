;; Stage-1 first pass over 4-bit gallery rows with WebAssembly SIMD:
;;
;;   out[i] = sum over j < dim of query[j] * nibble_ij      (i32, exact)
;;
;; for i < n, where nibble_ij in [0, 15] is the stored 4-bit code of value j
;; of row i (the code plus 8: src/engine/quant/int4Rows.ts). `codes` (dim / 2
;; bytes a row), `query` (dim int16 values) and `out` (n i32) are byte
;; offsets into this module's own memory; `dim` must be a positive multiple
;; of 32 and n >= 1 (stage1Int4.ts checks both and uses its JS loop
;; otherwise). The caller subtracts 8 * sum(query) and scales afterwards.
;;
;; Why this shape: at a million 1536-D faces the int8 rows are 1.5 GB, more
;; than a tab can hold beside everything else. Four bits a value halve that,
;; and this pass only has to pick a short list: its exact rescoring reads the
;; int8 rows from disk. Each 16 bytes hold 32 values, values 0-15 of the
;; block in the low nibbles and 16-31 in the high ones, so one AND and one
;; shift give two i8x16 vectors in value order, each widened to two i16x8
;; halves and multiplied in pairs by i32x4.dot_i16x8_s. The caller keeps
;; |query[j]| <= floor((2^31 - 1) / (15 * dim)), so no i32 sum can wrap.
;;
;; packInt4Rows makes those rows from stored int8 rows (scale, then codes,
;; `stride` bytes a row, at `src`), as start-up loads a million of them: for
;; each row m = max |code|, then nibble = nearest(f32(code) * ratios[m]) + 8
;; (f32 multiply, ties to even), written to `dst` in the layout above, and m
;; to the i32 at maxes + 4 i. `ratios` holds 129 f32 values, ratios[m] =
;; fround(7 / m) (0 for m = 0), so int4Rows.ts's JS loop, which uses the same
;; table and rounding, writes the same bytes. Sixteen codes at a time; about
;; ten times faster than that loop in V8.
;;
;; Assembled by scripts/assembleWat.ts into int4DotKernel.generated.ts.

(module
  (memory (export "memory") 1)

  (func $int4Dots (export "int4Dots")
    (param $codes i32) (param $n i32) (param $dim i32) (param $query i32) (param $out i32)
    (local $i i32) (local $k i32) (local $rowAt i32) (local $rowBytes i32) (local $q i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $acc0 v128) (local $acc1 v128)

    (local.set $rowBytes (i32.shr_u (local.get $dim) (i32.const 1)))
    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $rowAt (i32.add (local.get $codes) (i32.mul (local.get $i) (local.get $rowBytes))))
      (local.set $acc0 (v128.const i32x4 0 0 0 0))
      (local.set $acc1 (v128.const i32x4 0 0 0 0))

      ;; $k counts bytes: 16 bytes = 32 values = 64 bytes of int16 query.
      (local.set $k (i32.const 0))
      (loop $dot
        (local.set $v (v128.load align=1 (i32.add (local.get $rowAt) (local.get $k))))
        (local.set $lo (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
        (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $q (i32.add (local.get $query) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $acc0 (i32x4.add (local.get $acc0)
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (v128.load offset=0 align=2 (local.get $q)))))
        (local.set $acc1 (i32x4.add (local.get $acc1)
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (v128.load offset=16 align=2 (local.get $q)))))
        (local.set $acc0 (i32x4.add (local.get $acc0)
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (v128.load offset=32 align=2 (local.get $q)))))
        (local.set $acc1 (i32x4.add (local.get $acc1)
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (v128.load offset=48 align=2 (local.get $q)))))
        (br_if $dot (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $rowBytes))))

      (local.set $acc0 (i32x4.add (local.get $acc0) (local.get $acc1)))
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
        (i32.add
          (i32.add (i32x4.extract_lane 0 (local.get $acc0)) (i32x4.extract_lane 1 (local.get $acc0)))
          (i32.add (i32x4.extract_lane 2 (local.get $acc0)) (i32x4.extract_lane 3 (local.get $acc0)))))

      (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))

  ;; Sixteen codes (i8x16, values of one half-block) -> sixteen nibbles (i8x16) at `ratio`.
  (func $nibbles (param $v v128) (param $ratio v128) (result v128)
    (local $w0 v128) (local $w1 v128)
    (local.set $w0 (i16x8.extend_low_i8x16_s (local.get $v)))
    (local.set $w1 (i16x8.extend_high_i8x16_s (local.get $v)))
    (i8x16.add
      (i8x16.narrow_i16x8_s
        (i16x8.narrow_i32x4_s
          (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $w0))) (local.get $ratio))))
          (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $w0))) (local.get $ratio)))))
        (i16x8.narrow_i32x4_s
          (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $w1))) (local.get $ratio))))
          (i32x4.trunc_sat_f32x4_s (f32x4.nearest (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $w1))) (local.get $ratio))))))
      (v128.const i8x16 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8 8)))

  (func $packInt4Rows (export "packInt4Rows")
    (param $src i32) (param $n i32) (param $dim i32) (param $stride i32) (param $dst i32) (param $ratios i32) (param $maxes i32)
    (local $i i32) (local $k i32) (local $rowAt i32) (local $outAt i32) (local $m i32)
    (local $mx v128) (local $ratio v128)

    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $rowAt (i32.add (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $stride))) (i32.const 4)))
      (local.set $outAt (i32.add (local.get $dst) (i32.mul (local.get $i) (i32.shr_u (local.get $dim) (i32.const 1)))))

      ;; m = max |code|: i8x16.abs leaves -128 as 0x80, which max_u reads as 128.
      (local.set $mx (v128.const i32x4 0 0 0 0))
      (local.set $k (i32.const 0))
      (loop $max
        (local.set $mx (i8x16.max_u (local.get $mx) (i8x16.abs (v128.load align=1 (i32.add (local.get $rowAt) (local.get $k))))))
        (br_if $max (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $dim))))
      (local.set $mx (i8x16.max_u (local.get $mx) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $mx) (local.get $mx))))
      (local.set $mx (i8x16.max_u (local.get $mx) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $mx) (local.get $mx))))
      (local.set $mx (i8x16.max_u (local.get $mx) (i8x16.shuffle 2 3 0 1 2 3 0 1 2 3 0 1 2 3 0 1 (local.get $mx) (local.get $mx))))
      (local.set $mx (i8x16.max_u (local.get $mx) (i8x16.shuffle 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 (local.get $mx) (local.get $mx))))
      (local.set $m (i8x16.extract_lane_u 0 (local.get $mx)))
      (i32.store (i32.add (local.get $maxes) (i32.shl (local.get $i) (i32.const 2))) (local.get $m))
      (local.set $ratio (f32x4.splat (f32.load (i32.add (local.get $ratios) (i32.shl (local.get $m) (i32.const 2))))))

      ;; Each block of 32 codes: the first 16 into the low nibbles, the next 16 into the high ones.
      (local.set $k (i32.const 0))
      (loop $blocks
        (v128.store align=1 (i32.add (local.get $outAt) (i32.shr_u (local.get $k) (i32.const 1)))
          (v128.or
            (call $nibbles (v128.load align=1 (i32.add (local.get $rowAt) (local.get $k))) (local.get $ratio))
            (i8x16.shl (call $nibbles (v128.load offset=16 align=1 (i32.add (local.get $rowAt) (local.get $k))) (local.get $ratio)) (i32.const 4))))
        (br_if $blocks (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 32))) (local.get $dim))))

      (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))))
)
