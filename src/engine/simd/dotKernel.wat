;; Blocked dot-product kernels with WebAssembly SIMD (f32x4):
;;
;;   out[i * ldo + j] = sum over t < c of a[i * c + t] * b[j * c + t]
;;
;; for i < na, j < nb. `a`, `b` and `out` are byte offsets into this module's
;; own memory; `c` (floats per row) must be a positive multiple of 4, and
;; na, nb >= 1 (dotWorkspace.ts checks both before calling).
;;
;; Why this shape: stage 2 is dominated by these dot products (k = 100 pairs
;; of 49 x 49 x 512 is 123 M multiply-adds per query). Plain JS reaches about
;; 1.7 GMAC/s; SIMD with register blocking about 4x that. Each kernel keeps an
;; R x C block of accumulators in registers, so every vector it loads is used
;; R or C times:
;;   - dots2x4 (2 rows of a x 4 rows of b) measured fastest for 49-row grids:
;;     8 accumulators + 4 column vectors + 1 row vector fit in x64's 16 SIMD
;;     registers;
;;   - dots1x8 serves matrix-vector products (stage 1 with one query), where
;;     streaming b is the bottleneck.
;; A block that runs past the last row re-reads the last row instead (its
;; index is clamped), so it recomputes and rewrites an output that is already
;; right: one code path with no tail loops, at < 7% waste for 49 rows.
;;
;; The blocks are unrolled by hand (WAT has no macros); every accumulator is
;; spelt out so the inner loop is exactly the instructions that run. Rows are
;; only 4-byte aligned, hence `align=4` on the vector loads. Loops are
;; do-while: each body runs once before its exit test.
;;
;; Assembled by scripts/assembleWat.ts into dotKernel.generated.ts.

