import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchStore } from '../built';

describe('store benchmark', () => {
  it('runs on a small database and reports sane figures', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'store-bench-test-'));
    try {
      const r = await benchStore({ runs: 30, points: 600, dir, bigRunPoints: 5000, repeats: 3 });
      expect(r.totalPoints).toBe(30 * 601);
      expect(r.insertSeconds).toBeGreaterThan(0);
      // latentDim cycles 2,5,10,20,50 and status completed,completed,completed,failed,cancelled: r % 5 in {1, 2} match.
      expect(r.filterMatches).toBe(12);
      expect(r.seriesPointsReturned).toBe(10 * 500);
      for (const ms of [r.listMs, r.filterMs, r.seriesMs, r.bigSeriesMs!]) {
        expect(ms).toBeGreaterThan(0);
        expect(ms).toBeLessThan(2000);
      }
      expect(readdirSync(dir)).toEqual([]); // the bench removes its database
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
