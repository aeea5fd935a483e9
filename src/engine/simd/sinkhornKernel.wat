;; The rounds of the reference Sinkhorn loop (the authors' utils/emd.py, in
;; their orientation; see sinkhornCpu.ts) in float64 with WebAssembly SIMD
;; (f64x2), bit for bit what the JS loop in sinkhornCpu.ts computes.
;;
;; Each round, with K the n x m kernel (row i = query patch, column j =
;; gallery patch), a the query scaling and b the gallery scaling:
;;   t_j = sum over i (in order, skipping a_i = 0) of K_ij * a_i
;;   b_j = v_j / t_j;  change = sum over j of |b_j(new) - b_j(old)|
;;   s_i = sum over j (in order) of K_ij * b_j
;;   a_i = u_i / s_i
;; stopping after the round where change / m < threshold, or after maxIter.
;;
;; Why this shape: on FaceRes's sparse maps the stopping rule runs a median
;; of 23 rounds (10-71), so for k = 100 a query spends ~11 M multiply-adds
;; in these rounds, most of the reference transport's time in JS. Both sums
;; run two columns (or two rows) at once, and each lane adds its terms in the
;; same order as the JS loop (t_j over i; s_i over j, which is why the row
;; sums read K transposed: lanes are then neighbouring i), with no fused
;; multiply-add, so every rounding is the JS loop's and the results are
;; identical, not merely close. Rows are padded to an even length (nS, mS)
;; with zeros so the lanes need no tail loop; padded lanes are never read
;; back (a_i and b_j are written for i < n and j < m only).
;;
;; Memory (byte offsets, float64, 16-byte aligned regions):
;;   kern:  n rows of mS (K, zero-padded)      kernT: m rows of nS (K transposed)
;;   a: nS (query scaling)  b: mS (gallery scaling; the padding 0)
;;   t: mS and s: nS (the sums)  u: n (query weights)  v: m (gallery weights)
;; The caller sets a = b = 1 on entry (b's padding 0).
;;
;; Assembled by scripts/assembleWat.ts into sinkhornKernel.generated.ts.

(module
  (memory (export "memory") 1)

  (func $referenceRounds (export "referenceRounds")
    (param $kern i32) (param $kernT i32) (param $a i32) (param $b i32) (param $t i32) (param $s i32)
    (param $u i32) (param $v i32) (param $n i32) (param $m i32) (param $nS i32) (param $mS i32)
    (param $maxIter i32) (param $threshold f64) (result i32)
    (local $it i32) (local $i i32) (local $j i32) (local $x i32) (local $row i32)
    (local $tEnd i32) (local $sEnd i32)
    (local $ai f64) (local $next f64) (local $change f64)
    (local $scale v128)

    (local.set $tEnd (i32.add (local.get $t) (i32.shl (local.get $mS) (i32.const 3))))
    (local.set $sEnd (i32.add (local.get $s) (i32.shl (local.get $nS) (i32.const 3))))
    (local.set $it (i32.const 0))
    (block $done
      (loop $round
        (br_if $done (i32.ge_s (local.get $it) (local.get $maxIter)))
        (local.set $it (i32.add (local.get $it) (i32.const 1)))

        ;; t = 0, then t += K_i * a_i row by row
        (local.set $x (local.get $t))
        (loop $zeroT
          (v128.store (local.get $x) (v128.const i64x2 0 0))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (br_if $zeroT (i32.lt_u (local.get $x) (local.get $tEnd))))
        (local.set $i (i32.const 0))
        (loop $columnSums
          (local.set $ai (f64.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 3)))))
          (if (f64.ne (local.get $ai) (f64.const 0))
            (then
              (local.set $scale (f64x2.splat (local.get $ai)))
              (local.set $row (i32.add (local.get $kern) (i32.shl (i32.mul (local.get $i) (local.get $mS)) (i32.const 3))))
              (local.set $x (local.get $t))
              (loop $columnLanes
                (v128.store (local.get $x)
                  (f64x2.add (v128.load (local.get $x)) (f64x2.mul (v128.load (local.get $row)) (local.get $scale))))
                (local.set $x (i32.add (local.get $x) (i32.const 16)))
                (local.set $row (i32.add (local.get $row) (i32.const 16)))
                (br_if $columnLanes (i32.lt_u (local.get $x) (local.get $tEnd))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $columnSums (i32.lt_s (local.get $i) (local.get $n))))

        ;; the gallery side first (their r), with the stop test's change
        (local.set $change (f64.const 0))
        (local.set $j (i32.const 0))
        (loop $gallery
          (local.set $x (i32.shl (local.get $j) (i32.const 3)))
          (local.set $next
            (f64.div (f64.load (i32.add (local.get $v) (local.get $x))) (f64.load (i32.add (local.get $t) (local.get $x)))))
          (local.set $change
            (f64.add (local.get $change)
              (f64.abs (f64.sub (local.get $next) (f64.load (i32.add (local.get $b) (local.get $x)))))))
          (f64.store (i32.add (local.get $b) (local.get $x)) (local.get $next))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $gallery (i32.lt_s (local.get $j) (local.get $m))))

        ;; s = 0, then s += K^T_j * b_j column by column
        (local.set $x (local.get $s))
        (loop $zeroS
          (v128.store (local.get $x) (v128.const i64x2 0 0))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (br_if $zeroS (i32.lt_u (local.get $x) (local.get $sEnd))))
        (local.set $j (i32.const 0))
        (loop $rowSums
          (local.set $scale (v128.load64_splat (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 3)))))
          (local.set $row (i32.add (local.get $kernT) (i32.shl (i32.mul (local.get $j) (local.get $nS)) (i32.const 3))))
          (local.set $x (local.get $s))
          (loop $rowLanes
            (v128.store (local.get $x)
              (f64x2.add (v128.load (local.get $x)) (f64x2.mul (v128.load (local.get $row)) (local.get $scale))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $row (i32.add (local.get $row) (i32.const 16)))
            (br_if $rowLanes (i32.lt_u (local.get $x) (local.get $sEnd))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $rowSums (i32.lt_s (local.get $j) (local.get $m))))

        ;; the query side last (their c), so its marginal is exact
        (local.set $i (i32.const 0))
        (loop $query
          (local.set $x (i32.shl (local.get $i) (i32.const 3)))
          (f64.store (i32.add (local.get $a) (local.get $x))
            (f64.div (f64.load (i32.add (local.get $u) (local.get $x))) (f64.load (i32.add (local.get $s) (local.get $x)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $query (i32.lt_s (local.get $i) (local.get $n))))

        (br_if $done (f64.lt (f64.div (local.get $change) (f64.convert_i32_s (local.get $m))) (local.get $threshold)))
        (br $round)))
    (local.get $it))
)
