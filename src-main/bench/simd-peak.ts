// The limits under the GEMM, measured: the core's clock (a chain of dependent i32 adds, one cycle each) and what
// independent f32x4 mul and add chains reach with nothing loaded or stored, in one process with CPU time. wasm SIMD
// is 128 bits wide: with two multiply and two add pipes (AMD Zen 5) a core does at most 16 flops a cycle in wasm,
// against 64 for native AVX-512 code (two 512-bit FMA pipes), which is what PyTorch's OpenBLAS runs.

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const CHAIN = 32; // dependent adds per iteration of the clock loop
const MULS = 7; // independent f32x4.mul chains per iteration (7 + 6 measured best here; 16 would spill registers)
const ADDS = 6; // independent f32x4.add chains per iteration

/** Two functions: clock(iters, y) -> i32 and simd(iters) -> f32 (a lane of the result, so nothing is dead). */
function peakModuleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...leb128(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, ...leb128(body.length), ...body];
  const [I32, F32, V128] = [0x7f, 0x7d, 0x7b];
  const simd = (op: number) => [0xfd, ...leb128(op)];
  const f32x4 = (v: number) => [...simd(0x0c), ...Array.from(new Uint8Array(new Float32Array([v, v, v, v]).buffer))];
  const loop = (counter: number, body: number[]) => [
    0x02,
    0x40,
    0x03,
    0x40,
    0x20,
    counter,
    0x45,
    0x0d,
    0x01,
    ...body,
    0x20,
    counter,
    0x41,
    0x01,
    0x6b,
    0x21,
    counter,
    0x0c,
    0x00,
    0x0b,
    0x0b,
  ];
  // clock(iters: 0, y: 1) locals x: 2
  const chain: number[] = [];
  for (let i = 0; i < CHAIN; i++) chain.push(0x20, 2, 0x20, 1, 0x6a, 0x21, 2);
  const clock = [0x01, 0x01, I32, ...loop(0, chain), 0x20, 2, 0x0b];
  // simd(iters: 0) locals: v128 chains 1..12, then the two constants 13 (mul), 14 (add)
  const n = MULS + ADDS;
  const init: number[] = [];
  for (let i = 0; i < n; i++) init.push(...f32x4(1 + i / 64), 0x21, 1 + i);
  init.push(...f32x4(1.0000001), 0x21, n + 1, ...f32x4(1e-7), 0x21, n + 2);
  const body: number[] = [];
  for (let i = 0; i < MULS; i++) body.push(0x20, 1 + i, 0x20, n + 1, ...simd(0xe6), 0x21, 1 + i);
  for (let i = 0; i < ADDS; i++) body.push(0x20, 1 + MULS + i, 0x20, n + 2, ...simd(0xe4), 0x21, 1 + MULS + i);
  const sum: number[] = [0x20, 1];
  for (let i = 1; i < n; i++) sum.push(0x20, 1 + i, ...simd(0xe4));
  const simdFn = [0x01, n + 2, V128, ...init, ...loop(0, body), ...sum, ...simd(0x1f), 0x00, 0x0b];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x02, 0x60, 0x02, I32, I32, 0x01, I32, 0x60, 0x01, I32, 0x01, F32]),
    ...section(3, [0x02, 0x00, 0x01]),
    ...section(7, [0x02, ...name('clock'), 0x00, 0x00, ...name('simd'), 0x00, 0x01]),
    ...section(10, [0x02, ...leb128(clock.length), ...clock, ...leb128(simdFn.length), ...simdFn]),
  ]);
}

export interface SimdPeak {
  /** Estimated core clock, GHz (dependent i32 adds per CPU second). */
  clockGHz: number;
  /** f32x4 mul + add throughput without memory, GFLOP/s (4 flops per instruction). */
  simdGflops: number;
  /** simdGflops / clockGHz. */
  flopsPerCycle: number;
  /** 16 flops a cycle (2 f32x4.mul + 2 f32x4.add) at the measured clock: the limit of any wasm SIMD GEMM here. */
  wasmLimitGflops: number;
  /** 64 flops a cycle (2 AVX-512 FMA) at the measured clock: the limit of native code on this core. */
  nativeLimitGflops: number;
}

const cpuSeconds = (f: () => void): number => {
  const t0 = process.cpuUsage();
  f();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
};

/** Medians over `rounds` rounds of ~0.1 s each. */
export function measureSimdPeak(rounds = 7): SimdPeak {
  const ex = new WebAssembly.Instance(new WebAssembly.Module(peakModuleBytes())).exports;
  const clock = ex.clock as (iters: number, y: number) => number;
  const simd = ex.simd as (iters: number) => number;
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  clock(1e5, 3);
  simd(1e5);
  const hz: number[] = [];
  const flops: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const iters = 1e7;
    hz.push((iters * CHAIN) / cpuSeconds(() => clock(iters, 3)));
    flops.push((iters * (MULS + ADDS) * 4) / cpuSeconds(() => simd(iters)));
  }
  const clockGHz = med(hz) / 1e9;
  const simdGflops = med(flops) / 1e9;
  return { clockGHz, simdGflops, flopsPerCycle: simdGflops / clockGHz, wasmLimitGflops: 16 * clockGHz, nativeLimitGflops: 64 * clockGHz };
}
