// Stride-2 'same' convolutions that are trainable, and fast, on every tfjs backend.
//
// The wasm backend of tfjs 4.22 has no Conv2DBackpropFilter kernel, its Conv3DBackpropFilterV2 kernel returns
// wrong filter gradients for strides > 1 (checked against the cpu backend), and its Conv2DBackpropInput kernel
// (conv2dTranspose) is a slow scalar loop. On wasm these layers therefore carry a custom gradient built only
// from the fast XNNPACK conv2d and cheap data movement:
//   transposed conv  = s x s stride-1 conv2ds of the input with the parity sub-filters of the flipped filter,
//                      interleaved ("sub-pixel"; equal to a stride-1 conv of the zero-dilated input);
//   filter gradient  = one dilated conv2d with channels and batch swapped (x as [C, H, W, B], dy as the filter).
// Other backends use tf's own ops and gradients.
import * as tf from '@tensorflow/tfjs';

/** TensorFlow's 'same' padding along one axis: [before, after]. */
export function samePadding(inSize: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * dL/dfilter of y = conv2d(x, filter, stride, 'same') given dy: [k, k, C, O].
 *   dW[i, j, c, o] = sum_{b, p, q} xpad[b, s p + i, s q + j, c] dy[b, p, q, o]
 * which is a stride-1 conv2d with dilation s of xpad seen as [C, H, W, B] by dy seen as a [oh, ow, B, O] filter.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const [, oh, ow] = dy.shape;
    const [pt, pb] = samePadding(H, k, stride);
    const [pl, pr] = samePadding(W, k, stride);
    let xp =
      pt + pb + pl + pr > 0
        ? tf.pad(x, [
            [0, 0],
            [pt, pb],
            [pl, pr],
            [0, 0],
          ])
        : x;
    const needH = stride * (oh - 1) + k;
    const needW = stride * (ow - 1) + k;
    if (xp.shape[1] !== needH || xp.shape[2] !== needW) xp = tf.slice(xp, [0, 0, 0, 0], [B, needH, needW, C]);
    const xt = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const out = tf.conv2d(xt, f, 1, 'valid', 'NHWC', [stride, stride]);
    return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * Put stride - 1 zeros after every pixel along height and width: [B, h, w, C] -> [B, s h, s w, C]
 * (the trailing zeros act as extra bottom/right padding; no slicing needed).
 */
export function zeroDilate(x: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (stride === 1) return x;
  return tf.tidy(() => {
    const [B, h, w, C] = x.shape;
    const zeros = tf.zerosLike(x);
    const cols = tf.reshape(tf.stack([x, ...Array.from({ length: stride - 1 }, () => zeros)], 3), [B, h, w * stride, C]) as tf.Tensor4D;
    const zr = tf.zerosLike(cols);
    return tf.reshape(tf.stack([cols, ...Array.from({ length: stride - 1 }, () => zr)], 2), [B, h * stride, w * stride, C]) as tf.Tensor4D;
  });
}

/**
 * conv2dTranspose(h, filter [k, k, O, C], outShape, stride, 'same') — the adjoint of the 'same' conv from
 * [H, W, O] to h's [ih, iw, C] — as a stride-1 'valid' conv2d of the zero-dilated, padded h with the filter
 * flipped in space and with its channel axes swapped.
 */
export function transposedConvViaConv(
  h: tf.Tensor4D,
  filter: tf.Tensor4D,
  outShape: [number, number, number, number],
  stride: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const k = filter.shape[0];
    const [, H, W] = outShape;
    const [, ih, iw] = h.shape;
    const [pt] = samePadding(H, k, stride);
    const [pl] = samePadding(W, k, stride);
    const top = k - 1 - pt;
    const left = k - 1 - pl;
    // Rows of the dilated input beyond s (ih - 1) + 1 are the trailing zeros, already part of the bottom padding.
    const bottom = H - stride * (ih - 1) - 1 + pt - (stride - 1);
    const right = W - stride * (iw - 1) - 1 + pl - (stride - 1);
    let xd = zeroDilate(h, stride);
    if (bottom < 0 || right < 0)
      xd = tf.slice(xd, [0, 0, 0, 0], [-1, xd.shape[1] + Math.min(0, bottom), xd.shape[2] + Math.min(0, right), -1]);
    const padded =
      top + left + Math.max(0, bottom) + Math.max(0, right) > 0
        ? tf.pad(xd, [
            [0, 0],
            [top, Math.max(0, bottom)],
            [left, Math.max(0, right)],
            [0, 0],
          ])
        : xd;
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(padded as tf.Tensor4D, flipped, 1, 'valid');
  });
}

/**
 * The same transposed conv computed phase by phase ("sub-pixel"): output pixels (s p + a, s q + b) only meet the
 * filter taps of matching parity, so each of the s x s phases is a small stride-1 'valid' conv of h with a
 * sub-filter, and the phases are interleaved with stack + reshape. No multiplications by inserted zeros
 * (a quarter of the work of transposedConvViaConv for stride 2).
 */
