;; Decodes an encoded patch map (src/engine/quant/patchCodec.ts) into unit
;; patch rows, the second pass of decodePatchMapUnit, in WebAssembly:
;;
;;   value = f32(code * scale); norm_p = sqrt(sum of value^2 in f64, in order)
;;   unit[p * c + channel] = f32(value / max(norm_p, floor)) (as value * (1 / max(...)))
;;   sums[channel] += value (f64), for the map's average patch
;;
;; Why: stage 2 decodes every candidate it reads from disk (k = 100 a query).
;; The JS loop spends ~20 ns on each nonzero code of FaceRes's ~5,300 a map,
;; 0.12-0.19 ms a candidate, as much as the candidate's whole cost matrix in
;; SIMD. Here each code is a few instructions.
;;
;; The arithmetic is the JS loop's, operation for operation: code * scale in
;; f32 (exact in f64, so rounding once to f32 is what JS's store into a
;; Float32Array does), squares and sums in f64 in the same order, one f64
;; division for the inverse, each unit value rounded to f32 once. So the
;; output is the JS decoder's bit for bit (tests/unit/engine/quant/
;; unitDecodeKernel.test.ts).
;;
;; The caller has checked the layout (walkLayout: every patch's offset,
;; flags, scale and length), zeroed `unit`, `norms` and `sums`, and passes
;; byte offsets into this module's memory. Not SIMD: the work is a scatter of
;; bytes to channels picked by a bitmap; i32.ctz finds each set bit.
;;
;; Assembled by scripts/assembleWat.ts into unitDecodeKernel.generated.ts.

(module
  (memory (export "memory") 1)

  (func $decodeUnit (export "decodeUnit")
    ;; $starts: i32 offset (from $src) of each patch's flags byte; $values / $channels: scratch for one patch (c each)
    (param $src i32) (param $starts i32) (param $patches i32) (param $c i32) (param $bitmapBytes i32)
    (param $unit i32) (param $norms i32) (param $sums i32) (param $values i32) (param $channels i32) (param $floor f64)
    (local $p i32) (local $at i32) (local $flags i32) (local $scale f32) (local $signed i32)
    (local $n i32) (local $b i32) (local $bits i32) (local $codeAt i32) (local $code i32) (local $t i32)
    (local $v f32) (local $vd f64) (local $ss f64) (local $norm f64) (local $inv f64) (local $i i32)
    (local $rowAt i32) (local $ch i32) (local $sumAt i32)

    (local.set $p (i32.const 0))
    (block $patchesDone
      (loop $patch
        (br_if $patchesDone (i32.ge_u (local.get $p) (local.get $patches)))
        (local.set $at (i32.add (local.get $src) (i32.load (i32.add (local.get $starts) (i32.shl (local.get $p) (i32.const 2))))))
        (local.set $flags (i32.load8_u (local.get $at)))
        (local.set $scale (f32.load offset=1 align=1 (local.get $at)))
        (local.set $at (i32.add (local.get $at) (i32.const 5)))
        (if (f32.ne (local.get $scale) (f32.const 0))
          (then
            (local.set $signed (i32.and (local.get $flags) (i32.const 2)))
            (local.set $n (i32.const 0))
            (local.set $ss (f64.const 0))
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
            (local.set $norm (f64.sqrt (local.get $ss)))
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
        (br $patch)))
  )
)
