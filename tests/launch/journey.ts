// What both launch tests do in the window (the stand-in's Chromium page, or real Electron's window).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (window.location.hash = h), hash);
}

/** Launch the Quick test preset from the form with some fields changed; returns the run id. */
export async function launchFromForm(page: Page, fields: Record<string, string>): Promise<number> {
  await go(page, '#/launch?preset=quick-test');
  await page.locator('#f-model-latentDim').waitFor();
  await expect.poll(() => page.locator('#f-name').inputValue()).toBe('quick-test');
  for (const [id, value] of Object.entries(fields)) await page.fill(id, value);
  await expect.poll(() => page.getByText('Config is valid.').count()).toBe(1);
  await page.getByRole('button', { name: 'Launch run' }).click();
  await page.waitForURL(/#\/run\/\d+$/, { timeout: 30_000 });
  return Number(/#\/run\/(\d+)$/.exec(page.url())![1]);
}

export function statusOf(page: Page): Promise<string | null> {
  return page.locator('.view-head .status').first().getAttribute('data-status');
}

/** Pids of the children of `parent` running the built trainer (out/main/trainer.js). */
export function trainerChildren(parent: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((l) => l.includes(path.join('out', 'main', 'trainer.js')))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function runStatus(home: string, runId: number): string {
  const db = new Database(path.join(home, 'workbench.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string }).status;
  } finally {
    db.close();
  }
}
