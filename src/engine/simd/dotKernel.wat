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
;; dotsSparse: the same products with b's zeros skipped, for maps that are
;; mostly zeros (FaceRes's post-ReLU 7x7x1024 map is ~90% zeros, so the dense
;; kernel spends ~90% of stage 2's multiply-adds on them):
;;
;;   out[i * ldo + j] = sum over t < c with b[j * c + t] != 0 of at[t * lda + i] * b[j * c + t]
;;
;; `at` is a transposed: row t holds value t of every row i of a, lda floats
;; per row (a multiple of 4, >= na; the lanes past na are computed, never
;; stored). Each row j of b is first listed as (address of row t of at, value)
;; pairs in `list` (8 bytes a nonzero, c pairs at most), then every nonzero adds
;; value x row t of at to 16 outputs at a time: 4 accumulators of 4 lanes stay in
;; registers, one splat and 4 loads per nonzero, and a block of fewer than 16
;; left at the end goes 4 at a time. Each output is a plain sequential float32
;; sum over t ascending (each product rounded, then each sum), the order
;; dotWorkspace.ts's JS loop follows, so both give the same bits. The sum over
;; no nonzero is 0.
  (func $dotsSparse (export "dotsSparse")
    (param $at i32) (param $lda i32) (param $na i32) (param $b i32) (param $nb i32) (param $c i32) (param $out i32) (param $ldo i32) (param $list i32)
    (local $j i32) (local $t i32) (local $rowAt i32) (local $value f32) (local $listEnd i32) (local $blockBytes i32)
    (local.set $blockBytes (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $j (i32.const 0))
    (loop $cols
      ;; list row j's nonzeros
      (local.set $rowAt (i32.add (local.get $b) (i32.shl (i32.mul (local.get $j) (local.get $c)) (i32.const 2))))
      (local.set $listEnd (local.get $list))
      (local.set $t (i32.const 0))
      (loop $scan
        (local.set $value (f32.load (i32.add (local.get $rowAt) (i32.shl (local.get $t) (i32.const 2)))))
        (if (f32.ne (local.get $value) (f32.const 0))
          (then
            (i32.store (local.get $listEnd) (i32.add (local.get $at) (i32.mul (local.get $t) (local.get $blockBytes))))
            (f32.store offset=4 (local.get $listEnd) (local.get $value))
            (local.set $listEnd (i32.add (local.get $listEnd) (i32.const 8)))))
        (br_if $scan (i32.lt_s (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $c))))

      (call $sumList (local.get $list) (local.get $listEnd) (local.get $blockBytes) (local.get $na) (local.get $out) (local.get $ldo) (local.get $j))
      (br_if $cols (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $nb)))))

  ;; Column j of dotsSparse's output from a listed row: every (address, value) pair of list..listEnd adds value x the
  ;; lda floats at address to the sums (blockBytes = 4 lda), 16 outputs at a time.
  (func $sumList (param $list i32) (param $listEnd i32) (param $blockBytes i32) (param $na i32) (param $out i32) (param $ldo i32) (param $j i32)
    (local $o i32) (local $e i32) (local $address i32) (local $x v128)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    ;; 16 outputs at a time
    (local.set $o (i32.const 0))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.gt_s (i32.add (local.get $o) (i32.const 64)) (local.get $blockBytes)))
        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $acc1 (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (local.set $acc3 (v128.const i32x4 0 0 0 0))
        (local.set $e (local.get $list))
        (block $sumDone
          (loop $sum
            (br_if $sumDone (i32.ge_u (local.get $e) (local.get $listEnd)))
            (local.set $address (i32.add (i32.load (local.get $e)) (local.get $o)))
            (local.set $x (f32x4.splat (f32.load offset=4 (local.get $e))))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (v128.load align=4 (local.get $address)) (local.get $x))))
            (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (v128.load offset=16 align=4 (local.get $address)) (local.get $x))))
            (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (v128.load offset=32 align=4 (local.get $address)) (local.get $x))))
            (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (v128.load offset=48 align=4 (local.get $address)) (local.get $x))))
            (local.set $e (i32.add (local.get $e) (i32.const 8)))
            (br $sum)))
        (call $storeLanes (local.get $acc0) (i32.shr_u (local.get $o) (i32.const 2)) (local.get $na) (local.get $out) (local.get $ldo) (local.get $j))
        (call $storeLanes (local.get $acc1) (i32.add (i32.shr_u (local.get $o) (i32.const 2)) (i32.const 4)) (local.get $na) (local.get $out) (local.get $ldo) (local.get $j))
        (call $storeLanes (local.get $acc2) (i32.add (i32.shr_u (local.get $o) (i32.const 2)) (i32.const 8)) (local.get $na) (local.get $out) (local.get $ldo) (local.get $j))
        (call $storeLanes (local.get $acc3) (i32.add (i32.shr_u (local.get $o) (i32.const 2)) (i32.const 12)) (local.get $na) (local.get $out) (local.get $ldo) (local.get $j))
        (local.set $o (i32.add (local.get $o) (i32.const 64)))
        (br $blocks)))

    ;; the rest, 4 outputs at a time
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_s (local.get $o) (local.get $blockBytes)))
        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $e (local.get $list))
        (block $sumDone
          (loop $sum
            (br_if $sumDone (i32.ge_u (local.get $e) (local.get $listEnd)))
            (local.set $address (i32.add (i32.load (local.get $e)) (local.get $o)))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (v128.load align=4 (local.get $address)) (f32x4.splat (f32.load offset=4 (local.get $e))))))
            (local.set $e (i32.add (local.get $e) (i32.const 8)))
            (br $sum)))
        (call $storeLanes (local.get $acc0) (i32.shr_u (local.get $o) (i32.const 2)) (local.get $na) (local.get $out) (local.get $ldo) (local.get $j))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $rest))))

  ;; out[i * ldo + j] = lane i - i0 of $v, for the lanes with i < na
  (func $storeLanes (param $v v128) (param $i0 i32) (param $na i32) (param $out i32) (param $ldo i32) (param $j i32)
    (local $at i32) (local $step i32)
    (local.set $step (i32.shl (local.get $ldo) (i32.const 2)))
    (local.set $at (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $ldo)) (local.get $j)) (i32.const 2))))
    (if (i32.lt_s (local.get $i0) (local.get $na)) (then (f32.store (local.get $at) (f32x4.extract_lane 0 (local.get $v)))))
    (local.set $at (i32.add (local.get $at) (local.get $step)))
    (if (i32.lt_s (i32.add (local.get $i0) (i32.const 1)) (local.get $na)) (then (f32.store (local.get $at) (f32x4.extract_lane 1 (local.get $v)))))
    (local.set $at (i32.add (local.get $at) (local.get $step)))
    (if (i32.lt_s (i32.add (local.get $i0) (i32.const 2)) (local.get $na)) (then (f32.store (local.get $at) (f32x4.extract_lane 2 (local.get $v)))))
    (local.set $at (i32.add (local.get $at) (local.get $step)))
    (if (i32.lt_s (i32.add (local.get $i0) (i32.const 3)) (local.get $na)) (then (f32.store (local.get $at) (f32x4.extract_lane 3 (local.get $v))))))

  ;; ---- Stored patch maps (src/engine/quant/patchCodec.ts) ----
  ;;
  ;; Stage 2 reads its k = 100 candidates' maps from disk every query, stored
  ;; as 8-bit codes with a scale per patch, sparse patches as a bitmap of the
  ;; nonzero channels (FaceRes's map: ~5,300 nonzeros of 50,176 values). The
  ;; arithmetic is patchCodec.ts's JS decoder's, operation for operation:
  ;;   value = f32(code * scale); norm_p = sqrt(sum of value^2 in f64, in order)
  ;;   unit = f32(value * (1 / max(norm_p, floor))); sums[channel] += value (f64)
  ;; so every output is the JS decoder's bit for bit (tests/unit/engine/quant/
  ;; unitDecodeKernel.test.ts). Callers have checked the layout (patchCodec's
  ;; walkLayout: every patch's offset, flags, scale and length) and pass byte
  ;; offsets into this memory. Not SIMD: the work is a scatter of bytes to
  ;; channels picked by a bitmap; i32.ctz finds each set bit.

  ;; The sum of squares of the values $patchValues listed last (f64, in channel order).
  (global $patchSquares (mut f64) (f64.const 0))

  ;; The nonzero values of the patch whose flags byte is at $at, lowest channel
  ;; first: value into $values, its channel into $channels (c slots each).
  ;; Returns how many; a patch of scale 0 (all zero) has none.
  (func $patchValues (param $at i32) (param $c i32) (param $bitmapBytes i32) (param $values i32) (param $channels i32) (result i32)
    (local $flags i32) (local $scale f32) (local $signed i32) (local $n i32) (local $b i32) (local $bits i32)
    (local $codeAt i32) (local $code i32) (local $t i32) (local $v f32) (local $vd f64) (local $ss f64)
    (global.set $patchSquares (f64.const 0))
    (local.set $flags (i32.load8_u (local.get $at)))
    (local.set $scale (f32.load offset=1 align=1 (local.get $at)))
    (local.set $at (i32.add (local.get $at) (i32.const 5)))
    (if (f32.eq (local.get $scale) (f32.const 0)) (then (return (i32.const 0))))
    (local.set $signed (i32.and (local.get $flags) (i32.const 2)))
    (if (i32.and (local.get $flags) (i32.const 1))
      (then
        ;; sparse: bitmap bytes, then one code per set bit, lowest channel first
        (local.set $codeAt (i32.add (local.get $at) (local.get $bitmapBytes)))
        (local.set $b (i32.const 0))
        (block $bitmapDone
          (loop $byte
            (br_if $bitmapDone (i32.ge_u (local.get $b) (local.get $bitmapBytes)))
            (local.set $bits (i32.load8_u (i32.add (local.get $at) (local.get $b))))
            (block $bitsDone
              (loop $bit
                (br_if $bitsDone (i32.eqz (local.get $bits)))
                (local.set $t (i32.add (i32.shl (local.get $b) (i32.const 3)) (i32.ctz (local.get $bits))))
                (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
                (local.set $code
                  (if (result i32) (local.get $signed)
                    (then (i32.load8_s (local.get $codeAt)))
                    (else (i32.load8_u (local.get $codeAt)))))
                (local.set $codeAt (i32.add (local.get $codeAt) (i32.const 1)))
                (local.set $v (f32.mul (f32.convert_i32_s (local.get $code)) (local.get $scale)))
                (local.set $vd (f64.promote_f32 (local.get $v)))
                (local.set $ss (f64.add (local.get $ss) (f64.mul (local.get $vd) (local.get $vd))))
                (i32.store (i32.add (local.get $channels) (i32.shl (local.get $n) (i32.const 2))) (local.get $t))
                (f32.store (i32.add (local.get $values) (i32.shl (local.get $n) (i32.const 2))) (local.get $v))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (br $bit)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $byte))))
      (else
        ;; dense: c codes; zero codes are skipped as the JS loop skips zero values
        (local.set $t (i32.const 0))
        (block $denseDone
          (loop $dense
            (br_if $denseDone (i32.ge_u (local.get $t) (local.get $c)))
            (local.set $code
              (if (result i32) (local.get $signed)
                (then (i32.load8_s (i32.add (local.get $at) (local.get $t))))
                (else (i32.load8_u (i32.add (local.get $at) (local.get $t))))))
            (if (local.get $code)
              (then
                (local.set $v (f32.mul (f32.convert_i32_s (local.get $code)) (local.get $scale)))
                (local.set $vd (f64.promote_f32 (local.get $v)))
                (local.set $ss (f64.add (local.get $ss) (f64.mul (local.get $vd) (local.get $vd))))
                (i32.store (i32.add (local.get $channels) (i32.shl (local.get $n) (i32.const 2))) (local.get $t))
                (f32.store (i32.add (local.get $values) (i32.shl (local.get $n) (i32.const 2))) (local.get $v))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $dense)))))
    (global.set $patchSquares (local.get $ss))
    (local.get $n))

  ;; decodeUnit: a stored map into unit patch rows, patch norms and per-channel
  ;; sums, the second pass of patchCodec.ts's decodePatchMapUnit. $starts: i32
  ;; offset (from $src) of each patch's flags byte; $unit, $norms and $sums
  ;; zeroed by the caller; $values / $channels: scratch for one patch (c each).
  (func $decodeUnit (export "decodeUnit")
    (param $src i32) (param $starts i32) (param $patches i32) (param $c i32) (param $bitmapBytes i32)
    (param $unit i32) (param $norms i32) (param $sums i32) (param $values i32) (param $channels i32) (param $floor f64)
    (local $p i32) (local $n i32) (local $i i32) (local $norm f64) (local $inv f64) (local $vd f64)
    (local $rowAt i32) (local $ch i32) (local $sumAt i32)
    (local.set $p (i32.const 0))
    (block $patchesDone
      (loop $patch
        (br_if $patchesDone (i32.ge_u (local.get $p) (local.get $patches)))
        (local.set $n (call $patchValues (i32.add (local.get $src) (i32.load (i32.add (local.get $starts) (i32.shl (local.get $p) (i32.const 2)))))
          (local.get $c) (local.get $bitmapBytes) (local.get $values) (local.get $channels)))
        (if (local.get $n)
          (then
            (local.set $norm (f64.sqrt (global.get $patchSquares)))
            (f32.store (i32.add (local.get $norms) (i32.shl (local.get $p) (i32.const 2))) (f32.demote_f64 (local.get $norm)))
            (local.set $inv (f64.div (f64.const 1) (f64.max (local.get $norm) (local.get $floor))))
            (local.set $rowAt (i32.add (local.get $unit) (i32.shl (i32.mul (local.get $p) (local.get $c)) (i32.const 2))))
            (local.set $i (i32.const 0))
            (block $scatterDone
              (loop $scatter
                (br_if $scatterDone (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $ch (i32.load (i32.add (local.get $channels) (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $vd (f64.promote_f32 (f32.load (i32.add (local.get $values) (i32.shl (local.get $i) (i32.const 2))))))
                (f32.store (i32.add (local.get $rowAt) (i32.shl (local.get $ch) (i32.const 2))) (f32.demote_f64 (f64.mul (local.get $vd) (local.get $inv))))
                (local.set $sumAt (i32.add (local.get $sums) (i32.shl (local.get $ch) (i32.const 3))))
                (f64.store (local.get $sumAt) (f64.add (f64.load (local.get $sumAt)) (local.get $vd)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $scatter)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $patch))))

  ;; costsEncoded: dotsSparse's products with b given as a stored map rather
  ;; than decoded rows,
  ;;   out[i * ldo + j] = sum over t with unit_j[t] != 0 of at[t * lda + i] * unit_j[t]
  ;; where unit_j is patch j of the map as decodeUnit would write it, and the
  ;; per-channel sums of the values into $sums (zeroed by the caller), as
  ;; decodeUnit's. Each patch is listed straight from its codes, so the 200 kB
  ;; of unit rows decodeUnit writes (and dotsSparse then scans) are never
  ;; written: per candidate that was a zeroing, the scatter, two copies and a
  ;; scan of 50,176 floats, against ~5,300 nonzeros listed here. The list has
  ;; the same pairs in the same order as dotsSparse's on the decoded rows, and
  ;; $sumList adds them as there, so every output has the same bits.
  (func $costsEncoded (export "costsEncoded")
    (param $src i32) (param $starts i32) (param $patches i32) (param $c i32) (param $bitmapBytes i32)
    (param $at i32) (param $lda i32) (param $na i32) (param $out i32) (param $ldo i32)
    (param $list i32) (param $values i32) (param $channels i32) (param $sums i32) (param $floor f64)
    (local $p i32) (local $n i32) (local $i i32) (local $ch i32) (local $vd f64) (local $inv f64) (local $unit f32)
    (local $listEnd i32) (local $blockBytes i32) (local $sumAt i32)
    (local.set $blockBytes (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $p (i32.const 0))
    (block $patchesDone
      (loop $patch
        (br_if $patchesDone (i32.ge_u (local.get $p) (local.get $patches)))
        (local.set $n (call $patchValues (i32.add (local.get $src) (i32.load (i32.add (local.get $starts) (i32.shl (local.get $p) (i32.const 2)))))
          (local.get $c) (local.get $bitmapBytes) (local.get $values) (local.get $channels)))
        (local.set $inv (f64.div (f64.const 1) (f64.max (f64.sqrt (global.get $patchSquares)) (local.get $floor))))
        (local.set $listEnd (local.get $list))
        (local.set $i (i32.const 0))
        (block $listed
          (loop $entry
            (br_if $listed (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $ch (i32.load (i32.add (local.get $channels) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $vd (f64.promote_f32 (f32.load (i32.add (local.get $values) (i32.shl (local.get $i) (i32.const 2))))))
            (local.set $sumAt (i32.add (local.get $sums) (i32.shl (local.get $ch) (i32.const 3))))
            (f64.store (local.get $sumAt) (f64.add (f64.load (local.get $sumAt)) (local.get $vd)))
            (local.set $unit (f32.demote_f64 (f64.mul (local.get $vd) (local.get $inv))))
            ;; dotsSparse lists the decoded row's nonzeros; a value that underflows to 0 is not one
            (if (f32.ne (local.get $unit) (f32.const 0))
              (then
                (i32.store (local.get $listEnd) (i32.add (local.get $at) (i32.mul (local.get $ch) (local.get $blockBytes))))
                (f32.store offset=4 (local.get $listEnd) (local.get $unit))
                (local.set $listEnd (i32.add (local.get $listEnd) (i32.const 8)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $entry)))
        (call $sumList (local.get $list) (local.get $listEnd) (local.get $blockBytes) (local.get $na) (local.get $out) (local.get $ldo) (local.get $p))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $patch))))

  ;; poolEncoded: the pooling sums of a stored map for a coarser grid. Each
  ;; value is taken as the raw map rawMapOf (src/engine/faceDetails.ts)
  ;; rebuilds from decodeUnit's rows, f32(unit * f32(norm)), and added (f64)
  ;; into the sums of every cell whose bins hold its patch, patches in
  ;; ascending order as patchGrid.ts's adaptiveAvgPool adds them (zeros add
  ;; nothing there either), so each sum has the same bits. Also the
  ;; per-channel sums of the decoded values, as decodeUnit's. $cells: 4 i32 per
  ;; patch, the cells it falls in (-1 for none); $acc: cells x c f64 and
  ;; $sums: c f64, both zeroed by the caller.
  (func $poolEncoded (export "poolEncoded")
    (param $src i32) (param $starts i32) (param $patches i32) (param $c i32) (param $bitmapBytes i32)
    (param $cells i32) (param $acc i32) (param $sums i32) (param $values i32) (param $channels i32) (param $floor f64)
    (local $p i32) (local $n i32) (local $i i32) (local $k i32) (local $cell i32) (local $ch i32)
    (local $vd f64) (local $norm f64) (local $normF f64) (local $inv f64) (local $raw f64) (local $at i32)
    (local.set $p (i32.const 0))
    (block $patchesDone
      (loop $patch
        (br_if $patchesDone (i32.ge_u (local.get $p) (local.get $patches)))
        (local.set $n (call $patchValues (i32.add (local.get $src) (i32.load (i32.add (local.get $starts) (i32.shl (local.get $p) (i32.const 2)))))
          (local.get $c) (local.get $bitmapBytes) (local.get $values) (local.get $channels)))
        (local.set $norm (f64.sqrt (global.get $patchSquares)))
        (local.set $normF (f64.promote_f32 (f32.demote_f64 (local.get $norm))))
        (local.set $inv (f64.div (f64.const 1) (f64.max (local.get $norm) (local.get $floor))))
        (local.set $i (i32.const 0))
        (block $valuesDone
          (loop $value
            (br_if $valuesDone (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $ch (i32.load (i32.add (local.get $channels) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $vd (f64.promote_f32 (f32.load (i32.add (local.get $values) (i32.shl (local.get $i) (i32.const 2))))))
            (local.set $at (i32.add (local.get $sums) (i32.shl (local.get $ch) (i32.const 3))))
            (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (local.get $vd)))
            ;; unit = f32(value * inv), then raw = f32(unit * f32(norm))
            (local.set $raw (f64.promote_f32 (f32.demote_f64 (f64.mul (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $vd) (local.get $inv)))) (local.get $normF)))))
            (local.set $k (i32.const 0))
            (loop $cellsOfPatch
              (local.set $cell (i32.load (i32.add (local.get $cells) (i32.shl (i32.add (i32.shl (local.get $p) (i32.const 2)) (local.get $k)) (i32.const 2)))))
              (if (i32.ge_s (local.get $cell) (i32.const 0))
                (then
                  (local.set $at (i32.add (local.get $acc) (i32.shl (i32.add (i32.mul (local.get $cell) (local.get $c)) (local.get $ch)) (i32.const 3))))
                  (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (local.get $raw)))))
              (br_if $cellsOfPatch (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 4))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $value)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $patch))))
)