(module
  (memory (export "memory") 1)

  (func $dots2x4 (export "dots2x4")
    (param $a i32) (param $na i32) (param $b i32) (param $nb i32) (param $c i32) (param $out i32) (param $ldo i32)
    (local $rowBytes i32) (local $lastRow i32) (local $lastCol i32)
    (local $i i32) (local $j i32) (local $k i32)
    ;; row / column indices of the block (clamped) and the byte address of each row
    (local $row0 i32) (local $row1 i32) (local $rowAt0 i32) (local $rowAt1 i32)
    (local $col0 i32) (local $col1 i32) (local $col2 i32) (local $col3 i32)
    (local $colAt0 i32) (local $colAt1 i32) (local $colAt2 i32) (local $colAt3 i32)
    ;; $accRC: partial sums of row R (of a) times column C (of b), 4 lanes each
    (local $acc00 v128) (local $acc01 v128) (local $acc02 v128) (local $acc03 v128)
    (local $acc10 v128) (local $acc11 v128) (local $acc12 v128) (local $acc13 v128)
    ;; the 4 floats at offset k of each block column, and of the current block row
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $y v128)

    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $lastRow (i32.sub (local.get $na) (i32.const 1)))
    (local.set $lastCol (i32.sub (local.get $nb) (i32.const 1)))

    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $row0 (local.get $i))
      (local.set $row1 (i32.add (local.get $i) (i32.const 1)))
      (local.set $row1 (select (local.get $row1) (local.get $lastRow) (i32.lt_s (local.get $row1) (local.get $lastRow))))
      (local.set $rowAt0 (i32.add (local.get $a) (i32.mul (local.get $row0) (local.get $rowBytes))))
      (local.set $rowAt1 (i32.add (local.get $a) (i32.mul (local.get $row1) (local.get $rowBytes))))

      (local.set $j (i32.const 0))
      (loop $cols
        (local.set $col0 (local.get $j))
        (local.set $col1 (i32.add (local.get $j) (i32.const 1)))
        (local.set $col1 (select (local.get $col1) (local.get $lastCol) (i32.lt_s (local.get $col1) (local.get $lastCol))))
        (local.set $col2 (i32.add (local.get $j) (i32.const 2)))
        (local.set $col2 (select (local.get $col2) (local.get $lastCol) (i32.lt_s (local.get $col2) (local.get $lastCol))))
        (local.set $col3 (i32.add (local.get $j) (i32.const 3)))
        (local.set $col3 (select (local.get $col3) (local.get $lastCol) (i32.lt_s (local.get $col3) (local.get $lastCol))))
        (local.set $colAt0 (i32.add (local.get $b) (i32.mul (local.get $col0) (local.get $rowBytes))))
        (local.set $colAt1 (i32.add (local.get $b) (i32.mul (local.get $col1) (local.get $rowBytes))))
        (local.set $colAt2 (i32.add (local.get $b) (i32.mul (local.get $col2) (local.get $rowBytes))))
        (local.set $colAt3 (i32.add (local.get $b) (i32.mul (local.get $col3) (local.get $rowBytes))))

        (local.set $acc00 (v128.const i32x4 0 0 0 0))
        (local.set $acc01 (v128.const i32x4 0 0 0 0))
        (local.set $acc02 (v128.const i32x4 0 0 0 0))
        (local.set $acc03 (v128.const i32x4 0 0 0 0))
        (local.set $acc10 (v128.const i32x4 0 0 0 0))
        (local.set $acc11 (v128.const i32x4 0 0 0 0))
        (local.set $acc12 (v128.const i32x4 0 0 0 0))
        (local.set $acc13 (v128.const i32x4 0 0 0 0))

        (local.set $k (i32.const 0))
        (loop $dot
          (local.set $x0 (v128.load align=4 (i32.add (local.get $colAt0) (local.get $k))))
          (local.set $x1 (v128.load align=4 (i32.add (local.get $colAt1) (local.get $k))))
          (local.set $x2 (v128.load align=4 (i32.add (local.get $colAt2) (local.get $k))))
          (local.set $x3 (v128.load align=4 (i32.add (local.get $colAt3) (local.get $k))))

          (local.set $y (v128.load align=4 (i32.add (local.get $rowAt0) (local.get $k))))
          (local.set $acc00 (f32x4.add (f32x4.mul (local.get $y) (local.get $x0)) (local.get $acc00)))
          (local.set $acc01 (f32x4.add (f32x4.mul (local.get $y) (local.get $x1)) (local.get $acc01)))
          (local.set $acc02 (f32x4.add (f32x4.mul (local.get $y) (local.get $x2)) (local.get $acc02)))
          (local.set $acc03 (f32x4.add (f32x4.mul (local.get $y) (local.get $x3)) (local.get $acc03)))

          (local.set $y (v128.load align=4 (i32.add (local.get $rowAt1) (local.get $k))))
          (local.set $acc10 (f32x4.add (f32x4.mul (local.get $y) (local.get $x0)) (local.get $acc10)))
          (local.set $acc11 (f32x4.add (f32x4.mul (local.get $y) (local.get $x1)) (local.get $acc11)))
          (local.set $acc12 (f32x4.add (f32x4.mul (local.get $y) (local.get $x2)) (local.get $acc12)))
          (local.set $acc13 (f32x4.add (f32x4.mul (local.get $y) (local.get $x3)) (local.get $acc13)))

          (br_if $dot (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $rowBytes))))

        ;; Each output is the sum of its accumulator's lanes, as (l0 + l1) + (l2 + l3).
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row0) (local.get $ldo)) (local.get $col0)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc00)) (f32x4.extract_lane 1 (local.get $acc00)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc00)) (f32x4.extract_lane 3 (local.get $acc00)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row0) (local.get $ldo)) (local.get $col1)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc01)) (f32x4.extract_lane 1 (local.get $acc01)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc01)) (f32x4.extract_lane 3 (local.get $acc01)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row0) (local.get $ldo)) (local.get $col2)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc02)) (f32x4.extract_lane 1 (local.get $acc02)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc02)) (f32x4.extract_lane 3 (local.get $acc02)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row0) (local.get $ldo)) (local.get $col3)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc03)) (f32x4.extract_lane 1 (local.get $acc03)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc03)) (f32x4.extract_lane 3 (local.get $acc03)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row1) (local.get $ldo)) (local.get $col0)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc10)) (f32x4.extract_lane 1 (local.get $acc10)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc10)) (f32x4.extract_lane 3 (local.get $acc10)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row1) (local.get $ldo)) (local.get $col1)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc11)) (f32x4.extract_lane 1 (local.get $acc11)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc11)) (f32x4.extract_lane 3 (local.get $acc11)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row1) (local.get $ldo)) (local.get $col2)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc12)) (f32x4.extract_lane 1 (local.get $acc12)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc12)) (f32x4.extract_lane 3 (local.get $acc12)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $row1) (local.get $ldo)) (local.get $col3)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc13)) (f32x4.extract_lane 1 (local.get $acc13)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc13)) (f32x4.extract_lane 3 (local.get $acc13)))))

        (br_if $cols (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $nb))))

      (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 2))) (local.get $na)))))

  (func $dots1x8 (export "dots1x8")
    (param $a i32) (param $na i32) (param $b i32) (param $nb i32) (param $c i32) (param $out i32) (param $ldo i32)
    (local $rowBytes i32) (local $lastCol i32)
    (local $i i32) (local $j i32) (local $k i32)
    (local $rowAt i32)
    (local $col0 i32) (local $col1 i32) (local $col2 i32) (local $col3 i32)
    (local $col4 i32) (local $col5 i32) (local $col6 i32) (local $col7 i32)
    (local $colAt0 i32) (local $colAt1 i32) (local $colAt2 i32) (local $colAt3 i32)
    (local $colAt4 i32) (local $colAt5 i32) (local $colAt6 i32) (local $colAt7 i32)
    ;; $accC: partial sums of the row times column C, 4 lanes each
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $acc4 v128) (local $acc5 v128) (local $acc6 v128) (local $acc7 v128)
    ;; the 4 floats at offset k of each block column, and of the row
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $x4 v128) (local $x5 v128) (local $x6 v128) (local $x7 v128) (local $y v128)

    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $lastCol (i32.sub (local.get $nb) (i32.const 1)))

    (local.set $i (i32.const 0))
    (loop $rows
      (local.set $rowAt (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))

      (local.set $j (i32.const 0))
      (loop $cols
        (local.set $col0 (local.get $j))
        (local.set $col1 (i32.add (local.get $j) (i32.const 1)))
        (local.set $col1 (select (local.get $col1) (local.get $lastCol) (i32.lt_s (local.get $col1) (local.get $lastCol))))
        (local.set $col2 (i32.add (local.get $j) (i32.const 2)))
        (local.set $col2 (select (local.get $col2) (local.get $lastCol) (i32.lt_s (local.get $col2) (local.get $lastCol))))
        (local.set $col3 (i32.add (local.get $j) (i32.const 3)))
        (local.set $col3 (select (local.get $col3) (local.get $lastCol) (i32.lt_s (local.get $col3) (local.get $lastCol))))
        (local.set $col4 (i32.add (local.get $j) (i32.const 4)))
        (local.set $col4 (select (local.get $col4) (local.get $lastCol) (i32.lt_s (local.get $col4) (local.get $lastCol))))
        (local.set $col5 (i32.add (local.get $j) (i32.const 5)))
        (local.set $col5 (select (local.get $col5) (local.get $lastCol) (i32.lt_s (local.get $col5) (local.get $lastCol))))
        (local.set $col6 (i32.add (local.get $j) (i32.const 6)))
        (local.set $col6 (select (local.get $col6) (local.get $lastCol) (i32.lt_s (local.get $col6) (local.get $lastCol))))
        (local.set $col7 (i32.add (local.get $j) (i32.const 7)))
        (local.set $col7 (select (local.get $col7) (local.get $lastCol) (i32.lt_s (local.get $col7) (local.get $lastCol))))
        (local.set $colAt0 (i32.add (local.get $b) (i32.mul (local.get $col0) (local.get $rowBytes))))
        (local.set $colAt1 (i32.add (local.get $b) (i32.mul (local.get $col1) (local.get $rowBytes))))
        (local.set $colAt2 (i32.add (local.get $b) (i32.mul (local.get $col2) (local.get $rowBytes))))
        (local.set $colAt3 (i32.add (local.get $b) (i32.mul (local.get $col3) (local.get $rowBytes))))
        (local.set $colAt4 (i32.add (local.get $b) (i32.mul (local.get $col4) (local.get $rowBytes))))
        (local.set $colAt5 (i32.add (local.get $b) (i32.mul (local.get $col5) (local.get $rowBytes))))
        (local.set $colAt6 (i32.add (local.get $b) (i32.mul (local.get $col6) (local.get $rowBytes))))
        (local.set $colAt7 (i32.add (local.get $b) (i32.mul (local.get $col7) (local.get $rowBytes))))

        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $acc1 (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (local.set $acc3 (v128.const i32x4 0 0 0 0))
        (local.set $acc4 (v128.const i32x4 0 0 0 0))
        (local.set $acc5 (v128.const i32x4 0 0 0 0))
        (local.set $acc6 (v128.const i32x4 0 0 0 0))
        (local.set $acc7 (v128.const i32x4 0 0 0 0))

        (local.set $k (i32.const 0))
        (loop $dot
          (local.set $x0 (v128.load align=4 (i32.add (local.get $colAt0) (local.get $k))))
          (local.set $x1 (v128.load align=4 (i32.add (local.get $colAt1) (local.get $k))))
          (local.set $x2 (v128.load align=4 (i32.add (local.get $colAt2) (local.get $k))))
          (local.set $x3 (v128.load align=4 (i32.add (local.get $colAt3) (local.get $k))))
          (local.set $x4 (v128.load align=4 (i32.add (local.get $colAt4) (local.get $k))))
          (local.set $x5 (v128.load align=4 (i32.add (local.get $colAt5) (local.get $k))))
          (local.set $x6 (v128.load align=4 (i32.add (local.get $colAt6) (local.get $k))))
          (local.set $x7 (v128.load align=4 (i32.add (local.get $colAt7) (local.get $k))))

          (local.set $y (v128.load align=4 (i32.add (local.get $rowAt) (local.get $k))))
          (local.set $acc0 (f32x4.add (f32x4.mul (local.get $y) (local.get $x0)) (local.get $acc0)))
          (local.set $acc1 (f32x4.add (f32x4.mul (local.get $y) (local.get $x1)) (local.get $acc1)))
          (local.set $acc2 (f32x4.add (f32x4.mul (local.get $y) (local.get $x2)) (local.get $acc2)))
          (local.set $acc3 (f32x4.add (f32x4.mul (local.get $y) (local.get $x3)) (local.get $acc3)))
          (local.set $acc4 (f32x4.add (f32x4.mul (local.get $y) (local.get $x4)) (local.get $acc4)))
          (local.set $acc5 (f32x4.add (f32x4.mul (local.get $y) (local.get $x5)) (local.get $acc5)))
          (local.set $acc6 (f32x4.add (f32x4.mul (local.get $y) (local.get $x6)) (local.get $acc6)))
          (local.set $acc7 (f32x4.add (f32x4.mul (local.get $y) (local.get $x7)) (local.get $acc7)))
          (br_if $dot (i32.lt_s (local.tee $k (i32.add (local.get $k) (i32.const 16))) (local.get $rowBytes))))

        ;; Each output is the sum of its accumulator's lanes, as (l0 + l1) + (l2 + l3).
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col0)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col1)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc1)) (f32x4.extract_lane 1 (local.get $acc1)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc1)) (f32x4.extract_lane 3 (local.get $acc1)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col2)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc2)) (f32x4.extract_lane 1 (local.get $acc2)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc2)) (f32x4.extract_lane 3 (local.get $acc2)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col3)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc3)) (f32x4.extract_lane 1 (local.get $acc3)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc3)) (f32x4.extract_lane 3 (local.get $acc3)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col4)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc4)) (f32x4.extract_lane 1 (local.get $acc4)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc4)) (f32x4.extract_lane 3 (local.get $acc4)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col5)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc5)) (f32x4.extract_lane 1 (local.get $acc5)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc5)) (f32x4.extract_lane 3 (local.get $acc5)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col6)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc6)) (f32x4.extract_lane 1 (local.get $acc6)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc6)) (f32x4.extract_lane 3 (local.get $acc6)))))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldo)) (local.get $col7)) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc7)) (f32x4.extract_lane 1 (local.get $acc7)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc7)) (f32x4.extract_lane 3 (local.get $acc7)))))

        (br_if $cols (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 8))) (local.get $nb))))

      (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $na)))))
)
