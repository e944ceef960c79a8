// The web host's budget of bundle-upload bytes held in memory at once (src-main/hosts/web/upload-budget.ts): uploads
// are read before they take the heavy slot, so several may be in memory together, never more than the budget.
import { describe, expect, it } from 'vitest';
import { UploadBudget } from '../../src-main/hosts/web/upload-budget';

describe('UploadBudget', () => {
  it('refuses an upload that would pass the budget, naming WEB_MAX_UPLOAD_BYTES, and takes it once bytes are given back', () => {
    const budget = new UploadBudget(1000);
    const a = budget.reserve(600, 'bundles.import');
    expect(() => budget.reserve(600, 'bundles.import')).toThrow(/WEB_MAX_UPLOAD_BYTES/);
    const b = budget.reserve(400, 'bundles.import');
    a();
    a(); // giving back twice gives back once
    expect(() => budget.reserve(700, 'bundles.import')).toThrow(/busy|WEB_MAX_UPLOAD_BYTES/);
    const c = budget.reserve(600, 'bundles.import');
    b();
    c();
    expect(() => budget.reserve(1000, 'bundles.import')).not.toThrow();
  });

  it('always lets one upload in when nothing is held, even one larger than the budget (the body limit bounds it)', () => {
    expect(() => new UploadBudget(10).reserve(100, 'bundles.import')).not.toThrow();
  });
});
