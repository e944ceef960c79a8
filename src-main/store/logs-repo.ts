// The log of a run (time, level, message): append, and read the newest entries.
import type { LogEntry } from '@shared/model-types';
import type { StoreDb } from './db';

export class LogsRepo {
  constructor(private readonly sql: StoreDb) {}

  log(runId: number, level: LogEntry['level'], message: string, time: number = Date.now()): void {
    this.sql.stmt('INSERT INTO run_log (run_id, time, level, message) VALUES (?, ?, ?, ?)').run(runId, time, level, message);
  }

  /** The newest `limit` log entries of a run, oldest first. */
  getLog(runId: number, limit = 500): LogEntry[] {
    const rows = this.sql
      .stmt(
        'SELECT run_id AS runId, time, level, message FROM (SELECT * FROM run_log WHERE run_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
      )
      .all(runId, Math.max(0, Math.floor(limit))) as LogEntry[];
    return rows;
  }
}
