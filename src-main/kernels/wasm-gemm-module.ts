// The bytes of our own GEMM as a WebAssembly SIMD module, hand-assembled here so that the build needs no toolchain.
//
// C[m, n] = op(A)[m, k] · op(B)[k, n] (+ bias along n, then relu if asked), every operand addressed through byte
// strides, so a transposed A costs nothing and a transposed B is handled by the packing:
//   pack(pB, sK, sN, pP, k, n)   op(B) (element (p, j) at pB + p*sK + j*sN) into 8-column panels: panel q holds
//                                columns 8q..8q+7 row after row (k rows of 32 bytes), the last one zero-padded.
//   gemm(pA, sAm, sAk, pP, pC, ldc, m, n, k, pBias, flags, pS)
//                                op(A)'s element (i, p) at pA + i*sAm + p*sAk; C row i at pC + i*ldc; pBias a
//                                padded copy of the bias (flags & 1), relu when flags & 2; pS 128 bytes of scratch
//                                for the last, partial panel.
// The register block is 4 rows x 8 columns (8 f32x4 accumulators): per step of k, two 16-byte loads of the panel,
// four load32_splat of A and 8 multiply-adds (f32x4.mul + f32x4.add, or f32x4.relaxed_madd in the FMA variant).
// Each output is summed over p = 0..k-1 in order whatever the block, so a row's result does not depend on how
// many rows are multiplied with it.

const I32 = 0x7f;
const V128 = 0x7b;

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

