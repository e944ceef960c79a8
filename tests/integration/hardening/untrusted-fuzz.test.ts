// Issue 23: a property-based fuzz of the untrusted sources, beside the web host's (web-host-fuzz.test.ts): bundles
// (byte flips, truncations, manifest mutations), JSON from outside (nesting, sizes), task databases (random tables
// and views under the names the store reads, random values) and dataset files (CSV / IDX / NPY bytes). Every case
// either succeeds or is refused with an ApiError (a message, an API code): never another exception, never a hang.
// Bounded in count and in time.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import { repack, smallBundle } from './bundle-fixture';
import { TaskHomeStore, parseBundle, parseImportFile, parseUntrustedJson } from '../../built';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vae-untrusted-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LIMIT = { interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false } as const;

/** Run `fn`; it may succeed or throw an ApiError (any code but internal), nothing else. */
function refusedOrFine(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof Error) || !('code' in err) || (err as ApiError).code === 'internal')
      throw new Error(`not an API refusal: ${(err as Error)?.name}: ${(err as Error)?.message}`);
    expect((err as Error).message.length).toBeGreaterThan(0);
  }
}

describe('fuzz: untrusted sources', () => {
  const good = smallBundle();

  it('bundles: flipped bytes and truncations are refused with a message', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat(good.length), { nil: undefined }),
        (flips, cut) => {
          const bytes = good.slice(0, cut ?? good.length);
          for (const [i, v] of flips) if (i < bytes.length) bytes[i] = v;
          refusedOrFine(() => parseBundle(bytes));
        },
      ),
      { numRuns: 300, ...LIMIT },
    );
  });

  it('bundles: manifests with arbitrary JSON in their fields (deep, wide, wrong types) are refused with a message', () => {
    const deepJson = fc.integer({ min: 1, max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n));
    fc.assert(
      fc.property(
        fc.constantFrom('run.name', 'run.config', 'run.tags', 'snapshots', 'checkpoint.metrics', 'metrics', 'run.dataset.shape'),
        fc.oneof(fc.jsonValue({ maxDepth: 6 }), deepJson),
        (field, value) => {
          const text = typeof value === 'string' && value.startsWith('[') ? value : JSON.stringify(value ?? null);
          const bytes = repack(
            good,
            (_files, m) => {
              const keys = field.split('.');
              let o = m;
              for (const k of keys.slice(0, -1)) o = o[k];
              o[keys[keys.length - 1]!] = '__FUZZ__';
            },
            undefined,
            (json) => json.replace('"__FUZZ__"', text),
          );
          refusedOrFine(() => parseBundle(bytes));
        },
      ),
      { numRuns: 200, ...LIMIT },
    );
  });

  it('JSON text from outside: any string is parsed or refused, never a stack overflow', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v)),
          fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) => open.repeat(n)),
        ),
        (text) => refusedOrFine(() => parseUntrustedJson(text, 'fuzz')),
      ),
      { numRuns: 500, ...LIMIT },
    );
  });

  it('task databases: random tables and views under the names the store reads are read or refused', () => {
    const column = fc.constantFrom('id', 'name', 'status', 'last_step', 'last_epoch', 'run_id', 'step', 'epoch', 'time', 'value', 'x');
    const value = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 300 }), fc.constant(null), fc.uint8Array({ maxLength: 8 }));
    let n = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.constantFrom('runs', 'metrics', 'artifacts', 'checkpoints', 'run_log', 'run_tags'),
            view: fc.boolean(),
            columns: fc.uniqueArray(column, { minLength: 1, maxLength: 6 }),
            rows: fc.array(fc.array(value, { minLength: 6, maxLength: 6 }), { maxLength: 5 }),
          }),
          { maxLength: 6 },
        ),
        (tables) => {
          const home = path.join(dir, `task-${n++}`);
          mkdirSync(home, { recursive: true });
          const db = new Database(path.join(home, 'workbench.sqlite'));
          const made = new Set<string>();
          for (const t of tables) {
            if (made.has(t.name)) continue;
            made.add(t.name);
            const cols = t.columns.join(', ');
            if (t.view) db.exec(`CREATE VIEW ${t.name} AS SELECT ${t.columns.map((c, i) => `${i} AS ${c}`).join(', ')}`);
            else {
              db.exec(`CREATE TABLE ${t.name} (${cols})`);
              const insert = db.prepare(`INSERT INTO ${t.name} VALUES (${t.columns.map(() => '?').join(', ')})`);
              for (const r of t.rows)
                insert.run(...r.slice(0, t.columns.length).map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)));
            }
          }
          db.close();
          refusedOrFine(() => {
            const store = TaskHomeStore.open(home, 'fuzz task');
            if (!store) return;
            try {
              const p = store.progress();
              store.series('train/loss', 20);
              if (p) {
                store.run();
                store.metrics(p.runId);
                store.artifacts(p.runId);
                store.log(p.runId);
                store.checkpoints(p.runId);
              }
            } finally {
              store.close();
            }
          });
        },
      ),
      { numRuns: 60, ...LIMIT },
    );
  });

  it('dataset files: CSV, IDX and NPY bytes are parsed or refused naming the file', () => {
    let n = 0;
    const csvText = fc
      .array(
        fc.array(fc.oneof(fc.double({ noNaN: true }).map(String), fc.constantFrom('', 'x', '1e999', ' 3 ', '"a"')), { maxLength: 6 }),
        {
          maxLength: 12,
        },
      )
      .map((rows) => rows.map((r) => r.join(',')).join('\n'));
    const idxBytes = fc
      .tuple(
        fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x01),
        fc.integer({ min: 0, max: 9 }),
        fc.array(fc.nat(300), { maxLength: 4 }),
        fc.uint8Array({ maxLength: 600 }),
      )
      .map(([type, nd, dims, body]) => {
        const h = Buffer.alloc(4 + 4 * dims.length);
        h[2] = type;
        h[3] = nd;
        dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
        return Buffer.concat([h, body]);
      });
    const npyBytes = fc
      .tuple(
        fc.constantFrom('<f4', '<f8', '|u1', '<i4', '>f4', 'x'),
        fc.array(fc.nat(50), { maxLength: 4 }),
        fc.uint8Array({ maxLength: 400 }),
      )
      .map(([descr, shape, body]) => {
        const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
        const h = Buffer.alloc(10);
        Buffer.from('\x93NUMPY', 'latin1').copy(h);
        h[6] = 1;
        h.writeUInt16LE(header.length, 8);
        return Buffer.concat([h, Buffer.from(header, 'latin1'), body]);
      });
    fc.assert(
      fc.property(
        fc.oneof(
          csvText.map((t) => ['csv', Buffer.from(t)] as const),
          idxBytes.map((b) => ['idx', b] as const),
          npyBytes.map((b) => ['npy', b] as const),
        ),
        ([format, bytes]) => {
          const file = path.join(dir, `data-${n++}.${format}`);
          writeFileSync(file, bytes);
          refusedOrFine(() => parseImportFile(file, format));
        },
      ),
      { numRuns: 400, ...LIMIT },
    );
  });
});
