// The database module: opens the one SQLite file (better-sqlite3, WAL, pragmas), migrates it, runs transactions and
// caches prepared statements. Every repository (runs-repo.ts, metrics-repo.ts, ... and sweep-repo.ts) works through
// one StoreDb. Optionally (in the manner of Signal-Desktop's ts/sql) a store call slower than a threshold is logged.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate, schemaVersion, SCHEMA_VERSION, SchemaVersionError } from './migrations';
import { renameLegacyMetrics } from './metric-renames';

export interface OpenOptions {
  /** Path of the better-sqlite3 addon to load (under Electron, the build for Electron's ABI). */
  nativeBinding?: string;
  /** Log store calls that take at least this many milliseconds (unset: no slow-query log). */
  slowQueryMs?: number;
  /** Where slow calls are reported; default console.warn. */
  onSlowQuery?: (name: string, ms: number) => void;
}

export class StoreDb {
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
    private readonly options: OpenOptions,
  ) {}

  /**
   * Open (creating if needed) the database at `file` and migrate it to the current schema.
   * Throws SchemaVersionError, naming both versions, for a file written by a newer release (left untouched).
   */
  static open(file: string, options: OpenOptions = {}): StoreDb {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
    try {
      db.pragma('busy_timeout = 5000');
      // Refuse a newer file before touching it (even the journal mode).
      const version = schemaVersion(db);
      if (version > SCHEMA_VERSION) throw new SchemaVersionError(file, version, SCHEMA_VERSION);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, file);
      renameLegacyMetrics(db);
    } catch (e) {
      db.close();
      if (e instanceof SchemaVersionError) throw e;
      throw new Error(`cannot open the run database ${file}: ${(e as Error).message}`, { cause: e });
    }
    return new StoreDb(db, file, options);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    try {
      this.db.pragma('optimize');
    } catch {
      /* best effort */
    }
    this.db.close();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Schema version of the open file (PRAGMA user_version). */
  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** PRAGMA integrity_check: ['ok'] for a sound file. */
  integrityCheck(): string[] {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  /** Run fn as one transaction (nested calls become savepoints). fn must be synchronous. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The prepared statement for this SQL text, prepared once and cached (at most about 500). */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size > 500) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Run one store call; with a slow-query threshold set, report it when it took at least that long. */
  timed<T>(name: string, fn: () => T): T {
    const threshold = this.options.slowQueryMs;
    if (threshold === undefined) return fn();
    const start = performance.now();
    try {
      return fn();
    } finally {
      const ms = performance.now() - start;
      if (ms >= threshold) (this.options.onSlowQuery ?? defaultSlowLog)(name, ms);
    }
  }
}

function defaultSlowLog(name: string, ms: number): void {
  console.warn(`run store: slow call ${name} took ${ms.toFixed(1)} ms`);
}