function sleb128(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

// ---- a few instructions -----------------------------------------------------------------------------------
const get = (i: number) => [0x20, ...leb128(i)];
const set = (i: number) => [0x21, ...leb128(i)];
const i32 = (v: number) => [0x41, ...sleb128(v)];
const add = [0x6a];
const sub = [0x6b];
const mul = [0x6c];
const ltS = [0x48];
const geS = [0x4e];
const gtS = [0x4a];
const eq = [0x46];
const and = [0x71];
const shl = [0x74];
const shrU = [0x76];
const simd = (op: number) => [0xfd, ...leb128(op)];
const memarg = (align: number, offset: number) => [align, ...leb128(offset)];
const vload = (offset = 0) => [...simd(0x00), ...memarg(0, offset)];
const vstore = (offset = 0) => [...simd(0x0b), ...memarg(0, offset)];
const loadSplat = [...simd(0x09), ...memarg(0, 0)];
const fload = (offset = 0) => [0x2a, ...memarg(0, offset)];
const fstore = (offset = 0) => [0x38, ...memarg(0, offset)];
const vzero = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const fadd = simd(0xe4);
const fmul = simd(0xe6);
const fmax = simd(0xe9);
const fmadd = simd(0x105); // f32x4.relaxed_madd(a, b, c) = a * b + c

/** `local += delta` for i32 locals (delta an instruction list leaving one i32). */
const addTo = (local: number, delta: number[]) => [...get(local), ...delta, ...add, ...set(local)];
/** while (cond) body — cond leaves an i32. */
const whileLoop = (cond: number[], body: number[]) => [0x02, 0x40, 0x03, 0x40, ...cond, 0x45, 0x0d, 0x01, ...body, 0x0c, 0x00, 0x0b, 0x0b];
const ifElse = (cond: number[], then: number[], otherwise: number[] = []) => [
  ...cond,
  0x04,
  0x40,
  ...then,
  ...(otherwise.length ? [0x05, ...otherwise] : []),
  0x0b,
];

/** Local numbering of one function: params first, then i32 locals, then v128 locals. */
function locals(names: string[], i32Locals: string[], vLocals: string[]): Record<string, number> {
  const at: Record<string, number> = {};
  [...names, ...i32Locals, ...vLocals].forEach((n, i) => (at[n] = i));
  return at;
}

const PACK_PARAMS = ['pB', 'sK', 'sN', 'pP', 'k', 'n'];
const PACK_I32 = ['q', 'nq', 'src', 'dst', 'p', 'cnt', 'c'];

/** pack(pB, sK, sN, pP, k, n): op(B) into zero-padded 8-column panels. */
// eslint-disable-next-line max-lines-per-function -- hand-assembled WebAssembly: the listing of one function
function packBody(): { body: number[]; i32Count: number } {
  const L = locals(PACK_PARAMS, PACK_I32, []);
  const g = (n: string) => get(L[n]!);
  const s = (n: string) => set(L[n]!);
  // element c of the current row: src + c * sN
  const elem = (c: number) => [...g('src'), ...(c ? [...i32(c), ...g('sN'), ...mul, ...add] : [])];
  const copy8Strided: number[] = [];
  for (let c = 0; c < 8; c++) copy8Strided.push(...g('dst'), ...elem(c), ...fload(), ...fstore(c * 4));
  const copy8Contiguous = [...g('dst'), ...g('src'), ...vload(), ...vstore(), ...g('dst'), ...g('src'), ...vload(16), ...vstore(16)];
  const copyPartial = [
    ...g('dst'),
    ...vzero,
    ...vstore(),
    ...g('dst'),
    ...vzero,
    ...vstore(16),
    ...i32(0),
    ...s('c'),
    ...whileLoop(
      [...g('c'), ...g('cnt'), ...ltS],
      [
        ...g('dst'),
        ...g('c'),
        ...i32(2),
        ...shl,
        ...add,
        ...g('src'),
        ...g('c'),
        ...g('sN'),
        ...mul,
        ...add,
        ...fload(),
        ...fstore(),
        ...addTo(L.c!, i32(1)),
      ],
    ),
  ];
  const rows = (copyRow: number[]) => [
    ...i32(0),
    ...s('p'),
    ...whileLoop(
      [...g('p'), ...g('k'), ...ltS],
      [...copyRow, ...addTo(L.src!, g('sK')), ...addTo(L.dst!, i32(32)), ...addTo(L.p!, i32(1))],
    ),
  ];
  const body = [
    ...g('n'),
    ...i32(7),
    ...add,
    ...i32(3),
    ...shrU,
    ...s('nq'),
    ...g('pP'),
    ...s('dst'),
    ...i32(0),
    ...s('q'),
    ...whileLoop(
      [...g('q'), ...g('nq'), ...ltS],
      [
        // src = pB + 8q * sN; cnt = min(8, n - 8q)
        ...g('pB'),
        ...g('q'),
        ...i32(3),
        ...shl,
        ...g('sN'),
        ...mul,
        ...add,
        ...s('src'),
        ...g('n'),
        ...g('q'),
        ...i32(3),
        ...shl,
        ...sub,
        ...s('cnt'),
        ...ifElse(
          [...g('cnt'), ...i32(8), ...geS],
          ifElse([...g('sN'), ...i32(4), ...eq], rows(copy8Contiguous), rows(copy8Strided)),
          rows(copyPartial),
        ),
        ...addTo(L.q!, i32(1)),
      ],
    ),
  ];
  return { body, i32Count: PACK_I32.length };
}

const GEMM_PARAMS = ['pA', 'sAm', 'sAk', 'pP', 'pC', 'ldc', 'm', 'n', 'k', 'pBias', 'flags', 'pS'];
const GEMM_I32 = ['q', 'nq', 'nFull', 'pp', 'jc', 'i', 'b', 'kk', 'a0', 'a1', 'a2', 'a3', 'c', 'crow'];
const GEMM_V = ['av', 'b0', 'b1', 'x00', 'x01', 'x10', 'x11', 'x20', 'x21', 'x30', 'x31'];

/**
 * How op(A) lies in memory: 'rows' (sAk = 4: a row's elements are adjacent, read at constant offsets),
 * 'cols' (sAm = 4: the block's 4 rows are adjacent, read at constant offsets from one pointer), or 'any'.
 */
type ALayout = 'rows' | 'cols' | 'any';
// k steps per loop iteration. 1 measured best: unrolled by 2 or 4, V8's code ran at 25-28 instead of 45-49 GFLOP/s
// here (register pressure in its allocator), so the loop stays rolled and the generator keeps the option.
const UNROLL = 1;

/** One step of k (the u-th of an unrolled group): two panel loads, R splats of A, 2R multiply-adds. */
function kStep(L: Record<string, number>, R: number, fma: boolean, layout: ALayout, u: number): number[] {
  const g = (n: string) => get(L[n]!);
  const s = (n: string) => set(L[n]!);
  const acc = (r: number, h: number) => L[`x${r}${h}`]!;
  const out: number[] = [...g('b'), ...vload(u * 32), ...s('b0'), ...g('b'), ...vload(u * 32 + 16), ...s('b1')];
  for (let r = 0; r < R; r++) {
    if (layout === 'rows') out.push(...g(`a${r}`), ...simd(0x09), ...memarg(0, u * 4));
    else if (layout === 'cols') out.push(...g('a0'), ...simd(0x09), ...memarg(0, r * 4));
    else out.push(...g(`a${r}`), ...loadSplat);
    out.push(...s('av'));
    for (let h = 0; h < 2; h++) {
      const bh = h ? 'b1' : 'b0';
      if (fma) out.push(...g('av'), ...g(bh), ...get(acc(r, h)), ...fmadd, ...set(acc(r, h)));
      else out.push(...get(acc(r, h)), ...g('av'), ...g(bh), ...fmul, ...fadd, ...set(acc(r, h)));
    }
    if (layout === 'any') out.push(...addTo(L[`a${r}`]!, g('sAk')));
  }
  if (layout === 'cols') out.push(...addTo(L.a0!, g('sAk')));
  return out;
}

/** The k loop of one block: groups of UNROLL steps, then the rest one by one. */
function kLoop(L: Record<string, number>, R: number, fma: boolean, layout: ALayout): number[] {
  const g = (n: string) => get(L[n]!);
  const s = (n: string) => set(L[n]!);
  const group: number[] = [];
  for (let u = 0; u < UNROLL; u++) group.push(...kStep(L, R, fma, layout, u));
  if (layout === 'rows') for (let r = 0; r < R; r++) group.push(...addTo(L[`a${r}`]!, i32(UNROLL * 4)));
  group.push(...addTo(L.b!, i32(UNROLL * 32)), ...g('kk'), ...i32(UNROLL), ...sub, ...s('kk'));
  const single = [...kStep(L, R, fma, layout, 0)];
  if (layout === 'rows') for (let r = 0; r < R; r++) single.push(...addTo(L[`a${r}`]!, i32(4)));
  single.push(...addTo(L.b!, i32(32)), ...g('kk'), ...i32(1), ...sub, ...s('kk'));
  const rest = UNROLL > 1 ? whileLoop(g('kk'), single) : [];
  return [...g('pp'), ...s('b'), ...g('k'), ...s('kk'), ...whileLoop([...g('kk'), ...i32(UNROLL - 1), ...gtS], group), ...rest];
}

/** One R x 8 block at rows i..i+R-1 of panel q (full: store straight to C; else through the scratch). */
function tile(L: Record<string, number>, R: number, fma: boolean, full: boolean, layout: ALayout): number[] {
  const g = (n: string) => get(L[n]!);
  const s = (n: string) => set(L[n]!);
  const acc = (r: number, h: number) => L[`x${r}${h}`]!;
  const out: number[] = [];
  for (let r = 0; r < R; r++)
    out.push(...g('pA'), ...g('i'), ...(r ? [...i32(r), ...add] : []), ...g('sAm'), ...mul, ...add, ...s(`a${r}`));
  const init: number[] = [];
  const initBias: number[] = [];
  for (let r = 0; r < R; r++)
    for (let h = 0; h < 2; h++) {
      init.push(...vzero, ...set(acc(r, h)));
      initBias.push(...g('pBias'), ...g('jc'), ...add, ...vload(h * 16), ...set(acc(r, h)));
    }
  out.push(...ifElse([...g('flags'), ...i32(1), ...and], initBias, init));
  out.push(...kLoop(L, R, fma, layout));
  const relu: number[] = [];
  for (let r = 0; r < R; r++) for (let h = 0; h < 2; h++) relu.push(...get(acc(r, h)), ...vzero, ...fmax, ...set(acc(r, h)));
  out.push(...ifElse([...g('flags'), ...i32(2), ...and], relu));
  for (let r = 0; r < R; r++) {
    // crow = pC + (i + r) * ldc + jc
    out.push(...g('pC'), ...g('i'), ...(r ? [...i32(r), ...add] : []), ...g('ldc'), ...mul, ...add, ...g('jc'), ...add, ...s('crow'));
    if (full) {
      out.push(...g('crow'), ...get(acc(r, 0)), ...vstore(), ...g('crow'), ...get(acc(r, 1)), ...vstore(16));
      continue;
    }
    out.push(...g('pS'), ...get(acc(r, 0)), ...vstore(), ...g('pS'), ...get(acc(r, 1)), ...vstore(16));
    out.push(
      ...i32(0),
      ...s('c'),
      ...whileLoop(
        [...g('c'), ...g('n'), ...g('jc'), ...i32(2), ...shrU, ...sub, ...ltS],
        [
          ...g('crow'),
          ...g('c'),
          ...i32(2),
          ...shl,
          ...add,
          ...g('pS'),
          ...g('c'),
          ...i32(2),
          ...shl,
          ...add,
          ...fload(),
          ...fstore(),
          ...addTo(L.c!, i32(1)),
        ],
      ),
    );
  }
  return out;
}

/** gemm(...): every panel, 4-row blocks then the remaining rows one by one. */
function gemmBody(fma: boolean): { body: number[]; i32Count: number; vCount: number } {
  const L = locals(GEMM_PARAMS, GEMM_I32, GEMM_V);
  const g = (n: string) => get(L[n]!);
  const s = (n: string) => set(L[n]!);
  const rowsIn = (full: boolean, layout: ALayout) => [
    ...i32(0),
    ...s('i'),
    ...whileLoop(
      [...g('i'), ...i32(4), ...add, ...g('m'), ...i32(1), ...add, ...ltS],
      [...tile(L, 4, fma, full, layout), ...addTo(L.i!, i32(4))],
    ),
    ...whileLoop([...g('i'), ...g('m'), ...ltS], [...tile(L, 1, fma, full, layout === 'cols' ? 'any' : layout), ...addTo(L.i!, i32(1))]),
  ];
  const rowsOf = (full: boolean) =>
    ifElse(
      [...g('sAk'), ...i32(4), ...eq],
      rowsIn(full, 'rows'),
      ifElse([...g('sAm'), ...i32(4), ...eq], rowsIn(full, 'cols'), rowsIn(full, 'any')),
    );
  const body = [
    ...g('n'),
    ...i32(7),
    ...add,
    ...i32(3),
    ...shrU,
    ...s('nq'),
    ...g('n'),
    ...i32(3),
    ...shrU,
    ...s('nFull'),
    ...g('pP'),
    ...s('pp'),
    ...i32(0),
    ...s('jc'),
    ...i32(0),
    ...s('q'),
    ...whileLoop(
      [...g('q'), ...g('nq'), ...ltS],
      [
        ...ifElse([...g('q'), ...g('nFull'), ...ltS], rowsOf(true), rowsOf(false)),
        ...addTo(L.pp!, [...g('k'), ...i32(5), ...shl]),
        ...addTo(L.jc!, i32(32)),
        ...addTo(L.q!, i32(1)),
      ],
    ),
  ];
  return { body, i32Count: GEMM_I32.length, vCount: GEMM_V.length };
}

/** The module (imports env.memory; exports pack and gemm); `fma` selects the relaxed-SIMD variant. */
export function gemmModuleBytes(fma: boolean): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...leb128(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, ...leb128(body.length), ...body];
  const funcType = (nParams: number) => [0x60, ...leb128(nParams), ...new Array<number>(nParams).fill(I32), 0x00];
  const pack = packBody();
  const gemm = gemmBody(fma);
  const packFunc = [0x01, ...leb128(pack.i32Count), I32, ...pack.body, 0x0b];
  const gemmFunc = [0x02, ...leb128(gemm.i32Count), I32, ...leb128(gemm.vCount), V128, ...gemm.body, 0x0b];
  const code = [0x02, ...leb128(packFunc.length), ...packFunc, ...leb128(gemmFunc.length), ...gemmFunc];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x02, ...funcType(PACK_PARAMS.length), ...funcType(GEMM_PARAMS.length)]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [0x02, 0x00, 0x01]),
    ...section(7, [0x02, ...name('pack'), 0x00, 0x00, ...name('gemm'), 0x00, 0x01]),
    ...section(10, code),
  ]);
}

export type PackFn = (pB: number, sK: number, sN: number, pP: number, k: number, n: number) => void;
export type GemmFn = (
  pA: number,
  sAm: number,
  sAk: number,
  pP: number,
  pC: number,
  ldc: number,
  m: number,
  n: number,
  k: number,
  pBias: number,
  flags: number,
  pS: number,
) => void;