export function transposedConvSubPixel(
  h: tf.Tensor4D,
  filter: tf.Tensor4D,
  outShape: [number, number, number, number],
  stride: number,
): tf.Tensor4D {
  if (stride === 1) return transposedConvViaConv(h, filter, outShape, stride);
  return tf.tidy(() => {
    const k = filter.shape[0];
    const [B, H, W, Cout] = outShape;
    const [, ih, iw] = h.shape;
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [k, k, Cin, Cout]
    const axis = (size: number, inSize: number, a: number) => {
      const before = k - 1 - samePadding(size, k, stride)[0];
      const t0 = (((before - a) % stride) + stride) % stride;
      const taps = t0 < k ? Math.ceil((k - t0) / stride) : 0;
      const off = (a + t0 - before) / stride;
      const count = Math.ceil((size - a) / stride);
      const padBefore = Math.max(0, -off);
      const padAfter = Math.max(0, off + count + taps - 2 - (inSize - 1));
      return { t0, taps, count, padBefore, padAfter, start: off + padBefore, len: count + taps - 1 };
    };
    const Pr = Math.ceil(H / stride);
    const Pc = Math.ceil(W / stride);
    const rowsOut: tf.Tensor4D[] = [];
    for (let a = 0; a < stride; a++) {
      const r = axis(H, ih, a);
      const phases: tf.Tensor4D[] = [];
      for (let b = 0; b < stride; b++) {
        const c = axis(W, iw, b);
        let y: tf.Tensor4D;
        if (r.taps === 0 || c.taps === 0 || r.count <= 0 || c.count <= 0)
          y = tf.zeros([B, Math.max(0, r.count), Math.max(0, c.count), Cout]);
        else {
          const sub = tf.stridedSlice(flipped, [r.t0, c.t0, 0, 0], [k, k, flipped.shape[2], Cout], [stride, stride, 1, 1]) as tf.Tensor4D;
          let hp: tf.Tensor4D = h;
          if (r.padBefore + r.padAfter + c.padBefore + c.padAfter > 0)
            hp = tf.pad(h, [
              [0, 0],
              [r.padBefore, r.padAfter],
              [c.padBefore, c.padAfter],
              [0, 0],
            ]);
          if (r.start !== 0 || c.start !== 0 || hp.shape[1] !== r.len || hp.shape[2] !== c.len)
            hp = tf.slice(hp, [0, r.start, c.start, 0], [B, r.len, c.len, hp.shape[3]]);
          y = tf.conv2d(hp, sub, 1, 'valid');
        }
        if (y.shape[1] !== Pr || y.shape[2] !== Pc)
          y = tf.pad(y, [
            [0, 0],
            [0, Pr - y.shape[1]],
            [0, Pc - y.shape[2]],
            [0, 0],
          ]);
        phases.push(y);
      }
      rowsOut.push(tf.reshape(tf.stack(phases, 3), [B, Pr, stride * Pc, Cout]) as tf.Tensor4D);
    }
    let out = tf.reshape(tf.stack(rowsOut, 2), [B, stride * Pr, stride * Pc, Cout]) as tf.Tensor4D;
    if (out.shape[1] !== H || out.shape[2] !== W) out = tf.slice(out, [0, 0, 0, 0], [B, H, W, Cout]);
    return out;
  });
}

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

function needsCustomGrad(): boolean {
  return tf.getBackend() === 'wasm';
}

/** conv2d with stride `stride` and 'same' padding; filter [k, k, C, O]. */
export function conv2dSame(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (!needsCustomGrad()) return tf.conv2d(x, filter, stride, 'same');
  const k = filter.shape[0];
  const f = tf.customGrad(((xi: tf.Tensor, fi: tf.Tensor, save: tf.GradSaveFunc) => {
    const xx = xi as tf.Tensor4D;
    const ff = fi as tf.Tensor4D;
    save([xx, ff]);
    return {
      value: tf.conv2d(xx, ff, stride, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        return [transposedConvSubPixel(d, sf, sx.shape, stride), conv2dFilterGrad(sx, d, k, stride)];
      },
    };
  }) as unknown as CustomGradFn);
  return f(x, filter) as tf.Tensor4D;
}

/** conv2dTranspose to `outShape` with stride `stride` and 'same' padding; filter [k, k, O, C] (tf layout). */
export function conv2dTransposeSame(
  h: tf.Tensor4D,
  filter: tf.Tensor4D,
  outShape: [number, number, number, number],
  stride: number,
): tf.Tensor4D {
  if (!needsCustomGrad()) return tf.conv2dTranspose(h, filter, outShape, stride, 'same');
  const k = filter.shape[0];
  const f = tf.customGrad(((hi: tf.Tensor, fi: tf.Tensor, save: tf.GradSaveFunc) => {
    const hh = hi as tf.Tensor4D;
    const ff = fi as tf.Tensor4D;
    save([hh, ff]);
    return {
      value: transposedConvSubPixel(hh, ff, outShape, stride),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sh, sf] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        // The transposed conv is the adjoint of y' = conv2d(Y, filter): dh = conv2d(dy, filter); dfilter = patches(dy)^T h.
        return [tf.conv2d(d, sf, stride, 'same'), conv2dFilterGrad(d, sh, k, stride)];
      },
    };
  }) as unknown as CustomGradFn);
  return f(h, filter) as tf.Tensor4D;
}
